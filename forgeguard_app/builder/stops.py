"""Builds stopped from outside: by the watchdog's limits, a closed or locked issue, a closed pull request.

The watchdog (`jobs.sweep`, which polls the issue of every paused build) and
the webhook handlers (`events`, which hear of it at once) both decide here and
act here, under the lock the commands take (`service`): the build's row
`FOR UPDATE`, its state saved as the next `seq` and its next step queued in
one transaction, so a `/forge retry` or `skip` at the same moment either goes
first (and the stop sees a running build) or finds the build ended.

What a stop does depends on the build's status at that moment:

- a paused build ends now, `aborted`, with the reason (its `finish` step
  edits the progress comment and keeps the draft);
- a running build stops at its next step, after the tool call in progress,
  `cancelled` with the reason: the safe point of `/forge cancel`.

Why these stop a build:

- A closed issue stops it, paused or running: the work it asked for is no
  longer wanted, and a team would not have a bot keep committing for it.
- A locked issue stops a paused build only. A paused build does nothing but
  wait for a person in that conversation, which the lock has ended; a running
  build needs nobody and goes on. Should it pause later, the watchdog finds
  the lock at its next sweep and ends it then.
- A closed (not merged) build pull request stops it, paused or running: it was
  where every commit, check and the progress comment of the build live, and
  closing it is how a person on that page says "no more".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from forgeguard_app.builder import state as st
from forgeguard_app.builder import store
from forgeguard_app.builder.github_side import IssueState
from forgeguard_app.builder.steps import queue_step
from forgeguard_app.jobs import dispatch_pending

if TYPE_CHECKING:
    from forgeguard_app.db import Database, Executor

log = logging.getLogger(__name__)

Why = Callable[[str], str | None]
"""The reason a build with this status stops, or None when it goes on."""


def issue_stop(status: str, issue: IssueState) -> str | None:
    """Why a build with `status` stops when its issue is in state `issue` (None: it goes on)."""
    if status == "paused" and (not issue.open or issue.locked):
        return f"the issue was {'closed' if not issue.open else 'locked'} while the build was paused"
    if status == "running" and not issue.open:
        return "the issue was closed while the build was running"
    return None


def pull_stop(status: str) -> str | None:
    """Why a build with `status` stops when its pull request was closed without being merged."""
    if status not in st.ACTIVE:
        return None
    return f"the pull request was closed while the build was {status}"


async def stop(db: Database, build_id: int, why: Why) -> str | None:
    """Stop the build if `why(status)` gives a reason: paused now (`aborted`), running at its next step.

    The reason, or None when the build goes on (or had ended already: a redelivered event stops nothing).
    """
    async with db.pool.acquire() as conn, conn.transaction():
        build = await store.load(conn, build_id, for_update=True)
        if build is None or not build.active:
            return None
        reason = why(build.status)
        if reason is None:
            return None
        if build.status == "running":
            await store.request_cancel(conn, build.id, reason)
            log.info("build %s stops at its next step: %s", build.id, reason)
            return reason
        if not await _end(conn, build, "aborted", reason):
            return None
    await dispatch_pending(db.pool)
    log.info("build %s aborted: %s", build_id, reason)
    return reason


async def end_build(db: Database, build_id: int, status: st.Status, reason: str) -> bool:
    """End an active build with `status` and `reason`; its `finish` step publishes it. False if not active."""
    async with db.pool.acquire() as conn, conn.transaction():
        build = await store.load(conn, build_id, for_update=True)
        if build is None or not build.active:
            return False
        if not await _end(conn, build, status, reason):
            return False
    await dispatch_pending(db.pool)
    return True


async def _end(conn: Executor, build: store.BuildRow, status: st.Status, reason: str) -> bool:
    """The locked build ends: state saved as the next step, its `finish` step queued (same transaction)."""
    st.end(build.state, status, reason, time.time())
    build.state.pause = None
    if not await store.save(conn, build):
        return False
    await queue_step(conn, build.id, build.seq)
    return True
