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
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from forgeguard_app.web.state import AppState
from forgeguard_app.web.store.health import Counts

log = logging.getLogger(__name__)

GITHUB_PROBE_TTL = 60.0
GITHUB_PROBE_TIMEOUT = 5.0


@dataclass(frozen=True)
class Health:
    healthy: bool
    summary: str
    problems: list[str]


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
