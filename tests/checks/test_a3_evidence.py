"""A3 Evidence completeness: test_runs_latest.md says PASS, the diff log holds text."""

from __future__ import annotations

from tests.checks.gitaudit import DIFFLOG, TEST_RUNS, check, check_with_broken_reads, governed
from tests.fixtures.gitrepo import GitRepo


def test_passes_with_a_passing_test_run_and_a_filled_diff_log(git_repo: GitRepo) -> None:
    git_repo.commit(governed())
    assert check(git_repo, "A3").outcome == "pass"


def test_a_byte_order_mark_does_not_hide_status_pass(git_repo: GitRepo) -> None:
    git_repo.commit(governed(**{TEST_RUNS: "\ufeffStatus: PASS\r\n"}))
    assert check(git_repo, "A3").outcome == "pass"


def test_fails_when_test_runs_latest_is_missing(git_repo: GitRepo) -> None:
    files = governed()
    del files[TEST_RUNS]
    git_repo.commit(files)
    r = check(git_repo, "A3")
    assert (r.outcome, r.detail) == ("fail", "test_runs_latest.md missing")


def test_fails_quoting_a_first_line_that_is_not_status_pass(git_repo: GitRepo) -> None:
    git_repo.commit(governed(**{TEST_RUNS: "Status: FAIL\n3 failed\n"}))
    r = check(git_repo, "A3")
    assert r.detail == "test_runs_latest.md line 1 is 'Status: FAIL', expected 'Status: PASS'"


def test_status_pass_must_be_the_first_line(git_repo: GitRepo) -> None:
    git_repo.commit(governed(**{TEST_RUNS: "# Test runs\nStatus: PASS\n"}))
    detail = check(git_repo, "A3").detail
    assert detail == "test_runs_latest.md line 1 is '# Test runs', expected 'Status: PASS'"


def test_status_passed_as_one_word_is_not_pass(git_repo: GitRepo) -> None:
    git_repo.commit(governed(**{TEST_RUNS: "Status: PASSED\n"}))
    assert check(git_repo, "A3").outcome == "fail"


def test_fails_when_the_diff_log_is_missing(git_repo: GitRepo) -> None:
    files = governed()
    del files[DIFFLOG]
    git_repo.commit(files)
    assert check(git_repo, "A3").detail == "updatedifflog.md missing"


def test_fails_when_the_diff_log_is_only_whitespace(git_repo: GitRepo) -> None:
    git_repo.commit(governed(**{DIFFLOG: " \n\t\n"}))
    assert check(git_repo, "A3").detail == "updatedifflog.md is empty"


def test_every_reason_is_joined_with_semicolons(git_repo: GitRepo) -> None:
    git_repo.commit({"Forge/Contracts/boundaries.json": "{}\n"})
    assert check(git_repo, "A3").detail == "test_runs_latest.md missing; updatedifflog.md missing"


def test_skips_without_a_governance_folder(git_repo: GitRepo) -> None:
    git_repo.commit({"a.py": "a\n"})
    assert check(git_repo, "A3").outcome == "skip"


def test_a_read_failure_is_an_error(git_repo: GitRepo) -> None:
    git_repo.commit(governed())
    assert check_with_broken_reads(git_repo, "A3").outcome == "error"
