"""A9 resolves imports as Python and packaging do: manifests people use, first-party modules,
namespace packages, the standard library of every supported Python, vendored code, dropped imports.
"""

from __future__ import annotations

from checks import a9_dependencies as a9
from checks.config import AuditConfig
from checks.context import Verdict
from tests.checks.memsource import Files, make_ctx

SETUP_PY = """\
from setuptools import setup

REQUIRES = ["requests>=2", "click"]

setup(
    name="tool",
    install_requires=REQUIRES + ["attrs"],
    extras_require={"yaml": ["PyYAML"], "test": ["pytest"]},
    tests_require=["hypothesis"],
)
"""


def run(head: Files, *, full: bool = True, config: AuditConfig | None = None) -> Verdict:
    return a9.run(make_ctx(head, full=full, config=config))


def messages(verdict: Verdict) -> list[str]:
    return [f.message for f in verdict.findings]


# 3. manifests people actually use


def test_setup_py_is_read_statically_with_its_extras() -> None:
    source = "import requests\nimport click\nimport attr\nimport yaml\n"
    assert run({"setup.py": SETUP_PY, "tool/__init__.py": source}).outcome == "pass"


def test_setup_py_test_requirements_declare_test_files_only() -> None:
    head = {
        "setup.py": SETUP_PY,
        "tool/__init__.py": "import pytest\n",
        "tests/test_x.py": "import hypothesis\n",
    }
    assert messages(run(head)) == [
        "tool/__init__.py:1 imports 'pytest' but setup.py declares 'pytest' only for tests"
    ]


def test_a_setup_py_value_that_is_not_a_literal_is_said_in_the_detail() -> None:
    setup = "from setuptools import setup\nsetup(name='t', install_requires=open('r.txt').read().split())\n"
    verdict = run({"setup.py": setup, "t/__init__.py": "import os\n"})
    assert "setup.py: install_requires is computed, not a literal (not read)" in verdict.detail


def test_requirements_folder_and_dash_named_files_are_manifests() -> None:
    head = {
        "requirements/base.txt": "httpx\n",
        "requirements/tests.txt": "-r base.txt\npytest\n",
        "docs-requirements.txt": "sphinx\n",
        "app/__init__.py": "import httpx\nimport sphinx\n",
        "tests/test_app.py": "import pytest\n",
    }
    assert run(head).outcome == "pass"


def test_a_tests_requirements_file_does_not_declare_the_package_s_imports() -> None:
    head = {
        "requirements.txt": "httpx\n",
        "dev-requirements.txt": "pytest\n",
        "app/__init__.py": "import pytest\n",
    }
    assert messages(run(head)) == [
        "app/__init__.py:1 imports 'pytest' but dev-requirements.txt, requirements.txt"
        " declare 'pytest' only for tests"
    ]


def test_when_nothing_declares_it_the_detail_names_the_manifests_read() -> None:
    head = {
        "pyproject.toml": '[project]\nname = "a"\n',
        "requirements.txt": "httpx\n",
        "a/__init__.py": "import rich\n",
    }
    verdict = run(head)
    assert messages(verdict) == [
        "a/__init__.py:1 imports 'rich' but none of pyproject.toml, requirements.txt declares 'rich'"
    ]
    assert "Manifests read: pyproject.toml, requirements.txt." in verdict.detail


def test_build_requirements_declare_setup_py_only() -> None:
    pyproject = '[build-system]\nrequires = ["setuptools", "Cython"]\n[project]\nname = "p"\n'
    head = {"pyproject.toml": pyproject, "setup.py": "import Cython\n", "p/__init__.py": "import Cython\n"}
    assert messages(run(head)) == [
        "p/__init__.py:1 imports 'Cython' but pyproject.toml, setup.py"
        " declare 'Cython' only for setup.py (build requirements)"
    ]


# 4. first-party as Python resolves it


def test_a_module_inside_a_package_does_not_make_a_third_party_name_local() -> None:
    head = {
        "pyproject.toml": '[project]\nname = "sym"\n',
        "sym/__init__.py": "",
        "sym/printing/__init__.py": "",
        "sym/printing/numpy.py": "import numpy\n",
        "sym/testing/__init__.py": "",
        "sym/testing/pytest.py": "import pytest\n",
    }
    assert messages(run(head)) == [
        "sym/printing/numpy.py:1 imports 'numpy' but pyproject.toml does not declare 'numpy'",
        "sym/testing/pytest.py:1 imports 'pytest' but pyproject.toml does not declare 'pytest'",
    ]


def test_top_level_packages_of_the_root_src_and_packaging_folders_are_first_party() -> None:
    pyproject = '[project]\nname = "x"\n[tool.setuptools.packages.find]\nwhere = ["lib"]\n'
    head = {
        "pyproject.toml": pyproject,
        "src/core/__init__.py": "import helpers\nimport plugins\nimport tool\n",
        "lib/helpers/__init__.py": "",
        "plugins.py": "",
        "tool/__init__.py": "",
    }
    assert run(head).outcome == "pass"


def test_modules_of_a_test_tree_are_local_to_its_files() -> None:
    head = {
        "pyproject.toml": '[project]\nname = "app"\n',
        "tests/admin/tests.py": "from utils import make\nimport models\n",
        "tests/utils.py": "",
        "tests/admin/models.py": "",
        "app/__init__.py": "import utils\n",
    }
    assert messages(run(head)) == [
        "app/__init__.py:1 imports 'utils' but pyproject.toml does not declare 'utils'"
    ]


def test_a_script_folder_s_own_modules_are_local_to_its_scripts() -> None:
    head = {"requirements.txt": "", "scripts/release.py": "import common\n", "scripts/common.py": ""}
    assert run(head).outcome == "pass"


# 5. import name -> distribution


def test_namespace_packages_map_by_dotted_prefix() -> None:
    reqs = "azure-identity\nazure-storage-blob\ngoogle-cloud-secret-manager\n"
    source = "import azure.identity\nfrom azure.storage.blob import BlobClient\n"
    source += "from google.cloud import secretmanager\nimport google.cloud.secretmanager\n"
    assert run({"requirements.txt": reqs, "x.py": source}).outcome == "pass"


def test_modules_shipped_inside_another_distribution() -> None:
    source = "import _pytest.fixtures\nimport argon2\n"
    assert run({"requirements.txt": "PyTest\nargon2-cffi\n", "x.py": source}).outcome == "pass"


def test_names_compare_pep_503_normalised_on_both_sides() -> None:
    assert (
        run({"requirements.txt": "Typing.Extensions\n", "x.py": "import typing_extensions\n"}).outcome
        == "pass"
    )


# 6. the standard library of every supported Python


def test_modules_added_to_the_standard_library_later_are_standard() -> None:
    source = "import tomllib\nimport annotationlib\nimport graphlib\n"
    assert run({"requirements.txt": "", "x.py": source}).outcome == "pass"


def test_modules_removed_from_the_standard_library_are_standard_for_projects_that_support_old_pythons() -> (
    None
):
    old = '[project]\nname = "p"\nrequires-python = ">=3.8"\n'
    new = '[project]\nname = "p"\nrequires-python = ">=3.13"\n'
    assert run({"pyproject.toml": old, "x.py": "import imp\n"}).outcome == "pass"
    assert run({"pyproject.toml": new, "x.py": "import imp\n"}).outcome == "fail"


# 7. vendored code


def test_vendored_files_are_not_audited_and_the_detail_says_how_many() -> None:
    head = {
        "requirements.txt": "",
        "third_party/lib/x.py": "import numpy\n",
        "node_modules/left-pad/index.js": "require('nothing')\n",
        "app/__init__.py": "import os\n",
    }
    verdict = run(head)
    assert verdict.outcome == "pass"
    assert "2 vendored or test-data file(s) not audited" in verdict.detail


def test_audit_vendored_true_audits_them() -> None:
    head = {"requirements.txt": "", "third_party/lib/x.py": "import numpy\n"}
    assert run(head, config=AuditConfig(audit_vendored=True)).outcome == "fail"


def test_modules_in_a_vendor_folder_on_the_import_path_are_first_party() -> None:
    head = {"requirements.txt": "", "pkg/__init__.py": "import six\n", "pkg/_vendor/six.py": ""}
    assert run(head).outcome == "pass"


# 8. imports the compiler drops, compile errors, files that do not parse


def test_an_import_the_compiler_drops_is_still_checked() -> None:
    verdict = run({"requirements.txt": "", "x.py": "if 0:\n    import numpy\n"})
    assert messages(verdict) == ["x.py:2 imports 'numpy' but requirements.txt does not declare 'numpy'"]


def test_a_file_that_parses_but_does_not_compile_is_not_a_syntax_error() -> None:
    verdict = run({"requirements.txt": "", "x.py": "import os\nreturn 1\n"})
    assert verdict.outcome == "pass"


def test_a_file_without_imports_that_does_not_parse_fails() -> None:
    verdict = run({"requirements.txt": "", "x.py": "x = (\n"})
    assert verdict.outcome == "fail"
    assert messages(verdict) == ["syntax error at line 1"]


def test_inputs_under_a_test_tree_s_data_or_fixtures_folder_are_not_audited() -> None:
    head = {
        "pyproject.toml": '[project]\nname = "fmt"\n',
        "tests/data/cases/broken.py": "def f(:\n",
        "tests/builders/fixtures/ext/build.py": "import setuptools\n",
        "tests/test_fmt.py": "import os\n",
    }
    verdict = run(head)
    assert verdict.outcome == "pass"
    assert "2 vendored or test-data file(s) not audited" in verdict.detail


def test_a_module_imported_optionally_once_is_optional_wherever_the_file_imports_it() -> None:
    source = "try:\n    import simplejson as json\n    has = True\nexcept ImportError:\n    has = False\n"
    source += "if has:\n    from simplejson import JSONDecodeError\n"
    verdict = run({"requirements.txt": "", "x.py": source})
    assert verdict.outcome == "pass"
    assert [f.level for f in verdict.findings] == ["notice", "notice"]


def test_a_name_the_manifest_declares_keeps_the_manifest_s_spelling() -> None:
    head = {"requirements.txt": "", "requirements-dev.txt": "PyTest\n", "app/__init__.py": "import _pytest\n"}
    assert messages(run(head)) == [
        "app/__init__.py:1 imports '_pytest' but requirements-dev.txt, requirements.txt"
        " declare 'PyTest' only for tests"
    ]
