"""The `--ledger` entry: one audit appended to `audit_ledger.md` in the original's layout.

Only the command line writes the ledger, and only when asked; the app never
appends to a user's ledger.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from checks.model import AuditReport

HEADER = (
    "# Audit Ledger -- Forge AEM\n"
    "\n"
    "Append-only record of every audit run. Do not edit or remove past entries.\n"
)
ENTRY_HEADING = re.compile(
    r"^## Audit Entry:\s*(.*?)\s*(?:--|—|–|-)?\s*Iteration\s+(\d+)\b", re.IGNORECASE | re.MULTILINE
)


def entry_headings(text: str) -> list[tuple[int, str, int]]:
    """(line number, phase, iteration) of every `## Audit Entry: <phase> -- Iteration <n>` heading."""
    headings: list[tuple[int, str, int]] = []
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        match = ENTRY_HEADING.match(line)
        if match:
            headings.append((number, match.group(1).strip(), int(match.group(2))))
    return headings


def next_iteration(text: str, phase: str) -> int:
    """One more than the highest iteration already recorded for `phase`."""
    numbers = [iteration for _, name, iteration in entry_headings(text) if name == phase]
    return max(numbers, default=0) + 1


def entry(report: AuditReport, iteration: int, changed_files: Sequence[str]) -> str:
    """The ledger entry for `report`."""
    outcome = "FAIL" if report.overall == "fail" else "SIGNED-OFF (awaiting AUTHORIZED)"
    lines = [
        "---",
        f"## Audit Entry: {report.phase} -- Iteration {iteration}",
        f"Timestamp: {report.timestamp}",
        f"AEM Cycle: {report.phase}",
        f"Outcome: {outcome}",
        "",
        "### Checklist",
    ]
    lines.extend(f"- {r.code} {r.name}: {r.outcome.upper()} -- {_one_line(r.detail)}" for r in report.results)
    lines += ["", "### Fix Plan (FAIL items)"]
    failing = [r for r in report.results if r.outcome in ("fail", "error")]
    lines.extend(f"- {r.code}: {_one_line(r.detail)}" for r in failing)
    if not failing:
        lines.append("- None")
    lines += ["", "### Files Changed"]
    lines.extend(f"- {path}" for path in changed_files)
    if not changed_files:
        lines.append("- (none)")
    lines += ["", "### Notes"]
    warnings = [r for r in report.results if r.outcome == "warn"]
    lines.extend(f"- {r.code}: {_one_line(r.detail)}" for r in warnings)
    lines.extend(f"- Configuration: {_one_line(error)}" for error in report.config_errors)
    if not warnings and not report.config_errors:
        lines.append("- None")
    lines.append(f"- Change: {report.base}...{report.head} ({report.files} files)")
    return "\n".join(lines) + "\n"


def append_entry(path: str | os.PathLike[str], report: AuditReport, changed_files: Sequence[str]) -> int:
    """Append the entry to the ledger at `path` (created with a header when missing); its iteration."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            existing = handle.read()
    except FileNotFoundError:
        existing = ""
    iteration = next_iteration(existing, report.phase)
    prefix = HEADER + "\n" if not existing else ("" if existing.endswith("\n") else "\n")
    os.makedirs(os.path.dirname(os.fspath(path)) or ".", exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(prefix + entry(report, iteration, changed_files))
    return iteration


def _one_line(text: str) -> str:
    return " ".join(text.split())
