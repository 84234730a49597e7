"""The `delivery` job: a stored webhook delivery routed to the feature routers (composed in `wiring`)."""

from __future__ import annotations

import json
import logging
from typing import Any

from gidgethub.routing import Router
from gidgethub.sansio import Event

from forgeguard_app.context import EventContext, JobContext
from forgeguard_app.jobs import JobFunc, describe_error
from forgeguard_app.logs import delivery_id_var

log = logging.getLogger(__name__)

DELIVERY_JOB = "delivery"
DELIVERY_MAX_ATTEMPTS = 3


def delivery_order_key(repository_id: int | None) -> str | None:
    """Deliveries for one repository are handled in the order received."""
    return None if repository_id is None else f"deliveries:repo:{repository_id}"


def delivery_job(router: Router) -> JobFunc:
    """The `delivery` job's handler, dispatching through `router` (see `forgeguard_app.wiring`)."""

    async def run(ctx: JobContext, payload: dict[str, Any]) -> None:
        await run_delivery(ctx, payload, router)

    return run


async def run_delivery(ctx: JobContext, payload: dict[str, Any], router: Router) -> None:
    """Load the delivery, dispatch it, and mark it processed (or failed on the last attempt)."""
    delivery_id = str(payload["delivery_id"])
    token = delivery_id_var.set(delivery_id)
    try:
        row = await ctx.db.pool.fetchrow(
            "SELECT event, installation_id, payload::text AS payload, status FROM deliveries WHERE id = $1",
            delivery_id,
        )
        if row is None:
            log.error("delivery %s is not stored", delivery_id)
            return
        if row["status"] == "processed":
            return
        event = Event(json.loads(row["payload"]), event=row["event"], delivery_id=delivery_id)
        event_ctx = EventContext(
            db=ctx.db,
            settings=ctx.settings,
            github=ctx.github,
            llm=ctx.llm,
            job_id=ctx.job_id,
            attempt=ctx.attempt,
            max_attempts=ctx.max_attempts,
            worker=ctx.worker,
            delivery_id=delivery_id,
            installation_id=row["installation_id"],
        )
        try:
            await router.dispatch(event, event_ctx)
        except Exception as exc:
            if ctx.final_attempt:
                await _mark(ctx, delivery_id, "failed", describe_error(exc))
            raise
        await _mark(ctx, delivery_id, "processed", None)
        log.info("processed %s delivery", row["event"])
    finally:
        delivery_id_var.reset(token)


async def _mark(ctx: JobContext, delivery_id: str, status: str, error: str | None) -> None:
    await ctx.db.pool.execute(
        "UPDATE deliveries SET status = $2, processed_at = now(), error = $3 WHERE id = $1",
        delivery_id,
        status,
        error,
    )
