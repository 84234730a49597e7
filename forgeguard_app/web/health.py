"""GET /health: the database answers, how many jobs wait, and the builder's sandbox isolation."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping

import asyncpg
from aiohttp import web

from forgeguard_app.jobs import waiting_count
from forgeguard_app.web.state import state_of

log = logging.getLogger(__name__)

DATABASE_TIMEOUT = 3.0

SandboxStatus = Callable[[], Mapping[str, str]]
SANDBOX_STATUS = web.AppKey[SandboxStatus]("sandbox_status")
"""Set by the server (`builder.sandbox.sandbox_status`): which isolation the builder's commands get.
Given to this page rather than imported, so the web layer does not depend on the builder."""


async def health(request: web.Request) -> web.Response:
    state = state_of(request)
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT):
            waiting = await waiting_count(state.db.pool)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        log.warning("health: database unreachable: %s", type(exc).__name__)
        return web.json_response(
            {"status": "error", "database": "unreachable", "version": state.version}, status=503
        )
    body: dict[str, object] = {"status": "ok", "database": "ok", "queue": {"waiting": waiting}}
    sandbox_status = request.app.get(SANDBOX_STATUS)
    if sandbox_status is not None:
        # Probed once per process (a subprocess), so off the event loop.
        body["sandbox"] = dict(await asyncio.to_thread(sandbox_status))
    body["version"] = state.version
    return web.json_response(body)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/health", health)
