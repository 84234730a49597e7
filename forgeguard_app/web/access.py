"""Who may see what on the status site: only what GitHub says, never what webhooks said.

A person's installations and repositories are read from GitHub with their own
token (`GET /user/installations`, `GET /user/installations/{id}/repositories`),
stored per GitHub user, and trusted for `ACCESS_TTL`; after that they are read
again before anything private is shown. When GitHub cannot be asked and the copy
is stale, nothing private is shown (fail closed).

`may_see(conn, user_id, installation_id, owner, repo)` is the one rule every page
and event stream applies to a row that belongs to a repository (audits, builds).
"""

from __future__ import annotations

import asyncio
import datetime

import aiohttp
import asyncpg

from forgeguard_app.db import Executor
from forgeguard_app.settings import Settings
from forgeguard_app.web import oauth
from forgeguard_app.web.store import access as store

ACCESS_TTL = datetime.timedelta(minutes=5)


_locks: dict[int, asyncio.Lock] = {}


async def ensure_fresh(
    pool: asyncpg.Pool,
    session: aiohttp.ClientSession,
    settings: Settings,
    user_id: int,
    login: str,
    token: str,
) -> bool:
    """True when the stored access may be trusted now (refreshed from GitHub if it was stale).

    False when it is stale and GitHub could not be asked. Raises oauth.TokenRefused.
    """
    if await store.is_fresh(pool, user_id, ACCESS_TTL):
        return True
    lock = _locks.setdefault(user_id, asyncio.Lock())
    async with lock:
        if await store.is_fresh(pool, user_id, ACCESS_TTL):
            return True
        try:
            found = await oauth.installations(session, settings, token)
        except oauth.GitHubUnavailable:
            return False
        async with pool.acquire() as conn, conn.transaction():
            await store.save(conn, user_id, login, found)
        return True


async def may_see(conn: Executor, user_id: int, installation_id: int, owner: str, repo: str) -> bool:
    """The rule: GitHub listed this repository, through this installation, for this person.

    Every page and stream showing a row of a repository (audit, intake, build) asks this,
    after `ensure_fresh` confirmed the person's copy of their access.
    """
    return await store.listed(conn, user_id, installation_id, owner, repo)
