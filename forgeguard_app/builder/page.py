"""`GET /builds/{id}`: the page the progress comment links to.

Until the status site has sign-in it shows nothing private, like `/audits/{id}`:
no repository, no paths, no plan, no message, no finding text; only the build's
state, each phase's number and state, counts (attempts, audits, tool calls,
test runs) and costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from forgeguard_app.builder import progress, store
from forgeguard_app.builder.costs import build_costs
from forgeguard_app.web.state import state_of
from forgeguard_app.web.templating import render


@dataclass(frozen=True)
class PhaseRow:
    number: int
    state: str
    attempts: int
    tool_calls: int
    test_runs: int
    cost: str


@dataclass(frozen=True)
class BuildPage:
    id: int
    status: str
    created_at: datetime
    finished_at: datetime | None
    phases: list[PhaseRow]
    audits: int
    loopbacks: int
    planner_calls: int
    test_runs: int
    tool_calls: int
    cost: str


def _state_word(status: str) -> str:
    return {"running": "running", "paused": "paused"}.get(status, status)


async def build_handler(request: web.Request) -> web.Response:
    try:
        build_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound(text="no such build") from None
    pool = state_of(request).db.pool
    build = await store.load(pool, build_id)
    if build is None:
        return render("builder/build.html", status=404, build=None, build_id=build_id)
    costs = await build_costs(pool, build_id)
    state = build.state
    phases = [
        PhaseRow(
            number=p.number,
            state=p.status if not p.failures else f"{p.status}, failed {p.failures}×",
            attempts=len(p.attempts),
            tool_calls=p.tool_calls,
            test_runs=p.test_runs,
            cost=progress.format_cost(float(costs.phase(p.number).total_usd)),
        )
        for p in state.phases
    ]
    page = BuildPage(
        id=build.id,
        status=_state_word(build.status),
        created_at=build.created_at,
        finished_at=build.finished_at,
        phases=phases,
        audits=state.audits,
        loopbacks=state.loopbacks,
        planner_calls=state.planner_calls,
        test_runs=state.test_runs,
        tool_calls=sum(state.tool_counts.values()),
        cost=progress.format_cost(float(costs.total_usd)),
    )
    return render("builder/build.html", build=page, build_id=build_id)


def add_routes(app: web.Application) -> None:
    app.router.add_get(r"/builds/{id:\d+}", build_handler)
