"""Deliveries refused while the database was down are asked for again: GitHub does not redeliver by itself.

`POST /webhooks` answers 503 when it cannot store a delivery and notes when
(`Missed`). Once the database answers again, and at every start, the app lists
its webhook's recent deliveries (`GET /app/hook/deliveries`, as the app: JWT)
and asks GitHub to redeliver (`POST /app/hook/deliveries/{id}/attempts`) each
one that never got a 2xx and that is not stored here, at most a few times each.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from forgeguard_app.db import Database, Executor
from forgeguard_app.jobs import database_unavailable, describe_error

if TYPE_CHECKING:
    from forgeguard_app.github.client import GitHubApp

log = logging.getLogger(__name__)

KEPT_BY_GITHUB = timedelta(days=3)
"""GitHub lists the deliveries of the past three days."""
MAX_ATTEMPTS = 4
"""A delivery GitHub already tried this often (first try and redeliveries) is not asked for again."""
CHECK_EVERY = 15.0


@dataclass
class Missed:
    """When the webhook endpoint first refused a delivery it could not store (None: nothing missed)."""

    since: datetime | None = None

    def note(self) -> None:
        if self.since is None:
            self.since = datetime.now(UTC)


def _when(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


def to_redeliver(items: Iterable[dict[str, Any]], stored: set[str], since: datetime) -> list[int]:
    """Delivery ids to ask for again: per guid its latest attempt, if none succeeded and none is stored.

    `items` are GitHub's delivery attempts (newest first, as listed).
    """
    latest: dict[str, dict[str, Any]] = {}
    attempts: dict[str, int] = {}
    succeeded: set[str] = set()
    for item in items:
        guid = str(item.get("guid") or "")
        delivered = _when(item.get("delivered_at"))
        if not guid or delivered is None or delivered < since:
            continue
        attempts[guid] = attempts.get(guid, 0) + 1
        latest.setdefault(guid, item)
        status = item.get("status_code")
        if isinstance(status, int) and 200 <= status < 300:
            succeeded.add(guid)
    return [
        int(item["id"])
        for guid, item in latest.items()
        if guid not in succeeded and guid not in stored and attempts[guid] < MAX_ATTEMPTS
    ]


async def stored_ids(conn: Executor, guids: list[str]) -> set[str]:
    rows = await conn.fetch("SELECT id FROM deliveries WHERE id = ANY($1::text[])", guids)
    return {r["id"] for r in rows}


async def last_received(conn: Executor) -> datetime | None:
    return await conn.fetchval("SELECT max(received_at) FROM deliveries")  # type: ignore[no-any-return]


async def redeliver_failed(db: Database, github: GitHubApp, since: datetime) -> int:
    """Ask GitHub again for the failed deliveries since `since` that are not stored; how many."""
    since = max(since, datetime.now(UTC) - KEPT_BY_GITHUB)
    api = await github.app_api()
    items: list[dict[str, Any]] = []
    async for item in api.getiter("/app/hook/deliveries{?per_page}", {"per_page": "100"}):
        delivered = _when(item.get("delivered_at"))
        if delivered is not None and delivered < since:
            break
        items.append(item)
    stored = await stored_ids(db.pool, sorted({str(i.get("guid")) for i in items}))
    ids = to_redeliver(items, stored, since)
    for delivery_id in ids:
        await api.post(f"/app/hook/deliveries/{delivery_id}/attempts", data=b"")
    if ids:
        log.info("asked GitHub to redeliver %d delivery(ies) refused while the database was down", len(ids))
    return len(ids)


async def at_start(db: Database, github: GitHubApp) -> int:
    """At start: what was missed since the last delivery stored (5 minutes' margin), else in 3 days."""
    last = await last_received(db.pool)
    since = (last - timedelta(minutes=5)) if last is not None else datetime.now(UTC) - KEPT_BY_GITHUB
    return await redeliver_failed(db, github, since)


async def keep_watch(db: Database, github: GitHubApp, missed: Missed, every: float = CHECK_EVERY) -> None:
    """Forever: the start-up pass (until it succeeds), then a pass whenever deliveries were refused."""
    started = False
    pending: datetime | None = None
    while True:
        if missed.since is not None:
            since = missed.since - timedelta(minutes=1)
            pending, missed.since = since if pending is None else min(pending, since), None
        try:
            if not started:
                await at_start(db, github)
                started = True
            elif pending is not None:
                await redeliver_failed(db, github, pending)
                pending = None
        except Exception as exc:
            level = logging.INFO if database_unavailable(exc) else logging.WARNING
            log.log(level, "asking GitHub to redeliver failed deliveries: %s", describe_error(exc))
        await asyncio.sleep(every)
