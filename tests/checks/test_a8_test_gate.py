"""A8 Test gate: test_runs_latest.md exists and its first line is `Status: PASS`."""

from __future__ import annotations

from tests.checks.gitaudit import TEST_RUNS, check, check_with_broken_reads, governed
from tests.fixtures.gitrepo import GitRepo


def test_passes_on_status_pass(git_repo: GitRepo) -> None:
    git_repo.commit(governed())
    assert check(git_repo, "A8").outcome == "pass"


def test_a_byte_order_mark_does_not_hide_status_pass(git_repo: GitRepo) -> None:
    git_repo.commit(governed(**{TEST_RUNS: "\ufeffStatus:PASS (42 tests)\n"}))
    assert check(git_repo, "A8").outcome == "pass"


def test_fails_when_test_runs_latest_is_missing(git_repo: GitRepo) -> None:
    files = governed()
    del files[TEST_RUNS]
    git_repo.commit(files)
    assert check(git_repo, "A8").detail == "test_runs_latest.md missing"


def test_fails_quoting_the_first_line(git_repo: GitRepo) -> None:
    git_repo.commit(governed(**{TEST_RUNS: "Status: FAIL\n"}))
    r = check(git_repo, "A8")
    assert r.outcome == "fail"
    assert r.detail == "test_runs_latest.md line 1 is 'Status: FAIL', expected 'Status: PASS'"


def test_an_empty_file_fails_with_an_empty_first_line(git_repo: GitRepo) -> None:
    git_repo.commit(governed(**{TEST_RUNS: ""}))
    assert check(git_repo, "A8").detail == "test_runs_latest.md line 1 is '', expected 'Status: PASS'"


def test_skips_without_a_governance_folder(git_repo: GitRepo) -> None:
    git_repo.commit({"a.py": "a\n"})
    assert check(git_repo, "A8").outcome == "skip"


def test_a_read_failure_is_an_error(git_repo: GitRepo) -> None:
    git_repo.commit(governed())
    assert check_with_broken_reads(git_repo, "A8").outcome == "error"
