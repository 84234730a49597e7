"""The `delivery` job: a stored webhook delivery routed to the feature routers."""

from __future__ import annotations

import importlib
import json
import logging
from types import ModuleType
from typing import Any

from gidgethub.routing import Router
from gidgethub.sansio import Event

from forgeguard_app.context import EventContext, JobContext
from forgeguard_app.jobs import describe_error, handler
from forgeguard_app.logs import delivery_id_var

log = logging.getLogger(__name__)

DELIVERY_JOB = "delivery"
# Modules exposing a gidgethub `router`; one that is not there yet is skipped.
ROUTER_MODULES = (
    "forgeguard_app.installations",
    "forgeguard_app.checkruns.router",
    "forgeguard_app.commands.router",
)


def import_available(module_names: tuple[str, ...]) -> tuple[list[ModuleType], list[str]]:
    """Import the modules that are there; the names left out.

    A module that is not there is left out quietly; one that fails to import is
    left out with its error logged, so one broken feature does not stop the others.
    """
    modules: list[ModuleType] = []
    missing: list[str] = []
    for name in module_names:
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            missing.append(name)
            if exc.name is None or not name.startswith(exc.name):
                log.exception("%s cannot be imported", name)
        except Exception:
            missing.append(name)
            log.exception("%s cannot be imported", name)
    return modules, missing


def load_routers(module_names: tuple[str, ...] = ROUTER_MODULES) -> tuple[Router, list[str]]:
    """One Router made of every available module's `router`, and the names of the modules left out."""
    modules, missing = import_available(module_names)
    return Router(*(module.router for module in modules)), missing


_router: Router | None = None


def router() -> Router:
    """The composed router, built on first use (the feature modules import this one's jobs)."""
    global _router
    if _router is None:
        _router, missing = load_routers()
        for name in missing:
            log.warning("event router %s is not available; its events are not handled", name)
    return _router


def delivery_order_key(repository_id: int | None) -> str | None:
    """Deliveries for one repository are handled in the order received."""
    return None if repository_id is None else f"deliveries:repo:{repository_id}"


@handler(DELIVERY_JOB, max_attempts=3)
async def run_delivery(ctx: JobContext, payload: dict[str, Any]) -> None:
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
            await router().dispatch(event, event_ctx)
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
