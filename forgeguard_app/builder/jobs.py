"""The builder's jobs: `builder.step` (one step of one build) and the watchdog that ends stuck builds.

Steps of one build share the order key `build:<id>`, so they never run side
by side; a worker killed mid-step leaves its job to pgqueuer's heartbeat, and
another worker runs the step again from the saved state (`steps`).

The watchdog (at start and every few minutes in every worker process) gives
every build a final state instead of "working…" forever:

- a running build with no step queued or running for `STALLED_AFTER` (its
  step failed for good, or its job was lost) ends `failed`;
- a paused build waits at most `builder.pause_timeout`, then ends `timed_out`;
- a paused build whose issue was closed or locked stops waiting (`aborted`; the
  `issues` webhook usually got there first: `events`, `stops`);
- a paused build that was asked to cancel while its last step was pausing it ends
  `cancelled` (the request came too late for that step to see it).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from forgeguard_app.builder import github_side, stops, store
from forgeguard_app.builder.steps import STEP_JOB, run_step, stop_failed
from forgeguard_app.builder.stops import end_build
from forgeguard_app.context import JobContext
from forgeguard_app.jobs import dispatch_pending, handler

if TYPE_CHECKING:
    from forgeguard_app.db import Database
    from forgeguard_app.github.client import GitHubApp

log = logging.getLogger(__name__)

STALLED_AFTER = timedelta(minutes=10)
SWEEP_EVERY = 120.0


@handler(STEP_JOB, max_attempts=5, retry_delay=timedelta(seconds=2), max_delay=timedelta(seconds=60))
async def step_job(ctx: JobContext, payload: dict[str, Any]) -> None:
    """One step of one build."""
    await run_step(ctx, int(payload["build_id"]), int(payload["seq"]))


async def sweep(db: Database, github: GitHubApp, stalled_after: timedelta = STALLED_AFTER) -> int:
    """One watchdog pass; the number of builds it ended."""
    ended = 0
    for build_id in await store.stalled_running(db.pool, stalled_after.total_seconds()):
        minutes = int(stalled_after.total_seconds() // 60)
        await stop_failed(db, build_id, None, f"its steps stopped for more than {minutes} minutes")
        ended += 1
    if ended:
        await dispatch_pending(db.pool)
    for build_id in await store.paused_builds(db.pool):
        build = await store.load(db.pool, build_id)
        if build is None or build.paused_at is None:
            continue
        if build.cancel_reason is not None:
            if await end_build(db, build_id, "cancelled", build.cancel_reason):
                ended += 1
            continue
        waited = time.time() - build.paused_at.timestamp()
        if waited > build.config.pause_timeout:
            hours = build.config.pause_timeout / 3600
            if await end_build(
                db, build_id, "timed_out", f"nobody continued the paused build within {hours:g}h"
            ):
                ended += 1
            continue
        try:
            api = await github.installation_api(build.installation_id)
            issue = await github_side.issue_state(api, build.owner, build.repo, build.issue_number)
        except Exception as exc:
            log.warning(
                "watchdog: could not read issue #%s of build %s: %s", build.issue_number, build_id, exc
            )
            continue
        if await stops.stop(db, build_id, functools.partial(stops.issue_stop, issue=issue)):
            ended += 1
    return ended


async def watchdog(db: Database, github: GitHubApp, every: float = SWEEP_EVERY) -> None:
    """Forever: a sweep now (startup) and every `every` seconds."""
    while True:
        try:
            await sweep(db, github)
        except Exception:
            log.exception("builder watchdog sweep failed")
        await asyncio.sleep(every)
