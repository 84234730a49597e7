"""A2 Minimal-diff discipline: no renames in the change (copies and mode changes pass)."""

from __future__ import annotations

from collections.abc import Iterable

from checks.context import AuditContext, Verdict
from checks.model import Finding

CODE = "A2"
NAME = "Minimal-diff discipline"


def wants(ctx: AuditContext) -> Iterable[str]:
    return ()


def run(ctx: AuditContext) -> Verdict:
    change = ctx.scope_change or ctx.change
    renames = [f for f in change.files if f.status == "renamed"]
    if not renames:
        return Verdict("pass", f"No renames among the {len(change.files)} changed files.")
    pairs = [f"{f.previous_path} -> {f.path}" for f in renames]
    findings = [
        Finding(
            f.path,
            f"renamed from {f.previous_path} ({f.similarity}% similar)"
            if f.similarity
            else f"renamed from {f.previous_path}",
        )
        for f in renames
    ]
    return Verdict("fail", f"Rename detected: {'; '.join(pairs)}", findings)
