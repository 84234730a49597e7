"""Audit reports for the check-run tests: twelve results with the spec's names."""

from __future__ import annotations

from checks.config import CHECK_CODES, default_severity
from checks.model import AuditReport, CheckResult, Finding, Outcome

NAMES = {
    "A1": "Scope compliance",
    "A2": "Minimal-diff discipline",
    "A3": "Evidence completeness",
    "A4": "Boundary compliance",
    "A5": "Diff log gate",
    "A6": "Authorization gate",
    "A7": "Verification hierarchy order",
    "A8": "Test gate",
    "A9": "Dependency gate",
    "W1": "No secrets in diff",
    "W2": "Audit ledger integrity",
    "W3": "Physics route coverage",
}


def make_report(
    outcomes: dict[str, Outcome] | None = None,
    findings: dict[str, list[Finding]] | None = None,
    *,
    governed: bool = True,
    files: int = 5,
    details: dict[str, str] | None = None,
) -> AuditReport:
    """A report where every check passes except those named in `outcomes`."""
    outcomes = outcomes or {}
    findings = findings or {}
    details = details or {}
    results = [
        CheckResult(
            code=code,
            name=NAMES[code],
            severity=default_severity(code),
            outcome=outcomes.get(code, "pass"),
            detail=details.get(code, f"{NAMES[code]}: {outcomes.get(code, 'pass')}."),
            findings=findings.get(code, []),
        )
        for code in CHECK_CODES
    ]
    return AuditReport(
        base="a" * 40,
        head="b" * 40,
        files=files,
        phase="Phase 3 -- Audit Engine",
        claimed_files=[],
        results=results,
        governed=governed,
    )
