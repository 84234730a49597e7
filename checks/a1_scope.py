"""A1 Scope compliance: the changed files are exactly the files the diff log claims."""

from __future__ import annotations

from collections.abc import Iterable

from checks import governance
from checks.context import AuditContext, Verdict
from checks.model import Finding

CODE = "A1"
NAME = "Scope compliance"

LISTED = 25
"""Paths named in the detail; every unclaimed path is also a finding."""


def wants(ctx: AuditContext) -> Iterable[str]:
    return governance.difflog_candidates(ctx)


def run(ctx: AuditContext) -> Verdict:
    if not ctx.governed:
        return Verdict("skip", governance.NOT_GOVERNED)
    loaded = governance.load_difflog(ctx)
    if loaded is None:
        return Verdict("fail", "diff log missing")
    claimed = set(ctx.claimed_override if ctx.claimed_override is not None else loaded[1].claimed)
    change = ctx.scope_change or ctx.change
    changed = set(change.paths())
    previous = {f.previous_path for f in change.files if f.status == "renamed" and f.previous_path}
    unclaimed = sorted(changed - claimed - governance.scope_allowlist(ctx))
    phantom = sorted(claimed - changed - previous)
    if not unclaimed and not phantom:
        return Verdict("pass", f"Changed files match the claimed files ({len(changed)} files).")
    parts = []
    if unclaimed:
        parts.append(f"Unclaimed in diff: {_listing(unclaimed)}.")
    if phantom:
        parts.append(f"Claimed but not in diff: {_listing(phantom)}.")
    findings = [Finding(path, "changed but not claimed in the diff log") for path in unclaimed]
    return Verdict("fail", " ".join(parts), findings)


def _listing(paths: list[str]) -> str:
    if len(paths) <= LISTED:
        return ", ".join(paths)
    return f"{', '.join(paths[:LISTED])} and {len(paths) - LISTED} more"
