"""A3 Evidence completeness: test_runs_latest.md reports PASS and the diff log holds text."""

from __future__ import annotations

from collections.abc import Iterable

from checks import governance
from checks.context import AuditContext, Verdict

CODE = "A3"
NAME = "Evidence completeness"


def wants(ctx: AuditContext) -> Iterable[str]:
    return [ctx.gpath(governance.TEST_RUNS_LATEST), *governance.difflog_candidates(ctx)]


def run(ctx: AuditContext) -> Verdict:
    if not ctx.governed:
        return Verdict("skip", governance.NOT_GOVERNED)
    reasons = []
    problem = governance.test_runs_problem(ctx)
    if problem:
        reasons.append(problem)
    loaded = governance.load_difflog(ctx)
    if loaded is None:
        reasons.append("updatedifflog.md missing")
    elif not loaded[1].text.strip():
        reasons.append("updatedifflog.md is empty")
    if reasons:
        return Verdict("fail", "; ".join(reasons))
    return Verdict("pass", "test_runs_latest.md reports Status: PASS and the diff log is filled in.")
