"""A5 Diff log gate: the diff log exists and its header has no `TODO:` placeholders."""

from __future__ import annotations

from tests.checks.gitaudit import DIFFLOG, check, check_with_broken_reads, difflog, governed
from tests.fixtures.gitrepo import GitRepo


def test_passes_without_todo_placeholders(git_repo: GitRepo) -> None:
    git_repo.commit(governed())
    r = check(git_repo, "A5")
    assert (r.outcome, r.detail) == ("pass", "No TODO: placeholders in the diff log.")


def test_fails_with_one_finding_per_todo_line_in_the_header(git_repo: GitRepo) -> None:
    log = difflog(extra_header="TODO: describe the change\nsome text\ntodo: and this\n")
    git_repo.commit(governed(**{DIFFLOG: log}))
    r = check(git_repo, "A5")
    assert r.outcome == "fail"
    lines = log.split("\n")
    expected = [i + 1 for i, line in enumerate(lines) if "todo:" in line.lower()]
    assert [f.start_line for f in r.findings] == expected
    assert {f.path for f in r.findings} == {DIFFLOG}


def test_todo_after_minimal_diff_hunks_is_allowed(git_repo: GitRepo) -> None:
    log = difflog() + "+    # TODO: this is code in a hunk\n"
    git_repo.commit(governed(**{DIFFLOG: log}))
    assert check(git_repo, "A5").outcome == "pass"


def test_todo_without_a_colon_is_not_a_placeholder(git_repo: GitRepo) -> None:
    git_repo.commit(governed(**{DIFFLOG: difflog(extra_header="The TODO list is done.\n")}))
    assert check(git_repo, "A5").outcome == "pass"


def test_fails_when_the_diff_log_is_missing(git_repo: GitRepo) -> None:
    git_repo.commit({"Forge/Contracts/boundaries.json": "{}\n"})
    r = check(git_repo, "A5")
    assert (r.outcome, r.detail) == ("fail", "updatedifflog.md missing.")


def test_skips_without_a_governance_folder(git_repo: GitRepo) -> None:
    git_repo.commit({"a.py": "a\n"})
    assert check(git_repo, "A5").outcome == "skip"


def test_a_read_failure_is_an_error(git_repo: GitRepo) -> None:
    git_repo.commit(governed())
    assert check_with_broken_reads(git_repo, "A5").outcome == "error"
