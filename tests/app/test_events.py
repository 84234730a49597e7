"""The delivery job: routed through the feature routers composed in `wiring`."""

from __future__ import annotations

import json

import pytest
from gidgethub.routing import Router
from gidgethub.sansio import Event

from forgeguard_app import events
from forgeguard_app.context import EventContext, JobContext
from forgeguard_app.db import Database
from forgeguard_app.events import run_delivery
from forgeguard_app.settings import Settings
from forgeguard_app.wiring import event_router, job_registry
from tests.app.conftest import CORPUS


def installation_created() -> Event:
    data = json.loads((CORPUS / "webhooks" / "installation" / "created.payload.json").read_bytes())
    return Event(data, event="installation", delivery_id="d1")


def test_the_event_router_routes_every_feature_and_lists_its_job_kinds() -> None:
    assert len(event_router().fetch(installation_created())) == 1
    assert {"delivery", "audit", "commands.run"} <= set(job_registry())


async def delivery_job(db: Database, event: str, data: dict[str, object]) -> tuple[int, dict[str, object]]:
    await db.pool.execute(
        "INSERT INTO deliveries (id, event, installation_id, payload, status)"
        " VALUES ('d1', $1, 1, $2::text::json, 'queued')",
        event,
        json.dumps(data),
    )
    return 1, {"delivery_id": "d1"}


@pytest.fixture
def failing_router() -> Router:
    router = Router()

    @router.register("installation")
    async def explode(event: Event, ctx: EventContext) -> None:
        raise RuntimeError("feature handler broke")

    return router


async def test_a_delivery_failing_before_its_last_attempt_stays_queued_for_the_retry(
    db: Database, failing_router: Router
) -> None:
    job_id, payload = await delivery_job(db, "installation", installation_created().data)
    ctx = JobContext(
        db=db, settings=Settings(), github=None, llm=None, job_id=job_id, attempt=1, max_attempts=3
    )
    with pytest.raises(RuntimeError):
        await run_delivery(ctx, payload, failing_router)
    assert await db.pool.fetchval("SELECT status FROM deliveries WHERE id = 'd1'") == "queued"


async def test_a_delivery_failing_on_its_last_attempt_is_marked_failed_with_the_error(
    db: Database, failing_router: Router
) -> None:
    job_id, payload = await delivery_job(db, "installation", installation_created().data)
    ctx = JobContext(
        db=db, settings=Settings(), github=None, llm=None, job_id=job_id, attempt=3, max_attempts=3
    )
    with pytest.raises(RuntimeError):
        await run_delivery(ctx, payload, failing_router)
    row = await db.pool.fetchrow("SELECT status, error FROM deliveries WHERE id = 'd1'")
    assert (row["status"], row["error"]) == ("failed", "RuntimeError: feature handler broke")


async def test_the_registered_delivery_job_dispatches_through_the_router_it_was_built_with(
    db: Database, failing_router: Router
) -> None:
    job_id, payload = await delivery_job(db, "installation", installation_created().data)
    spec = job_registry(failing_router)["delivery"]
    ctx = JobContext(
        db=db, settings=Settings(), github=None, llm=None, job_id=job_id, attempt=1, max_attempts=3
    )
    with pytest.raises(RuntimeError, match="feature handler broke"):
        await spec.func(ctx, payload)
    assert spec.max_attempts == events.DELIVERY_MAX_ATTEMPTS
