"""Every string the engine emits goes through W1's rules: a secret any check quotes comes out redacted.

W1 reports secrets redacted, but other checks quote repository text too (A3
and A8 the first line of the test report, A1 the diff log's claims, …). The
engine runs this over each result's detail, each finding's message, the
claimed files and the configuration errors before the report leaves it, so
neither the check runs nor the app's database ever hold the secret. Finding
paths stay as they are: they name files of the repository and GitHub places
annotations by them.
"""

from __future__ import annotations

import dataclasses
from functools import cache

from checks.model import AuditReport, CheckResult, Finding
from checks.secrets_rules import RuleSet, default_rules, redact

# A neutral path: rules limited to some paths (e.g. only `.env` files) do not apply to prose.
TEXT_PATH = "forgeguard-report.txt"


@cache
def _rules() -> RuleSet:
    return default_rules()


def redact_text(text: str, rules: RuleSet | None = None) -> str:
    """`text` with every secret W1's rules find replaced by its redacted form."""
    if not text:
        return text
    matches = (rules or _rules()).scan(TEXT_PATH, text)
    # Longest first, so a secret that contains another is replaced whole.
    for value in sorted({m.secret for m in matches}, key=len, reverse=True):
        text = text.replace(value, redact(value))
    return text


def redact_result(result: CheckResult, rules: RuleSet | None = None) -> CheckResult:
    findings = [_redact_finding(f, rules) for f in result.findings]
    return dataclasses.replace(result, detail=redact_text(result.detail, rules), findings=findings)


def _redact_finding(finding: Finding, rules: RuleSet | None) -> Finding:
    message = redact_text(finding.message, rules)
    return finding if message == finding.message else dataclasses.replace(finding, message=message)


def redact_report(report: AuditReport, rules: RuleSet | None = None) -> AuditReport:
    """The report with every emitted string redacted (a new report; the argument is left alone)."""
    return dataclasses.replace(
        report,
        results=[redact_result(r, rules) for r in report.results],
        claimed_files=[redact_text(p, rules) for p in report.claimed_files],
        config_errors=[redact_text(e, rules) for e in report.config_errors],
    )
