"""A9 on a Python older than the project supports: a file it cannot parse is a notice, not judged.

The running Python is set through `a9.RUNNING_PYTHON`, so that these tests do not
depend on the interpreter that runs them (only what it can parse does).
"""

from __future__ import annotations

import sys

import pytest

from checks import a9_dependencies as a9
from checks.cache import MemoryCache
from checks.context import Verdict
from checks.stdlib import judges_syntax
from tests.checks.gitaudit import check
from tests.checks.memsource import Files, make_ctx
from tests.fixtures.gitrepo import GitRepo

TYPE_ALIAS = "import os\n\ntype Path = str\n"
"""3.12 syntax (PEP 695) that 3.11 rejects, at line 3."""
BROKEN = "import os\n\ndef f(:\n    pass\n"
"""A syntax error on every Python, at line 3."""
needs_3_11_grammar = pytest.mark.skipif(
    sys.version_info >= (3, 12), reason="the Python running the tests parses 3.12 syntax"
)


def pyproject(requires_python: str | None) -> str:
    requires = f'requires-python = "{requires_python}"\n' if requires_python else ""
    return f'[project]\nname = "pkg"\nversion = "1"\n{requires}'


def run(head: Files, monkeypatch: pytest.MonkeyPatch, running: tuple[int, int]) -> Verdict:
    monkeypatch.setattr(a9, "RUNNING_PYTHON", running)
    return a9.run(make_ctx(head))


def levels(verdict: Verdict) -> list[tuple[str, int | None, str]]:
    return [(f.path, f.start_line, f.level) for f in verdict.findings]


@needs_3_11_grammar
def test_3_12_syntax_in_a_project_for_3_12_and_newer_is_a_notice_on_3_11_and_a9_passes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    head = {"pyproject.toml": pyproject(">=3.12"), "pkg/__init__.py": "", "pkg/mod.py": TYPE_ALIAS}
    verdict = run(head, monkeypatch, (3, 11))
    assert verdict.outcome == "pass"
    assert levels(verdict) == [("pkg/mod.py", 3, "notice")]
    assert (
        "1 file(s) use syntax newer than Python 3.11 and were not judged, their imports not checked "
        "(ForgeGuard on Python 3.12 or newer judges them): pkg/mod.py." in verdict.detail
    )
    assert "do not parse," not in verdict.detail


@pytest.mark.parametrize("requires_python", [None, ">=3.9"])
@needs_3_11_grammar
def test_3_12_syntax_in_a_project_that_supports_3_11_is_still_a_syntax_error_failure(
    monkeypatch: pytest.MonkeyPatch, requires_python: str | None
) -> None:
    head = {"pyproject.toml": pyproject(requires_python), "pkg/__init__.py": "", "pkg/mod.py": TYPE_ALIAS}
    verdict = run(head, monkeypatch, (3, 11))
    assert verdict.outcome == "fail"
    assert [f.message for f in verdict.findings] == ["syntax error at line 3"]
    assert levels(verdict) == [("pkg/mod.py", 3, "failure")]


def test_the_notice_says_which_python_ran_which_the_project_supports_and_that_imports_are_unchecked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verdict = run({"pyproject.toml": pyproject(">=3.12"), "x.py": BROKEN}, monkeypatch, (3, 11))
    assert [f.message for f in verdict.findings] == [
        "does not parse (line 3) on Python 3.11, which ForgeGuard runs on; the project supports only "
        "Python 3.12 and newer (requires-python >=3.12), so the file is not judged and its imports are "
        "not checked (running ForgeGuard on Python 3.12 or newer judges it)"
    ]


def test_a_real_syntax_error_is_also_only_a_notice_on_3_11_in_a_3_12_project_as_newer_syntax_looks_alike(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verdict = run({"pyproject.toml": pyproject(">=3.12"), "x.py": BROKEN}, monkeypatch, (3, 11))
    assert verdict.outcome == "pass"
    assert levels(verdict) == [("x.py", 3, "notice")]
    assert verdict.detail.startswith("No source file could be judged.")


@pytest.mark.parametrize(
    ("requires_python", "running"), [(">=3.12", (3, 12)), (">=3.12", (3, 13)), (">=3.9,<3.11", (3, 13))]
)
def test_a_real_syntax_error_fails_when_the_running_python_is_in_or_newer_than_the_supported_range(
    monkeypatch: pytest.MonkeyPatch, requires_python: str, running: tuple[int, int]
) -> None:
    verdict = run({"pyproject.toml": pyproject(requires_python), "x.py": BROKEN}, monkeypatch, running)
    assert verdict.outcome == "fail"
    assert [f.message for f in verdict.findings] == ["syntax error at line 3"]


def test_files_not_judged_are_left_out_of_the_count_of_files_whose_imports_were_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    head = {"pyproject.toml": pyproject(">=3.12"), "ok.py": "import os\n", "x.py": BROKEN}
    verdict = run(head, monkeypatch, (3, 11))
    assert verdict.detail.startswith("No third-party imports in 1 source file(s). 1 file(s) use syntax newer")


def test_the_nearest_manifests_requires_python_decides_for_each_file(monkeypatch: pytest.MonkeyPatch) -> None:
    head = {
        "pyproject.toml": pyproject(">=3.9"),
        "x.py": BROKEN,
        "new/pyproject.toml": pyproject(">=3.13"),
        "new/y.py": BROKEN,
    }
    verdict = run(head, monkeypatch, (3, 11))
    assert verdict.outcome == "fail"
    assert levels(verdict) == [("new/y.py", 3, "notice"), ("x.py", 3, "failure")]
    assert "(ForgeGuard on Python 3.13 or newer judges them): new/y.py." in verdict.detail


def test_a_cached_syntax_error_is_judged_by_the_python_running_the_audit_that_reads_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    head = {"pyproject.toml": pyproject(">=3.12"), "x.py": BROKEN}
    cache = MemoryCache()
    monkeypatch.setattr(a9, "RUNNING_PYTHON", (3, 11))
    assert a9.run(make_ctx(head, cache=cache)).outcome == "pass"
    monkeypatch.setattr(a9, "RUNNING_PYTHON", (3, 12))
    again = make_ctx(head, cache=cache)
    assert a9.run(again).outcome == "fail"
    assert "x.py" not in again.head.reads  # type: ignore[attr-defined]


@needs_3_11_grammar
def test_git_a_pep_701_f_string_in_a_project_for_3_12_and_newer_does_not_fail_a_full_audit_on_3_11(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(a9, "RUNNING_PYTHON", (3, 11))
    git_repo.commit(
        {
            "pyproject.toml": pyproject(">=3.12"),
            "pkg/__init__.py": "",
            "pkg/mod.py": 'import os\nx = {"a": 1}\nprint(f"{x["a"]}")\n',
        }
    )
    result = check(git_repo, "A9", full=True)
    assert result.outcome == "pass"
    assert [(f.path, f.start_line, f.level) for f in result.findings] == [("pkg/mod.py", 3, "notice")]


@pytest.mark.parametrize(
    ("requires_python", "running", "judged"),
    [
        (">=3.12", (3, 11), False),
        (">=3.9", (3, 11), True),
        (None, (3, 11), True),
        (">=3.10,<3.12", (3, 13), True),
        (">=3.12", (3, 12), True),
        ("~=3.13", (3, 12), False),
        (">=3.15", (3, 14), False),
        ("<3", (3, 11), True),
        ("not a specifier", (3, 11), True),
    ],
)
def test_judges_syntax_unless_the_running_python_is_older_than_every_supported_one(
    requires_python: str | None, running: tuple[int, int], judged: bool
) -> None:
    assert judges_syntax(requires_python, running) is judged


@needs_3_11_grammar
def test_a_poetry_project_for_3_12_and_newer_is_judged_by_its_python_constraint_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    poetry = '[tool.poetry]\nname = "pkg"\n[tool.poetry.dependencies]\npython = "^3.12"\n'
    head = {"pyproject.toml": poetry, "pkg/__init__.py": "", "pkg/mod.py": TYPE_ALIAS}
    verdict = run(head, monkeypatch, (3, 11))
    assert verdict.outcome == "pass"
    assert levels(verdict) == [("pkg/mod.py", 3, "notice")]
