"""A2 Minimal-diff discipline: no renames in the change (copies and mode changes pass).

Renames are a discipline of the Forge cycle: on a repository without Forge
governance A2 is a warning unless configured (`AuditConfig.severity`).
"""

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
    if ctx.governed:
        how = (
            "`checks: {A2: {severity: warning}}` in .github/forgeguard.yml makes it a warning, "
            "`off` turns it off"
        )
    else:
        how = (
            "A2 is a warning on a repository without Forge governance; `checks: {A2: {severity: blocking}}` "
            "in .github/forgeguard.yml makes it blocking, `off` turns it off"
        )
    findings = [
        Finding(
            f.path,
            f"renamed from {f.previous_path} ({f.similarity}% similar)"
            if f.similarity
            else f"renamed from {f.previous_path}",
        )
        for f in renames
    ]
    return Verdict("fail", f"Rename detected: {'; '.join(pairs)}. ({how}.)", findings)
