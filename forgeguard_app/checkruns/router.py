"""Webhook handlers for audits: they only decide and enqueue an `audit` job; the job does the work.

Every handler is `async def on_x(event: Event, ctx: EventContext) -> None`
(`forgeguard_app.context`); the router is composed in `forgeguard_app.wiring`.
"""

from __future__ import annotations

import logging

from gidgethub import routing
from gidgethub.sansio import Event

from forgeguard_app.checkruns import decide, store
from forgeguard_app.checkruns.decide import AuditRequest
from forgeguard_app.checkruns.jobs import enqueue_request
from forgeguard_app.context import EventContext
from forgeguard_app.jobs import dispatch_pending

log = logging.getLogger(__name__)

router = routing.Router()


async def _enqueue(
    ctx: EventContext, request: AuditRequest | None, check_run_id: int | None = None
) -> int | None:
    if request is None:
        return None
    if request.reason in decide.AUTOMATIC_REASONS and await store.audited_by_builder(
        ctx.db.pool, request.owner, request.repo, request.head_sha
    ):
        log.info("%s@%s has the builder's check run already", request.full_name, request.head_sha[:12])
        return None
    async with ctx.db.pool.acquire() as conn, conn.transaction():
        audit_id = await enqueue_request(conn, request, check_run_id)
    if audit_id is None:
        log.info("audit of %s@%s already queued", request.full_name, request.head_sha[:12])
    else:
        # Hand the audit to pgqueuer now rather than at the workers' next dispatch poll.
        await dispatch_pending(ctx.db.pool)
        log.info(
            "queued audit %s of %s@%s (%s)",
            audit_id,
            request.full_name,
            request.head_sha[:12],
            request.reason,
        )
    return audit_id


@router.register("push")
async def on_push(event: Event, ctx: EventContext) -> None:
    """A branch push: `before...after` (a new branch against the default branch)."""
    await _enqueue(ctx, decide.from_push(event.data))


@router.register("pull_request")
async def on_pull_request(event: Event, ctx: EventContext) -> None:
    """Every pull request event refreshes the head → pull request table; four actions audit."""
    head = decide.pull_request_head(event.data)
    if head is not None and event.data.get("action") != "closed":
        async with ctx.db.pool.acquire() as conn:
            await store.record_pull_request_head(conn, head)
    await _enqueue(ctx, decide.from_pull_request(event.data))


@router.register("check_suite")
async def on_check_suite(event: Event, ctx: EventContext) -> None:
    """requested: the push's audit (deduplicated with it); rerequested: audit again."""
    await _enqueue(ctx, decide.from_check_suite(event.data))


@router.register("check_run")
async def on_check_run(event: Event, ctx: EventContext) -> None:
    """ "Re-run" on a ForgeGuard run, or its "Re-run audit" button: audit again with the same base."""
    run = event.data.get("check_run") or {}
    run_id = run.get("id") if isinstance(run.get("id"), int) else None
    await _enqueue(ctx, decide.from_check_run(event.data), run_id)
