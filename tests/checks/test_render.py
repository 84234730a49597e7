"""Console frame, JSON, Markdown summary and title of an audit report."""

from __future__ import annotations

import json

from checks import render
from checks.model import AuditReport, CheckResult, Finding, Outcome, Severity
from checks.registry import CHECKS

BASE = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
HEAD = "5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80"


def report(outcomes: dict[str, Outcome] | None = None, **fields: object) -> AuditReport:
    outcomes = outcomes or {}
    results = []
    for spec in CHECKS:
        outcome = outcomes.get(spec.code, "pass")
        severity: Severity = "blocking" if spec.code.startswith("A") else "warning"
        findings = [Finding("app/x.py", "bad thing", start_line=3)] if outcome == "fail" else []
        results.append(CheckResult(spec.code, spec.name, severity, outcome, f"{spec.code} detail.", findings))
    values: dict[str, object] = {
        "base": BASE,
        "head": HEAD,
        "files": 12,
        "phase": "Phase 3 -- Audit Engine",
        "claimed_files": ["a.py", "b.py"],
        "results": results,
        "governed": True,
        "timestamp": "2026-11-21T12:00:00Z",
    }
    values.update(fields)
    return AuditReport(**values)  # type: ignore[arg-type]


def test_console_prints_the_original_frame() -> None:
    text = render.console(report({"W3": "warn"}))
    lines = text.split("\n")
    assert lines[:6] == [
        "=== AUDIT SCRIPT RESULT ===",
        "Timestamp: 2026-11-21T12:00:00Z",
        "Phase: Phase 3 -- Audit Engine",
        "Claimed files: a.py, b.py",
        "Change: 1a2b3c4...5d6e7f8 (12 files)",
        "",
    ]
    assert lines[6] == "A1 Scope compliance:       PASS -- A1 detail."
    assert "W3 Physics route coverage: WARN -- W3 detail." in lines
    assert lines[-3:] == ["Overall: PASS", "=== END AUDIT SCRIPT RESULT ===", ""]


def test_console_lists_findings_under_a_failing_check() -> None:
    text = render.console(report({"A1": "fail"}))
    assert "A1 Scope compliance:       FAIL -- A1 detail.\n    app/x.py:3: bad thing\n" in text
    assert "Overall: FAIL" in text


def test_console_says_none_when_nothing_is_claimed() -> None:
    assert "Claimed files: (none)\n" in render.console(report(claimed_files=[]))


def test_json_has_the_stable_fields_and_all_twelve_checks() -> None:
    data = json.loads(render.to_json(report({"A1": "fail", "A3": "skip"})))
    assert data["overall"] == "fail"
    assert data["phase"] == "Phase 3 -- Audit Engine"
    assert data["change"] == {"base": BASE, "head": HEAD, "files": 12}
    assert [c["code"] for c in data["checks"]] == [s.code for s in CHECKS]
    a1 = data["checks"][0]
    assert set(a1) == {"code", "name", "severity", "outcome", "detail", "findings"}
    assert a1["findings"] == [
        {"path": "app/x.py", "start_line": 3, "end_line": 3, "message": "bad thing", "level": "failure"}
    ]


def test_title_names_failed_checks_and_counts_warnings() -> None:
    assert render.title(report({"A1": "fail", "A7": "error", "W2": "warn"})) == (
        "2 of 12 checks failed: A1, A7 · 1 warning"
    )


def test_title_when_everything_passed() -> None:
    assert render.title(report({"A4": "skip"})) == "All checks passed"


def test_title_with_only_warnings() -> None:
    assert render.title(report({"W1": "warn", "W3": "warn"})) == "All checks passed · 2 warnings"


def test_markdown_summary_is_a_table_of_all_twelve_checks() -> None:
    text = render.summary_markdown(report({"A2": "fail", "W1": "warn", "A4": "skip"}))
    rows = [line for line in text.split("\n") if line.startswith("| ") and not line.startswith("| Check")]
    assert len(rows) == 13  # the separator and twelve checks
    assert "| A2 | Minimal-diff discipline | blocking | ❌ fail | A2 detail. |" in text
    assert "⚠️ warning" in text and "⏭️ skipped" in text


def test_markdown_details_cover_only_failing_and_warning_checks() -> None:
    text = render.details_markdown(report({"A2": "fail", "W1": "warn"}))
    assert "### A2 Minimal-diff discipline: ❌ fail" in text
    assert "### W1 No secrets in diff: ⚠️ warning" in text
    assert "A1" not in text
    assert "- app/x.py:3 (failure): bad thing" in text


def test_markdown_is_summary_then_details() -> None:
    r = report({"A2": "fail"})
    assert render.markdown(r) == render.summary_markdown(r) + "\n" + render.details_markdown(r)


def test_markdown_tells_an_ungoverned_repository_how_to_opt_in() -> None:
    assert "opt in" in render.summary_markdown(report(governed=False))


def test_markdown_lists_configuration_errors() -> None:
    text = render.summary_markdown(report(config_errors=["unknown key 'colour'"]))
    assert "unknown key 'colour'" in text


def test_untrusted_text_cannot_inject_html_cells_links_or_mentions() -> None:
    r = report({"A1": "fail"})
    r.results[0] = CheckResult(
        "A1",
        "Scope compliance",
        "blocking",
        "fail",
        "Unclaimed in diff: <img src=x onerror=alert(1)>|x|[link](http://evil) @octocat\nsecond line",
        [Finding("<script>|a|.py", "**bold** `code`", start_line=1)],
    )
    text = render.markdown(r)
    assert "<img" not in text and "<script>" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;\\|x\\|\\[link\\](http:\u200b//evil)" in text
    assert "@octocat" not in text
    assert "\\*\\*bold\\*\\* \\`code\\`" in text
    table_row = next(line for line in text.split("\n") if line.startswith("| A1 "))
    assert table_row.count(" | ") == 4


def test_escape_keeps_ordinary_punctuation_readable() -> None:
    assert render.escape("app/x.py: a (b) c-d, 1.5") == "app/x.py: a (b) c-d, 1.5"


def test_escape_stops_a_list_marker_at_the_start() -> None:
    assert (render.escape("- item"), render.escape("1. item")) == ("\\- item", "1\\. item")


def test_escape_breaks_mentions_and_math() -> None:
    assert render.escape("@octocat $x$") == "@\u200boctocat \\$x\\$"


def test_escape_keeps_bare_urls_from_becoming_links() -> None:
    escaped = render.escape("see https://evil.example/x and www.evil.example")
    assert "https://" not in escaped and "www." not in escaped


def test_escape_breaks_issue_references() -> None:
    escaped = render.escape("fixes #12, org/repo#3 and GH-7")
    assert "#12" not in escaped and "#3" not in escaped and "GH-7" not in escaped


def test_escape_drops_right_to_left_overrides_and_zero_width_characters() -> None:
    assert render.escape("abc\u202edef\u200b\u2066g") == "abcdefg"


def _with(code: str, detail: str, findings: list[Finding], **fields: object) -> AuditReport:
    base = report({code: "fail"}, **fields)
    results = [
        CheckResult(r.code, r.name, r.severity, "fail", detail, findings) if r.code == code else r
        for r in base.results
    ]
    return report({code: "fail"}, results=results, **fields)


def test_console_prints_a_finding_s_location_once() -> None:
    message = "app/x.py:3 imports 'rich' but requirements.txt does not declare 'rich'"
    out = render.console(_with("A9", "1 undeclared import(s).", [Finding("app/x.py", message, start_line=3)]))
    assert f"    {message}\n" in out
    assert out.count("app/x.py:3") == 1


def test_console_does_not_repeat_the_paths_a1_s_detail_lists() -> None:
    finding = Finding("app/y.py", "changed but not claimed in the diff log")
    out = render.console(_with("A1", "Unclaimed in diff: app/y.py.", [finding]))
    assert out.count("app/y.py") == 1


def test_console_explains_a_repository_without_governance_as_the_markdown_does() -> None:
    out = render.console(report(governed=False))
    assert render.OPT_IN.replace("`", "") in out
