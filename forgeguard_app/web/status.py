"""The public part of `/`: counts and an honest health line. No repository names or other private data.

Health is "healthy" only when the app is configured, the database answers,
GitHub accepts the app's credentials, and no job failed in the last day; anything
else says what is wrong. The last job error is shown by kind, time and error type
(the full message stays in the logs: it may name private repositories).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

import aiohttp
import asyncpg
from aiohttp import web

from forgeguard_app.web.state import AppState

log = logging.getLogger(__name__)

DELIVERY_STATUSES = ("queued", "processed", "ignored", "failed")
AUDIT_STATES = ("success", "failure", "neutral", "cancelled", "failed", "in progress")
GITHUB_PROBE_TTL = 60.0
GITHUB_PROBE_TIMEOUT = 5.0


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


@dataclass(frozen=True)
class Health:
    healthy: bool
    summary: str
    problems: list[str]


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


def judge(*, setup_mode: bool, missing: list[str], counts: Counts | None, github: str | None) -> Health:
    """The health line from what was observed.

    `github`: "ok", "unreachable", "refused", or None (not asked: setup mode or no database).
    """
    problems: list[str] = []
    if setup_mode:
        problems.append(f"setup mode: {', '.join(missing)} not configured")
    if counts is None:
        problems.append("the database cannot be reached")
    if github == "unreachable":
        problems.append("GitHub cannot be reached")
    elif github == "refused":
        problems.append("GitHub refuses the app's credentials")
    if counts is not None:
        if counts.jobs_failed_last_day:
            n = counts.jobs_failed_last_day
            problems.append(f"{n} job{'s' if n != 1 else ''} failed in the last day")
        if counts.audits.get("failed"):
            n = counts.audits["failed"]
            problems.append(f"{n} audit{'s' if n != 1 else ''} could not finish")
    if not problems:
        return Health(True, "healthy", [])
    if setup_mode:
        summary = "not ready"
    elif counts is None or github in ("unreachable", "refused"):
        summary = "not working"
    else:
        summary = "degraded"
    return Health(False, summary, problems)


def github_answer(status: int) -> str:
    if status == 200:
        return "ok"
    return "refused" if status in (401, 403) else "unreachable"


@dataclass
class Probe:
    """The last answer to "does GitHub accept the app?" in this web process."""

    at: float = 0.0
    result: str | None = None


PROBE = web.AppKey("forgeguard_github_probe", Probe)


async def probe_github(state: AppState, session: aiohttp.ClientSession, probe: Probe) -> str | None:
    """Whether GitHub accepts the app's JWT (`GET /app`), asked at most once a minute per process."""
    github = state.github
    if github is None:
        return None
    if probe.result is not None and time.monotonic() - probe.at < GITHUB_PROBE_TTL:
        return probe.result
    headers = {
        "Accept": "application/vnd.github+json",
        "Authorization": f"Bearer {github.jwt.get()}",
        "X-GitHub-Api-Version": "2022-11-28",
    }
    try:
        async with (
            asyncio.timeout(GITHUB_PROBE_TIMEOUT),
            session.get(f"{state.settings.api_url.rstrip('/')}/app", headers=headers) as response,
        ):
            result = (
                "ok"
                if response.status == 200
                else "refused"
                if response.status in (401, 403)
                else "unreachable"
            )
    except (aiohttp.ClientError, TimeoutError, OSError):
        result = "unreachable"
    if result != "ok":
        log.warning("status: GitHub %s", result)
    probe.at, probe.result = time.monotonic(), result
    return result
