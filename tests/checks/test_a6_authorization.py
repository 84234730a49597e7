"""A6 Authorization gate: no code commits after the last AUTHORIZED ledger entry."""

from __future__ import annotations

import pytest

from checks.a6_authorization import last_authorized
from tests.checks.gitaudit import LEDGER, check, check_with_broken_reads, governed
from tests.fixtures.gitrepo import GitRepo

HEADER = "# Audit Ledger\n"


def entry(outcome: str, commit: str, iteration: int = 1) -> str:
    return (
        f"---\n## Audit Entry: Phase 3 -- Iteration {iteration}\n"
        f"Timestamp: 2026-11-21T12:00:00Z\nOutcome: {outcome}\nCommit: {commit}\n"
    )


def authorized_history(repo: GitRepo, outcome: str = "AUTHORIZED") -> str:
    """A cycle whose code commit is authorized by a later evidence-only ledger commit."""
    repo.commit(governed(), message="start")
    code = repo.commit({"app/x.py": "x\n"}, message="code")
    repo.commit({LEDGER: HEADER + entry(outcome, code)}, message="ledger: authorized")
    return code


def test_passes_as_a_first_cycle_without_a_ledger(git_repo: GitRepo) -> None:
    files = governed()
    del files[LEDGER]
    git_repo.commit(files)
    r = check(git_repo, "A6")
    assert (r.outcome, r.detail) == ("pass", "No prior AUTHORIZED entry; first cycle.")


def test_the_ledgers_own_follow_up_commit_is_exempt(git_repo: GitRepo) -> None:
    code = authorized_history(git_repo)
    r = check(git_repo, "A6")
    assert r.outcome == "pass"
    assert code in r.detail


def test_fails_listing_code_commits_after_the_last_authorization(git_repo: GitRepo) -> None:
    code = authorized_history(git_repo)
    first = git_repo.commit({"app/y.py": "y\n"})
    second = git_repo.commit({"app/x.py": "x2\n"})
    r = check(git_repo, "A6")
    assert r.outcome == "fail"
    assert r.detail == f"2 unauthorized commit(s) since last AUTHORIZED ({code}): {first[:7]}, {second[:7]}"


def test_evidence_only_commits_after_authorization_are_exempt(git_repo: GitRepo) -> None:
    authorized_history(git_repo)
    git_repo.commit({"Forge/evidence/test_runs_latest.md": "Status: PASS\nagain\n"})
    git_repo.commit({"Forge/evidence/updatedifflog.md": "# new cycle\n"})
    assert check(git_repo, "A6").outcome == "pass"


def test_capital_commit_with_a_colon_is_read(git_repo: GitRepo) -> None:
    assert last_authorized(HEADER + entry("AUTHORIZED", "abc1234")) == "abc1234"


def test_lower_case_commit_without_a_colon_is_read() -> None:
    assert last_authorized("---\nAUTHORIZED at commit abcdef0\n") == "abcdef0"


@pytest.mark.parametrize("outcome", ["AUTHORIZED", "AUTO-AUTHORIZED", "AUTHORIZED (committed)"])
def test_every_authorization_form_is_an_authorization(outcome: str) -> None:
    assert last_authorized(HEADER + entry(outcome, "abc1234")) == "abc1234"


def test_awaiting_authorized_is_not_an_authorization() -> None:
    ledger = HEADER + entry("SIGNED-OFF (awaiting AUTHORIZED)", "abc1234")
    assert last_authorized(ledger) is None


def test_a_signed_off_entry_after_an_authorization_leaves_the_authorization_last() -> None:
    ledger = HEADER + entry("AUTHORIZED", "abc1234") + entry("SIGNED-OFF (awaiting AUTHORIZED)", "fedcba9", 2)
    assert last_authorized(ledger) == "abc1234"


def test_the_last_authorization_entry_wins() -> None:
    ledger = HEADER + entry("AUTHORIZED", "abc1234") + entry("AUTO-AUTHORIZED", "fedcba9", 2)
    assert last_authorized(ledger) == "fedcba9"


def test_a_hash_in_another_entry_does_not_pair_with_authorized() -> None:
    ledger = "---\nOutcome: AUTHORIZED\n---\nCommit: abc1234\n"
    assert last_authorized(ledger) is None


def test_unauthorized_is_not_authorized() -> None:
    assert last_authorized("---\nOutcome: UNAUTHORIZED\nCommit: abc1234\n") is None


def test_a_hash_that_does_not_resolve_is_assumed_clean(git_repo: GitRepo) -> None:
    git_repo.commit(governed(**{LEDGER: HEADER + entry("AUTHORIZED", "deadbee")}))
    r = check(git_repo, "A6")
    assert r.outcome == "pass"
    assert r.detail == "Could not resolve last AUTHORIZED commit deadbee; assuming clean."


def test_a_hash_that_is_not_an_ancestor_is_assumed_clean(git_repo: GitRepo) -> None:
    git_repo.commit(governed())
    git_repo.git("checkout", "-q", "-b", "side")
    side = git_repo.commit({"side.py": "s\n"})
    git_repo.git("checkout", "-q", "main")
    git_repo.commit({LEDGER: HEADER + entry("AUTHORIZED", side), "app/x.py": "x\n"})
    assert check(git_repo, "A6").detail == f"Could not resolve last AUTHORIZED commit {side}; assuming clean."


def test_skips_without_a_governance_folder(git_repo: GitRepo) -> None:
    git_repo.commit({"a.py": "a\n"})
    assert check(git_repo, "A6").outcome == "skip"


def test_a_read_failure_is_an_error(git_repo: GitRepo) -> None:
    authorized_history(git_repo)
    assert check_with_broken_reads(git_repo, "A6").outcome == "error"
