"""The governance folder (spec §1) and the evidence files inside it.

A repository is Forge-governed when `<governance_dir>/` (default `Forge`)
holds `Contracts/` and/or `evidence/`; without it, a root `Contracts/` makes
the root the governance folder.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import cast

from checks.context import AuditContext
from checks.difflog import DiffLog, parse

DIFFLOG = "evidence/updatedifflog.md"
DIFFLOG_ALT = "evidence/diff_log.md"
TEST_RUNS_LATEST = "evidence/test_runs_latest.md"
TEST_RUNS = "evidence/test_runs.md"
LEDGER = "evidence/audit_ledger.md"
PHASES = "Contracts/phases.md"
EVIDENCE_FILES = (DIFFLOG, DIFFLOG_ALT, TEST_RUNS_LATEST, TEST_RUNS, LEDGER)
NOT_GOVERNED = "no Forge governance folder"
STATUS_PASS = re.compile(r"^Status:\s*PASS\b")


def detect(paths: Iterable[str], governance_dir: str = "Forge") -> str | None:
    """ "Forge" (the configured name), "" for a root `Contracts/`, or None when not governed."""
    name = governance_dir.strip().strip("/")
    if name in ("", "."):
        prefixes: tuple[str, ...] = ("Contracts/", "evidence/")
        return "" if any(p.startswith(prefixes) for p in paths) else None
    prefixes = (f"{name}/Contracts/", f"{name}/evidence/")
    root_contracts = False
    for path in paths:
        if path.startswith(prefixes):
            return name
        if path.startswith("Contracts/"):
            root_contracts = True
    return "" if root_contracts else None


def evidence_files(ctx: AuditContext) -> set[str]:
    """The evidence files' paths in this repository."""
    return {ctx.gpath(rel) for rel in EVIDENCE_FILES}


def scope_allowlist(ctx: AuditContext) -> set[str]:
    """Paths that may change without being claimed: the evidence files and `Contracts/phases.md`."""
    return evidence_files(ctx) | {ctx.gpath(PHASES)}


def difflog_path(ctx: AuditContext) -> str | None:
    """`updatedifflog.md` when it exists, else `diff_log.md` when that exists, else None."""
    for rel in (DIFFLOG, DIFFLOG_ALT):
        path = ctx.gpath(rel)
        if ctx.head.exists(path):
            return path
    return None


def difflog_candidates(ctx: AuditContext) -> list[str]:
    return [ctx.gpath(DIFFLOG), ctx.gpath(DIFFLOG_ALT)]


def load_difflog(ctx: AuditContext) -> tuple[str, DiffLog] | None:
    """The diff log's path and parsed text at head, or None when there is none (read once per audit)."""
    if _DIFFLOG_MEMO not in ctx.memo:
        path = difflog_path(ctx)
        text = None if path is None else ctx.text(path)
        ctx.memo[_DIFFLOG_MEMO] = None if path is None or text is None else (path, parse(text))
    return cast("tuple[str, DiffLog] | None", ctx.memo[_DIFFLOG_MEMO])


_DIFFLOG_MEMO = "governance.difflog"


def first_line(text: str) -> str:
    return text.split("\n", 1)[0].rstrip("\r")


def test_runs_problem(ctx: AuditContext) -> str | None:
    """Why test_runs_latest.md does not show a passing run, or None when it does (A3 and A8)."""
    text = ctx.text(ctx.gpath(TEST_RUNS_LATEST))
    if text is None:
        return "test_runs_latest.md missing"
    line = first_line(text)
    if not STATUS_PASS.match(line):
        shown = line if len(line) <= 120 else line[:117] + "..."
        return f"test_runs_latest.md line 1 is '{shown}', expected 'Status: PASS'"
    return None
