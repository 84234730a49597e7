"""A9 Dependency gate: third-party imports must be declared in a manifest."""

from __future__ import annotations

from checks import a9_dependencies as a9
from checks.cache import MemoryCache
from checks.config import AuditConfig
from checks.context import Verdict
from tests.checks.gitaudit import audit, result
from tests.checks.memsource import Files, make_ctx
from tests.fixtures.gitrepo import GitRepo

REQS = {"requirements.txt": "requests>=2\n"}


def run(head: Files, base: Files | None = None, *, full: bool = False) -> Verdict:
    return a9.run(make_ctx(head, base, full=full))


def messages(verdict: Verdict) -> list[str]:
    return [f.message for f in verdict.findings]


def test_declared_import_passes() -> None:
    verdict = run({**REQS, "app/x.py": "import requests\n"})
    assert verdict.outcome == "pass"
    assert verdict.detail == "All 1 third-party import(s) in 1 source file(s) are declared."


def test_undeclared_import_fails_with_the_finding_text_of_the_spec() -> None:
    verdict = run({**REQS, "app/x.py": "import os\n\nimport numpy.linalg\n"})
    assert verdict.outcome == "fail"
    assert messages(verdict) == [
        "app/x.py:3 imports 'numpy.linalg' but requirements.txt does not declare 'numpy'"
    ]
    assert verdict.findings[0].start_line == 3


def test_no_source_file_in_the_change_is_a_skip() -> None:
    verdict = run({**REQS, "README.md": "hello\n"})
    assert verdict.outcome == "skip"


def test_only_changed_files_are_read_without_full() -> None:
    base = {**REQS, "old.py": "import numpy\n"}
    head = {**base, "new.py": "import requests\n"}
    assert run(head, base).outcome == "pass"
    assert run(head, base, full=True).outcome == "fail"


def test_a_python_or_js_file_over_5_mb_is_a_notice_and_its_imports_are_not_read() -> None:
    big = "import numpy\n" + "x = 1\n" * (a9.MAX_PARSE_BYTES // 6 + 1)
    files = {
        **REQS,
        "package.json": "{}",
        "app/big.py": big,
        "web/big.js": "import x from 'left-pad';\n" + big,
    }
    verdict = run({**files, "app/ok.py": "import requests\n"})
    assert verdict.outcome == "pass"
    notices = [(f.path, f.message, f.level) for f in verdict.findings]
    too_large = "too large to parse (over 5 MB); imports not checked"
    assert notices == [("app/big.py", too_large, "notice"), ("web/big.js", too_large, "notice")]


def test_import_a_comma_b_gives_two_imports() -> None:
    verdict = run({**REQS, "x.py": "import requests, flask\n"})
    assert messages(verdict) == ["x.py:1 imports 'flask' but requirements.txt does not declare 'Flask'"]


def test_future_zoneinfo_and_graphlib_are_standard_library() -> None:
    source = "from __future__ import annotations\nimport zoneinfo\nimport graphlib\n"
    assert run({**REQS, "x.py": source}).outcome == "pass"


def test_prose_line_starting_with_from_is_not_an_import() -> None:
    source = '"""Module.\n\nfrom the beginning we import nothing\nimport flask\n"""\n'
    source += "x = 1  # from y import z\n"
    assert run({**REQS, "x.py": source}).outcome == "pass"


def test_indented_imports_at_any_depth_are_found() -> None:
    source = "def f():\n    if True:\n        import flask\n"
    assert messages(run({**REQS, "x.py": source})) == [
        "x.py:3 imports 'flask' but requirements.txt does not declare 'Flask'"
    ]


def test_relative_imports_are_local() -> None:
    assert run({**REQS, "pkg/a.py": "from . import b\nfrom ..c import d\n"}).outcome == "pass"


def test_a_file_that_does_not_parse_is_one_finding_and_fails() -> None:
    verdict = run({**REQS, "x.py": "import requests\n\ndef f(:\n    pass\n"})
    assert verdict.outcome == "fail"
    assert messages(verdict) == ["syntax error at line 3"]
    assert verdict.findings[0].start_line == 3


def test_first_party_packages_and_modules_are_local() -> None:
    head = {
        **REQS,
        "myapp/__init__.py": "",
        "myapp/core.py": "import helpers\nfrom myapp import util\n",
        "helpers.py": "",
    }
    assert run(head).outcome == "pass"


def test_src_layout_packages_are_local() -> None:
    head = {
        "pyproject.toml": '[project]\nname = "thing"\ndependencies = []\n',
        "src/thing/__init__.py": "",
        "src/thing/core.py": "from thing import other\n",
        "tests/test_core.py": "import thing.core\nfrom tests import helpers\n",
    }
    assert run(head).outcome == "pass"


def test_the_projects_own_distribution_name_is_local() -> None:
    head = {
        "pyproject.toml": '[project]\nname = "my-tool"\n',
        "scripts/run.py": "import my_tool\n",
    }
    assert run(head).outcome == "pass"


def test_mapping_resolves_import_names_to_distributions() -> None:
    reqs = "PyYAML\nPyJWT\nPillow\nopencv-python\nscikit-learn\nbeautifulsoup4\npython-dotenv\n"
    reqs += "python-jose\nattrs\npython-dateutil\nprotobuf\n"
    source = "\n".join(
        f"import {m}"
        for m in (
            "yaml",
            "jwt",
            "PIL",
            "cv2",
            "sklearn",
            "bs4",
            "dotenv",
            "jose",
            "attr",
            "dateutil",
            "google.protobuf",
        )
    )
    assert run({"requirements.txt": reqs, "x.py": source}).outcome == "pass"


def test_undeclared_mapped_import_names_the_distribution() -> None:
    verdict = run({**REQS, "x.py": "import yaml\n"})
    assert messages(verdict) == ["x.py:1 imports 'yaml' but requirements.txt does not declare 'PyYAML'"]


def test_names_compare_normalized() -> None:
    head = {"requirements.txt": "Python_Dateutil==2.9\n", "x.py": "import dateutil\n"}
    assert run(head).outcome == "pass"


def test_requirements_comments_do_not_declare() -> None:
    head = {
        "requirements.txt": "requests  # needs flask later\n# numpy\n",
        "x.py": "import flask\nimport numpy\n",
    }
    assert len(run(head).findings) == 2


def test_requirements_r_include_is_followed() -> None:
    head = {
        "requirements.txt": "-r requirements/base.txt\n",
        "requirements/base.txt": "flask\n",
        "x.py": "import flask\n",
    }
    assert run(head).outcome == "pass"


def test_pyproject_optional_dependencies_groups_and_poetry_declare() -> None:
    pyproject = """
[project]
name = "p"
dependencies = ["requests>=2; python_version>'3'"]
[project.optional-dependencies]
fast = ["orjson"]
[dependency-groups]
dev = ["pytest", {include-group = "x"}]
[tool.poetry.dependencies]
python = "^3.11"
click = "^8"
[tool.poetry.group.docs.dependencies]
mkdocs = "*"
"""
    source = "import requests\nimport orjson\nimport click\nimport mkdocs\n"
    head = {
        "pyproject.toml": pyproject,
        "app/__init__.py": "",
        "app/x.py": source,
        "tests/test_x.py": "import pytest\n",
    }
    assert run(head).outcome == "pass"


def test_setup_cfg_install_requires_declares() -> None:
    cfg = "[metadata]\nname = p\n[options]\ninstall_requires =\n    requests\n    flask>=2\n"
    assert run({"setup.cfg": cfg, "x.py": "import flask\n"}).outcome == "pass"


def test_forge_json_dependency_file_is_the_manifest() -> None:
    head = {
        "forge.json": '{"backend": {"dependency_file": "backend/reqs.txt"}}',
        "backend/reqs.txt": "flask\n",
        "requirements.txt": "",
        "backend/app.py": "import flask\n",
    }
    assert run(head).outcome == "pass"


def test_no_manifest_with_third_party_imports_fails_naming_them() -> None:
    verdict = run({"x.py": "import flask\n"})
    assert verdict.outcome == "fail"
    assert verdict.detail.startswith("No dependency manifest, but third-party imports exist: flask (x.py:1)")


def test_nearest_python_manifest_governs_a_subfolder() -> None:
    head = {"requirements.txt": "", "svc/requirements.txt": "flask\n", "svc/app.py": "import flask\n"}
    assert run(head).outcome == "pass"


def test_unparseable_pyproject_is_named_in_the_detail() -> None:
    verdict = run({"pyproject.toml": "[project\n", "x.py": "import flask\n"})
    assert verdict.outcome == "fail"
    assert "pyproject.toml does not parse" in verdict.detail


# JavaScript / TypeScript

PKG = '{"name": "web", "dependencies": {"react": "18", "@scope/ui": "1"}, "devDependencies": {"vitest": "1"}}'


def test_js_declared_imports_pass() -> None:
    source = (
        "import React from 'react';\nimport { B } from '@scope/ui/button';\n"
        "const v = require('vitest');\nexport * from './local';\nconst m = await import('react/jsx');\n"
    )
    assert run({"package.json": PKG, "src/a.js": source}).outcome == "pass"


def test_js_scoped_package_undeclared_names_scope_and_name() -> None:
    verdict = run({"package.json": PKG, "a.ts": "import x from '@other/pkg/deep';\n"})
    assert messages(verdict) == [
        "a.ts:1 imports '@other/pkg/deep' but package.json does not declare '@other/pkg'"
    ]


def test_js_node_builtins_with_and_without_prefix_are_local() -> None:
    source = "import fs from 'node:fs';\nimport path from 'path';\nconst p = require('fs/promises');\n"
    assert run({"package.json": PKG, "a.mjs": source}).outcome == "pass"


def test_js_imports_in_comments_and_strings_do_not_count() -> None:
    source = "// import x from 'lodash'\nconst s = \"require('lodash')\";\n/* import('lodash') */\n"
    assert run({"package.json": PKG, "a.js": source}).outcome == "pass"


def test_tsconfig_path_aliases_are_local() -> None:
    tsconfig = (
        '{\n  // comment\n  "compilerOptions": {"baseUrl": ".",'
        ' "paths": {"@/*": ["src/*"], "~lib": ["lib"],},},\n}'
    )
    source = "import a from '@/components/a';\nimport b from '~lib';\n"
    assert run({"package.json": PKG, "tsconfig.json": tsconfig, "src/x.tsx": source}).outcome == "pass"


def test_tsconfig_base_url_resolves_bare_specifiers_to_files() -> None:
    tsconfig = '{"compilerOptions": {"baseUrl": "src"}}'
    head = {
        "package.json": PKG,
        "tsconfig.json": tsconfig,
        "src/utils/x.ts": "",
        "src/a.ts": "import 'utils/x';\n",
    }
    assert run(head).outcome == "pass"


def test_nearest_package_json_governs_a_js_file() -> None:
    head = {
        "package.json": '{"dependencies": {}}',
        "web/package.json": '{"dependencies": {"vue": "3"}}',
        "web/src/main.js": "import { createApp } from 'vue';\n",
    }
    assert run(head).outcome == "pass"


def test_typescript_import_equals_require_is_an_import() -> None:
    verdict = run({"package.json": PKG, "a.ts": "import x = require('lodash');\n"})
    assert messages(verdict) == ["a.ts:1 imports 'lodash' but package.json does not declare 'lodash'"]


# bad input


def test_undecodable_bytes_and_a_bom_do_not_break_the_check() -> None:
    head: Files = {
        **REQS,
        "x.py": b"\xef\xbb\xbfimport requests\n# \xff\xfe\n",
        "y.js": b"import './\xff';\n",
    }
    verdict = run(head)
    assert verdict.outcome == "pass"


def test_null_bytes_in_a_python_file_are_a_syntax_error() -> None:
    verdict = run({**REQS, "x.py": "import requests\x00\n"})
    assert messages(verdict) == ["syntax error at line 1"]


def test_a_huge_python_file_is_noted_not_parsed() -> None:
    big = "x = 1\n" * (1024 * 1024)
    verdict = run({**REQS, "big.py": big, "x.py": "import requests\n"})
    assert verdict.outcome == "pass"
    assert [(f.path, f.level) for f in verdict.findings] == [("big.py", "notice")]


def test_results_come_from_the_cache_on_a_second_run() -> None:
    cache = MemoryCache()
    ctx = make_ctx({**REQS, "x.py": "import flask\n"}, cache=cache)
    first = a9.run(ctx)
    ctx2 = make_ctx({**REQS, "x.py": "import flask\n"}, cache=cache)
    second = a9.run(ctx2)
    assert messages(first) == messages(second)
    assert "x.py" not in ctx2.head.reads  # type: ignore[attr-defined]


def test_wants_lists_sources_and_their_manifests_only() -> None:
    head = {**REQS, "x.py": "import flask\n", "docs/readme.md": "", "web/package.json": "{}", "web/a.js": ""}
    wanted = set(a9.wants(make_ctx(head)))
    assert wanted == {"forge.json", "x.py", "requirements.txt", "web/a.js", "web/package.json"}


def test_modules_shipped_inside_another_distribution_come_from_the_mapping_data() -> None:
    assert run({"requirements.txt": "setuptools\n", "x.py": "import pkg_resources\n"}).outcome == "pass"
    assert run({"requirements.txt": "requests\n", "x.py": "import pkg_resources\n"}).outcome == "fail"


def test_what_is_installed_where_forgeguard_runs_does_not_change_the_answer() -> None:
    # rpds-py is installed here (a jsonschema dependency) and provides `rpds`, which the mapping does not list
    verdict = run({"requirements.txt": "rpds-py\n", "x.py": "import rpds\n"})
    assert messages(verdict) == ["x.py:1 imports 'rpds' but requirements.txt does not declare 'rpds'"]


# on a real git repository, through the engine


def test_git_undeclared_import_in_a_changed_file_fails(git_repo: GitRepo) -> None:
    base = git_repo.commit({"requirements.txt": "requests\n", "a.py": "import requests\n"})
    head = git_repo.commit({"b.py": "import os\n\nimport yaml\n"})
    found = result(audit(git_repo, base, head), "A9")
    assert [f.message for f in found.findings] == [
        "b.py:3 imports 'yaml' but requirements.txt does not declare 'PyYAML'"
    ]
    assert found.outcome == "fail"


def test_git_full_reads_every_source_file(git_repo: GitRepo) -> None:
    base = git_repo.commit({"requirements.txt": "", "old.py": "import numpy\n"})
    head = git_repo.commit({"new.py": "import os\n"})
    assert result(audit(git_repo, base, head), "A9").outcome == "pass"
    assert result(audit(git_repo, base, head, full=True), "A9").outcome == "fail"


def test_a_50_megabyte_python_file_is_noted_not_parsed() -> None:
    head = {**REQS, "huge.py": "import numpy\n" * (50 * 1024 * 1024 // 13)}
    verdict = a9.run(make_ctx(head, head, full=True))
    assert verdict.outcome == "pass"
    assert [(f.path, f.level) for f in verdict.findings] == [("huge.py", "notice")]


def test_wants_leaves_out_files_whose_imports_are_cached() -> None:
    cache = MemoryCache()
    head = {**REQS, "a.py": "import requests\n", "b.py": "import os\n", "c.js": "import 'x';\n"}
    a9.run(make_ctx({**REQS, "a.py": "import requests\n", "c.js": "import 'x';\n"}, cache=cache))
    assert set(a9.wants(make_ctx(head, cache=cache))) == {"forge.json", "b.py", "requirements.txt"}


def test_full_leaves_out_paths_ignore() -> None:
    head = {**REQS, "vendor/lib.py": "import numpy\n"}
    ctx = make_ctx(head, head, full=True, config=AuditConfig(paths_ignore=["vendor/"]))
    assert a9.run(ctx).outcome == "skip"


def test_main_and_typeshed_are_not_third_party() -> None:
    head = {**REQS, "x.py": "import __main__\n", "y.pyi": "from _typeshed import StrPath\n"}
    assert run(head).outcome == "pass"
