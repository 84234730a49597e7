"""A8 Test gate: test_runs_latest.md exists and its first line is `Status: PASS`."""

from __future__ import annotations

from collections.abc import Iterable

from checks import governance
from checks.context import AuditContext, Verdict

CODE = "A8"
NAME = "Test gate"


def wants(ctx: AuditContext) -> Iterable[str]:
    return [ctx.gpath(governance.TEST_RUNS_LATEST)]


def run(ctx: AuditContext) -> Verdict:
    if not ctx.governed:
        return Verdict("skip", governance.NOT_GOVERNED)
    problem = governance.test_runs_problem(ctx)
    if problem:
        return Verdict("fail", problem)
    return Verdict("pass", "test_runs_latest.md reports Status: PASS.")
