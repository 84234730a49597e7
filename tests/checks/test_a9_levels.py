"""A9 on healthy projects: which undeclared imports fail a change and which are only notices.

Diff-aware levels (a failure only for lines the change added, a changed
manifest, or --full), optional imports, and the escape hatches.
"""

from __future__ import annotations

from checks import a9_dependencies as a9
from checks.config import AuditConfig
from checks.config_file import parse_config
from checks.context import Verdict
from tests.checks.gitaudit import check
from tests.checks.memsource import Files, make_ctx
from tests.fixtures.gitrepo import GitRepo

PYPROJECT = '[project]\nname = "api"\ndependencies = ["httpx"]\n'
TEST_WITH_AN_UNDECLARED_IMPORT = "import respx\n\n\ndef test_get():\n    assert respx\n"


def run(
    head: Files, base: Files | None = None, *, full: bool = False, config: AuditConfig | None = None
) -> Verdict:
    return a9.run(make_ctx(head, base, full=full, config=config))


def levels(verdict: Verdict) -> list[tuple[str, int | None, str]]:
    return [(f.path, f.start_line, f.level) for f in verdict.findings]


def test_a_comment_added_to_a_test_file_with_an_old_undeclared_import_does_not_fail(
    git_repo: GitRepo,
) -> None:
    base = git_repo.commit({"pyproject.toml": PYPROJECT, "tests/test_api.py": TEST_WITH_AN_UNDECLARED_IMPORT})
    git_repo.commit({"tests/test_api.py": "# a comment\n" + TEST_WITH_AN_UNDECLARED_IMPORT})
    result = check(git_repo, "A9", base)
    assert result.outcome == "pass"
    assert [(f.start_line, f.level) for f in result.findings] == [(2, "notice")]
    assert result.findings[0].message.endswith("(already there before this change)")
    assert "1 undeclared import(s) reported as notices" in result.detail


def test_an_undeclared_import_on_an_added_line_fails(git_repo: GitRepo) -> None:
    base = git_repo.commit({"pyproject.toml": PYPROJECT, "api/__init__.py": "import httpx\n"})
    git_repo.commit({"api/__init__.py": "import httpx\nimport rich\n"})
    result = check(git_repo, "A9", base)
    assert result.outcome == "fail"
    assert [(f.start_line, f.level) for f in result.findings] == [(2, "failure")]


def test_an_old_undeclared_import_fails_when_a_manifest_changed(git_repo: GitRepo) -> None:
    base = git_repo.commit({"pyproject.toml": PYPROJECT, "api/__init__.py": "import rich\n"})
    git_repo.commit({"pyproject.toml": PYPROJECT + "# touched\n", "api/__init__.py": "# doc\nimport rich\n"})
    assert check(git_repo, "A9", base).outcome == "fail"


def test_an_old_undeclared_import_fails_with_full() -> None:
    base = {"pyproject.toml": PYPROJECT, "api/__init__.py": "import rich\n"}
    head = {**base, "api/__init__.py": "# doc\nimport rich\n"}
    assert run(head, base).outcome == "pass"
    assert run(head, base, full=True).outcome == "fail"


def test_a_multi_line_import_fails_when_any_of_its_lines_was_added() -> None:
    base = {"pyproject.toml": PYPROJECT, "api/__init__.py": "from rich import (\n    print,\n)\n"}
    head = {**base, "api/__init__.py": "from rich import (\n    print,\n    box,\n)\n"}
    assert levels(run(head, base)) == [("api/__init__.py", 1, "failure")]


def test_type_checking_imports_are_notices_even_when_added() -> None:
    source = "import typing as t\nif t.TYPE_CHECKING:\n    import rich\n"
    verdict = run({"pyproject.toml": PYPROJECT, "api/__init__.py": source})
    assert verdict.outcome == "pass"
    assert levels(verdict) == [("api/__init__.py", 3, "notice")]
    assert verdict.findings[0].message.endswith("(optional: under TYPE_CHECKING)")


def test_imports_in_a_try_that_catches_import_error_are_notices() -> None:
    source = "try:\n    import ujson as json\nexcept (ModuleNotFoundError, ValueError):\n"
    source += "    import simplejson as json\n"
    verdict = run({"pyproject.toml": PYPROJECT, "api/__init__.py": source}, full=True)
    assert verdict.outcome == "pass"
    assert levels(verdict) == [("api/__init__.py", 2, "notice"), ("api/__init__.py", 4, "notice")]
    assert verdict.findings[0].message.endswith("(optional: in a try that catches ImportError)")


def test_a_try_that_catches_something_else_does_not_make_an_import_optional() -> None:
    source = "try:\n    import ujson\nexcept ValueError:\n    pass\n"
    assert run({"pyproject.toml": PYPROJECT, "api/__init__.py": source}).outcome == "fail"


def test_an_allow_import_comment_silences_one_import() -> None:
    source = "import rich  # forgeguard: allow-import\nimport click\n"
    verdict = run({"pyproject.toml": PYPROJECT, "api/__init__.py": source})
    assert levels(verdict) == [("api/__init__.py", 2, "failure")]


def test_configured_ignore_and_first_party_names_are_not_questioned() -> None:
    config = parse_config("checks:\n  A9: {ignore: [rich], first_party: [internal_lib]}\n")
    assert config.errors == []
    source = "import rich.console\nimport internal_lib.x\n"
    assert run({"pyproject.toml": PYPROJECT, "api/__init__.py": source}, config=config).outcome == "pass"


def test_an_unknown_a9_option_is_a_configuration_error() -> None:
    config = parse_config("checks:\n  A9: {ignored: [rich]}\n")
    assert config.errors == [
        ".github/forgeguard.yml: checks.A9.ignored is not a setting"
        " (known: severity, ignore, first_party); ignored"
    ]


def test_a_pass_without_third_party_imports_does_not_say_all_0() -> None:
    verdict = run({"pyproject.toml": PYPROJECT, "api/__init__.py": "import os\n"})
    assert verdict.detail == "No third-party imports in 1 source file(s)."
