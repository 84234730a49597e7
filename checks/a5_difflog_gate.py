"""A5 Diff log gate: the diff log exists and its header has no `TODO:` placeholders."""

from __future__ import annotations

import re
from collections.abc import Iterable

from checks import governance
from checks.context import AuditContext, Verdict
from checks.model import Finding

CODE = "A5"
NAME = "Diff log gate"

TODO = re.compile(r"TODO:", re.IGNORECASE)


def wants(ctx: AuditContext) -> Iterable[str]:
    return governance.difflog_candidates(ctx)


def run(ctx: AuditContext) -> Verdict:
    if not ctx.governed:
        return Verdict("skip", governance.NOT_GOVERNED)
    loaded = governance.load_difflog(ctx)
    if loaded is None:
        return Verdict("fail", "updatedifflog.md missing.")
    path, difflog = loaded
    findings = [
        Finding(path, "TODO: placeholder in the diff log", start_line=number)
        for number, line in enumerate(difflog.header.split("\n"), start=1)
        if TODO.search(line)
    ]
    if not findings:
        return Verdict("pass", "No TODO: placeholders in the diff log.")
    lines = ", ".join(str(f.start_line) for f in findings[:10])
    more = "" if len(findings) <= 10 else ", …"
    return Verdict(
        "fail",
        f"{len(findings)} TODO: placeholder(s) in the diff log before Minimal Diff Hunks "
        f"(line {lines}{more}).",
        findings,
    )
