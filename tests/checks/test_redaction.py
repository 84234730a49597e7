"""Secrets are redacted in every check's detail and findings before they leave the engine (issue 10, 5)."""

from __future__ import annotations

import json

from checks.model import AuditReport, CheckResult, Finding
from checks.redaction import redact_report
from tests.checks.gitaudit import TEST_RUNS, audit, governed, result
from tests.fixtures.gitrepo import GitRepo

GITHUB_TOKEN = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A"
AWS_KEY = "AKIA" + "Z7MPLQ4RT2X6WYVN"


def stored_form(report: AuditReport) -> str:
    """What the app stores of a report (audit_runs.report, check_results, findings)."""
    return json.dumps(report.to_json())


def test_a_token_on_the_first_line_of_test_runs_is_redacted_in_a3_and_a8(git_repo: GitRepo) -> None:
    git_repo.commit(governed(**{TEST_RUNS: f"{GITHUB_TOKEN}\nStatus: FAIL\n"}))
    report = audit(git_repo)
    for code in ("A3", "A8"):
        assert result(report, code).outcome == "fail"
        assert "'ghp_…' (40 chars)" in result(report, code).detail
    assert GITHUB_TOKEN not in stored_form(report)


def test_a_token_claimed_as_a_file_in_the_diff_log_is_redacted_in_a1(git_repo: GitRepo) -> None:
    git_repo.commit(governed(claimed=[f"src/{GITHUB_TOKEN}.py"]))
    report = audit(git_repo)
    a1 = result(report, "A1")
    assert a1.outcome == "fail"
    assert "'ghp_…' (40 chars)" in a1.detail
    assert GITHUB_TOKEN not in stored_form(report)


def test_every_detail_finding_message_and_config_error_is_redacted() -> None:
    finding = Finding(path="a.py", message=f"saw aws = '{AWS_KEY}' here", start_line=3)
    report = AuditReport(
        base="b",
        head="h",
        files=1,
        phase="p",
        claimed_files=[f"{GITHUB_TOKEN}.txt"],
        results=[CheckResult("A4", "Boundaries", "blocking", "fail", f"token {GITHUB_TOKEN}", [finding])],
        governed=True,
        config_errors=[f"unknown key {GITHUB_TOKEN}"],
    )
    redacted = redact_report(report)
    assert GITHUB_TOKEN not in stored_form(redacted) and AWS_KEY not in stored_form(redacted)
    assert redacted.results[0].findings[0].path == "a.py"
    assert redacted.results[0].findings[0].start_line == 3


def test_text_without_secrets_is_left_as_it_is(git_repo: GitRepo) -> None:
    git_repo.commit(governed(**{TEST_RUNS: "Status: FAIL\n\n3 failed\n"}))
    report = audit(git_repo)
    assert redact_report(report).to_json() == report.to_json()
