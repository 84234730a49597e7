"""GET /health: the database answers, how many jobs wait, and the builder's sandbox isolation."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
from aiohttp import web

from forgeguard_app.builder.sandbox import isolation_line, isolation_mode
from forgeguard_app.jobs import waiting_count
from forgeguard_app.web.state import state_of

log = logging.getLogger(__name__)

DATABASE_TIMEOUT = 3.0


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
    # Probed once per process (a subprocess), so off the event loop.
    mode = await asyncio.to_thread(isolation_mode)
    sandbox = {"isolation": mode.value, "detail": await asyncio.to_thread(isolation_line)}
    return web.json_response(
        {
            "status": "ok",
            "database": "ok",
            "queue": {"waiting": waiting},
            "sandbox": sandbox,
            "version": state.version,
        }
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/health", health)
