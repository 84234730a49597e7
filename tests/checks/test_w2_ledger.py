"""W2 Audit ledger integrity: present, append-only, iterations increasing."""

from __future__ import annotations

from checks.config import AuditConfig
from tests.checks.gitaudit import LEDGER, check, check_with_broken_reads, governed
from tests.fixtures.gitrepo import GitRepo

LEDGER_V1 = (
    "# Audit Ledger\n\n---\n## Audit Entry: Phase 1 -- Iteration 1\nOutcome: FAIL\n"
    "---\n## Audit Entry: Phase 1 -- Iteration 2\nOutcome: SIGNED-OFF (awaiting AUTHORIZED)\n"
)


def test_passes_when_the_ledger_only_grew(git_repo: GitRepo) -> None:
    base = git_repo.commit(governed(**{LEDGER: LEDGER_V1}))
    git_repo.commit({LEDGER: LEDGER_V1 + "---\n## Audit Entry: Phase 2 -- Iteration 1\nOutcome: FAIL\n"})
    assert check(git_repo, "W2", base).outcome == "pass"


def test_warns_when_the_ledger_is_missing(git_repo: GitRepo) -> None:
    files = governed()
    del files[LEDGER]
    git_repo.commit(files)
    r = check(git_repo, "W2")
    assert (r.outcome, r.detail) == ("warn", "audit_ledger.md missing")


def test_warns_when_the_ledger_is_empty(git_repo: GitRepo) -> None:
    git_repo.commit(governed(**{LEDGER: "\n  \n"}))
    assert check(git_repo, "W2").detail == "audit_ledger.md is empty"


def test_warns_when_an_earlier_line_was_rewritten(git_repo: GitRepo) -> None:
    base = git_repo.commit(governed(**{LEDGER: LEDGER_V1}))
    git_repo.commit({LEDGER: LEDGER_V1.replace("Outcome: FAIL", "Outcome: PASS")})
    r = check(git_repo, "W2", base)
    assert r.outcome == "warn"
    assert r.detail == "audit_ledger.md was rewritten: line 5 was 'Outcome: FAIL', now 'Outcome: PASS'"
    assert [(f.path, f.start_line) for f in r.findings] == [(LEDGER, 5)]


def test_warns_when_entries_were_removed(git_repo: GitRepo) -> None:
    base = git_repo.commit(governed(**{LEDGER: LEDGER_V1}))
    git_repo.commit({LEDGER: "# Audit Ledger\n"})
    detail = check(git_repo, "W2", base).detail
    assert detail == "audit_ledger.md was rewritten: line 3 was '---', now removed"


def test_a_trailing_newline_change_is_not_a_rewrite(git_repo: GitRepo) -> None:
    base = git_repo.commit(governed(**{LEDGER: LEDGER_V1}))
    git_repo.commit({LEDGER: LEDGER_V1.rstrip("\n")})
    assert check(git_repo, "W2", base).outcome == "pass"


def test_text_appended_to_the_last_line_is_a_rewrite(git_repo: GitRepo) -> None:
    base = git_repo.commit(governed(**{LEDGER: "# Audit Ledger\nOutcome: FAIL"}))
    git_repo.commit({LEDGER: "# Audit Ledger\nOutcome: FAILED NOT"})
    assert check(git_repo, "W2", base).outcome == "warn"


def test_warns_when_an_iteration_number_does_not_increase(git_repo: GitRepo) -> None:
    ledger = LEDGER_V1 + "---\n## Audit Entry: Phase 1 -- Iteration 2\nOutcome: FAIL\n"
    git_repo.commit(governed(**{LEDGER: ledger}))
    r = check(git_repo, "W2")
    assert r.outcome == "warn"
    assert "Iteration 2 of 'Phase 1' follows Iteration 2" in r.detail


def test_a_new_phase_starts_its_iterations_again(git_repo: GitRepo) -> None:
    ledger = LEDGER_V1 + "---\n## Audit Entry: Phase 2 -- Iteration 1\nOutcome: FAIL\n"
    git_repo.commit(governed(**{LEDGER: ledger}))
    assert check(git_repo, "W2").outcome == "pass"


def test_configured_blocking_turns_the_warning_into_a_failure(git_repo: GitRepo) -> None:
    files = governed()
    del files[LEDGER]
    git_repo.commit(files)
    r = check(git_repo, "W2", config=AuditConfig(severities={"W2": "blocking"}))
    assert (r.outcome, r.severity) == ("fail", "blocking")


def test_skips_without_a_governance_folder(git_repo: GitRepo) -> None:
    git_repo.commit({"a.py": "a\n"})
    assert check(git_repo, "W2").outcome == "skip"


def test_a_read_failure_is_an_error(git_repo: GitRepo) -> None:
    git_repo.commit(governed())
    assert check_with_broken_reads(git_repo, "W2").outcome == "error"
