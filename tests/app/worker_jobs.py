"""Job kinds for the tests that run `forgeguard worker` processes.

Imported by those tests and by the worker subprocesses they start.
"""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from typing import Any

from forgeguard_app.context import JobContext
from forgeguard_app.jobs import handler

KIND = "test.interrupted"
RECORD_KIND = "test.record_worker"


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


@handler(RECORD_KIND, max_attempts=1)
async def record_worker(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Note which process ran the job; slow enough that one process cannot take them all."""
    await asyncio.sleep(0.05)
    await ctx.db.pool.execute(
        "INSERT INTO job_effects (job_id, attempt, phase) VALUES ($1, $2, $3)",
        ctx.job_id,
        ctx.attempt,
        f"pid {os.getpid()}",
    )
