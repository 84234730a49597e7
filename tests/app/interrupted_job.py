"""A job kind for the killed-worker test: its first attempt never ends on its own.

Imported by the test and by the `forgeguard worker` subprocess it starts.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from forgeguard_app.jobs import JobContext, handler

KIND = "test.interrupted"


@handler(KIND, max_attempts=3, retry_delay=timedelta(seconds=0.2))
async def interrupted(ctx: JobContext, payload: dict[str, Any]) -> None:
    await ctx.db.pool.execute(
        "INSERT INTO job_effects (job_id, attempt, phase) VALUES ($1, $2, 'started')", ctx.job_id, ctx.attempt
    )
    if ctx.attempt == 1:
        await asyncio.sleep(3600)
    await ctx.db.pool.execute(
        "INSERT INTO job_effects (job_id, attempt, phase) VALUES ($1, $2, 'completed')",
        ctx.job_id,
        ctx.attempt,
    )
