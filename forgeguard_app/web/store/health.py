"""The status page's counts and the health line's facts, read from the app's tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

DELIVERY_STATUSES = ("queued", "processed", "ignored", "failed")
AUDIT_STATES = ("success", "failure", "neutral", "cancelled", "failed", "in progress")


@dataclass(frozen=True)
class LastError:
    kind: str
    at: datetime
    error_type: str


@dataclass
class Counts:
    deliveries: dict[str, int] = field(default_factory=dict)
    deliveries_total: int = 0
    deliveries_last_day: int = 0
    jobs: dict[str, int] = field(default_factory=dict)
    jobs_failed_last_day: int = 0
    audits: dict[str, int] = field(default_factory=dict)
    installations: int = 0
    last_error: LastError | None = None


def by_key(rows: list[asyncpg.Record], keys: tuple[str, ...], other: str) -> dict[str, int]:
    """Counts per known key (zero when absent), anything else under `other`."""
    counts = dict.fromkeys(keys, 0)
    for row in rows:
        key = row["key"] if row["key"] in keys else other
        counts[key] = counts.get(key, 0) + int(row["n"])
    return counts


def error_type(text: str) -> str:
    """`ClientConnectorError` from `ClientConnectorError: Cannot connect to host …`."""
    head = text.split(":", 1)[0].strip()
    return head if head.replace("_", "").replace(".", "").isalnum() and len(head) <= 80 else "error"


async def gather_health(conn: asyncpg.Connection, counts: Counts | None = None) -> Counts:
    """What the health line needs, each by index: failed jobs of the last day, audits that could not
    finish, the last job error. (The signed-in pages read only these, not the full counts.)"""
    counts = counts or Counts()
    counts.jobs_failed_last_day = int(
        await conn.fetchval(
            "SELECT count(*) FROM jobs WHERE status = 'failed' AND finished_at > now() - interval '1 day'"
        )
    )
    failed_audits = int(
        await conn.fetchval(
            "SELECT count(*) FROM audit_runs WHERE status <> 'completed' AND error IS NOT NULL"
        )
    )
    counts.audits = {**counts.audits, "failed": failed_audits}
    row = await conn.fetchrow(
        """SELECT kind, coalesce(finished_at, started_at, created_at) AS at, last_error
           FROM jobs WHERE last_error IS NOT NULL ORDER BY id DESC LIMIT 1"""
    )
    if row is not None:
        counts.last_error = LastError(row["kind"], row["at"], error_type(row["last_error"]))
    return counts


async def gather_counts(conn: asyncpg.Connection) -> Counts:
    """Everything the public status page shows."""
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
    rows = await conn.fetch(
        """SELECT CASE WHEN status = 'completed' THEN coalesce(conclusion, 'neutral')
                       WHEN error IS NOT NULL THEN 'failed'
                       ELSE 'in progress' END AS key,
                  count(*) AS n
           FROM audit_runs GROUP BY 1"""
    )
    counts.audits = by_key(rows, AUDIT_STATES, "other")
    return await gather_health(conn, counts)
