"""Everything the app registers, in one place: the job modules the workers run and the event routers.

A feature that handles webhook events adds its `router` to `event_router`; a
feature with background jobs adds its module (whose `@handler("kind")`
functions register on import) to `JOB_MODULES`. Both are plain imports, so a
broken or renamed module fails the process at start, and a reader can follow
where each handler is registered (as python/bedevere's `__main__` does).

The composed event router belongs to the delivery job that `job_registry`
builds, not to a module: a worker gets its own registry (and so its own router).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType

from gidgethub.routing import Router

from forgeguard_app import events, installations
from forgeguard_app.builder import events as builder_events
from forgeguard_app.builder import jobs as builder_jobs
from forgeguard_app.checkruns import jobs as checkruns_jobs
from forgeguard_app.checkruns import router as checkruns_router
from forgeguard_app.commands import jobs as commands_jobs
from forgeguard_app.commands import router as commands_router
from forgeguard_app.jobs import REGISTRY, JobSpec

JOB_MODULES: tuple[ModuleType, ...] = (checkruns_jobs, commands_jobs, builder_jobs)
"""Modules whose `@handler` jobs the workers run (imported above, so registered)."""


def event_router() -> Router:
    """The routers a delivery goes through, one per feature."""
    return Router(
        installations.router, checkruns_router.router, commands_router.router, builder_events.router
    )


def job_registry(router: Router | None = None) -> dict[str, JobSpec]:
    """Every job kind a worker runs: the job modules' handlers and the delivery job over `router`."""
    registered: Mapping[str, JobSpec] = REGISTRY
    delivery = JobSpec(
        events.DELIVERY_JOB,
        events.delivery_job(router if router is not None else event_router()),
        max_attempts=events.DELIVERY_MAX_ATTEMPTS,
    )
    return {**registered, events.DELIVERY_JOB: delivery}
