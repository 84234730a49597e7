"""The --ledger entry: layout, iteration numbers, creating the file with a header."""

from __future__ import annotations

import pathlib

from checks.a6_authorization import last_authorized
from checks.ledger import HEADER, append_entry, entry, next_iteration
from checks.model import AuditReport, CheckResult, Outcome
from checks.registry import CHECKS


def report(fail: bool = False) -> AuditReport:
    def outcome(code: str) -> Outcome:
        return "fail" if fail and code == "A1" else "pass"

    results = [CheckResult(s.code, s.name, "blocking", outcome(s.code), f"{s.code} ok.") for s in CHECKS]
    results[5] = CheckResult(
        "A6",
        "Authorization gate",
        "blocking",
        "pass",
        "Could not resolve last AUTHORIZED commit abc1234; assuming clean.",
    )
    return AuditReport(
        base="a" * 40,
        head="b" * 40,
        files=2,
        phase="Phase 3 -- Audit Engine",
        claimed_files=["x.py"],
        results=results,
        governed=True,
        timestamp="2026-11-21T12:00:00Z",
    )


def test_an_entry_has_the_originals_layout() -> None:
    text = entry(report(), 1, ["x.py", "y.py"])
    lines = text.split("\n")
    assert lines[:5] == [
        "---",
        "## Audit Entry: Phase 3 -- Audit Engine -- Iteration 1",
        "Timestamp: 2026-11-21T12:00:00Z",
        "AEM Cycle: Phase 3 -- Audit Engine",
        "Outcome: SIGNED-OFF (awaiting AUTHORIZED)",
    ]
    headings = [line for line in lines if line.startswith("### ")]
    assert headings == ["### Checklist", "### Fix Plan (FAIL items)", "### Files Changed", "### Notes"]
    assert "- A1 Scope compliance: PASS -- A1 ok." in lines
    assert "- x.py" in lines and "- y.py" in lines


def test_a_failing_audit_is_outcome_fail_with_its_fix_plan() -> None:
    text = entry(report(fail=True), 2, [])
    assert "Outcome: FAIL\n" in text
    assert "### Fix Plan (FAIL items)\n- A1: A1 ok.\n" in text


def test_the_entry_is_never_read_as_an_authorization() -> None:
    assert last_authorized(HEADER + entry(report(), 1, ["x.py"])) is None


def test_a_missing_ledger_is_created_with_a_header(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "Forge" / "evidence" / "audit_ledger.md"
    assert append_entry(path, report(), ["x.py"]) == 1
    text = path.read_text(encoding="utf-8")
    assert text.startswith(HEADER + "\n---\n## Audit Entry: Phase 3 -- Audit Engine -- Iteration 1\n")


def test_entries_are_appended_with_the_next_iteration_of_their_phase(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "audit_ledger.md"
    path.write_text("# My ledger\nno newline at the end", encoding="utf-8")
    assert append_entry(path, report(), []) == 1
    assert append_entry(path, report(), []) == 2
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# My ledger\nno newline at the end\n---\n")
    assert text.count("## Audit Entry:") == 2


def test_next_iteration_counts_only_the_same_phase() -> None:
    text = "## Audit Entry: Phase 1 -- Iteration 4\n## Audit Entry: Phase 2 -- Iteration 1\n"
    assert next_iteration(text, "Phase 1") == 5
    assert next_iteration(text, "Phase 3") == 1
