"""GET /: the status page. Counts only: no repository names or other private data."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import asyncpg
from aiohttp import web

from forgeguard_app.web import setup
from forgeguard_app.web.state import state_of
from forgeguard_app.web.templating import render

log = logging.getLogger(__name__)

DELIVERY_STATUSES = ("queued", "processed", "ignored", "failed")
AUDIT_CONCLUSIONS = ("success", "failure", "neutral", "cancelled")


@dataclass
class Counts:
    deliveries: dict[str, int] = field(default_factory=dict)
    deliveries_total: int = 0
    deliveries_last_day: int = 0
    jobs: dict[str, int] = field(default_factory=dict)
    audits: dict[str, int] = field(default_factory=dict)
    installations: int = 0


def by_key(rows: list[asyncpg.Record], keys: tuple[str, ...], other: str) -> dict[str, int]:
    """Counts per known key (zero when absent), anything else under `other`."""
    counts = dict.fromkeys(keys, 0)
    for row in rows:
        key = row["key"] if row["key"] in keys else other
        counts[key] = counts.get(key, 0) + int(row["n"])
    return counts


async def gather_counts(conn: asyncpg.Connection) -> Counts:
    counts = Counts()
    rows = await conn.fetch("SELECT status AS key, count(*) AS n FROM deliveries GROUP BY status")
    counts.deliveries = by_key(rows, DELIVERY_STATUSES, "other")
    counts.deliveries_total = sum(counts.deliveries.values())
    counts.deliveries_last_day = int(
        await conn.fetchval("SELECT count(*) FROM deliveries WHERE received_at > now() - interval '1 day'")
    )
    rows = await conn.fetch("SELECT status AS key, count(*) AS n FROM jobs GROUP BY status")
    jobs = by_key(rows, ("blocked", "queued", "retrying", "running", "succeeded", "failed"), "other")
    counts.jobs = {
        "waiting": jobs["blocked"] + jobs["queued"] + jobs["retrying"],
        "running": jobs["running"],
        "succeeded": jobs["succeeded"],
        "failed": jobs["failed"],
    }
    counts.installations = int(
        await conn.fetchval("SELECT count(*) FROM installations WHERE deleted_at IS NULL")
    )
    if await conn.fetchval("SELECT to_regclass('audit_runs') IS NOT NULL"):
        rows = await conn.fetch(
            "SELECT coalesce(conclusion, 'in progress') AS key, count(*) AS n FROM audit_runs GROUP BY 1"
        )
        counts.audits = by_key(rows, (*AUDIT_CONCLUSIONS, "in progress"), "other")
    else:
        counts.audits = by_key([], (*AUDIT_CONCLUSIONS, "in progress"), "other")
    return counts


async def status_page(request: web.Request) -> web.Response:
    state = state_of(request)
    counts: Counts | None = None
    restart_for = None
    try:
        async with state.db.pool.acquire() as conn:
            counts = await gather_counts(conn)
            if state.settings.setup_mode:
                restart_for = await setup.restart_needed(request.app, conn)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        log.warning("status page: database unreachable: %s", type(exc).__name__)
    return render(
        "web/status.html",
        status=200 if counts is not None else 503,
        version=state.version,
        setup_mode=state.settings.setup_mode,
        missing=state.settings.missing_credentials,
        healthy=counts is not None,
        counts=counts,
        restart_for=restart_for,
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", status_page)
