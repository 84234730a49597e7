"""The delivery job's router: made of the feature routers that are there."""

from __future__ import annotations

import json
import logging
import pathlib

import pytest
from gidgethub.routing import Router
from gidgethub.sansio import Event

from forgeguard_app import events
from forgeguard_app.context import EventContext, JobContext
from forgeguard_app.db import Database
from forgeguard_app.events import load_routers, run_delivery
from forgeguard_app.settings import Settings
from tests.app.conftest import CORPUS


def installation_created() -> Event:
    data = json.loads((CORPUS / "webhooks" / "installation" / "created.payload.json").read_bytes())
    return Event(data, event="installation", delivery_id="d1")


def test_a_feature_router_not_written_yet_is_left_out() -> None:
    router, missing = load_routers(("forgeguard_app.installations", "forgeguard_app.not_written_yet.router"))
    assert missing == ["forgeguard_app.not_written_yet.router"]
    assert len(router.fetch(installation_created())) == 1


def test_a_feature_router_that_fails_to_import_is_left_out_and_logged(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "broken_feature_router.py").write_text("from forgeguard_app import no_such_name\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with caplog.at_level(logging.ERROR):
        router, missing = load_routers(("broken_feature_router", "forgeguard_app.installations"))
    assert missing == ["broken_feature_router"]
    assert "broken_feature_router cannot be imported" in caplog.text
    assert len(router.fetch(installation_created())) == 1


async def delivery_job(db: Database, event: str, data: dict[str, object]) -> tuple[int, dict[str, object]]:
    await db.pool.execute(
        "INSERT INTO deliveries (id, event, installation_id, payload, status)"
        " VALUES ('d1', $1, 1, $2::text::json, 'queued')",
        event,
        json.dumps(data),
    )
    return 1, {"delivery_id": "d1"}


@pytest.fixture
def failing_router(monkeypatch: pytest.MonkeyPatch) -> None:
    router = Router()

    @router.register("installation")
    async def explode(event: Event, ctx: EventContext) -> None:
        raise RuntimeError("feature handler broke")

    monkeypatch.setattr(events, "_router", router)


@pytest.mark.usefixtures("failing_router")
async def test_a_delivery_failing_before_its_last_attempt_stays_queued_for_the_retry(db: Database) -> None:
    job_id, payload = await delivery_job(db, "installation", installation_created().data)
    ctx = JobContext(
        db=db, settings=Settings(), github=None, llm=None, job_id=job_id, attempt=1, max_attempts=3
    )
    with pytest.raises(RuntimeError):
        await run_delivery(ctx, payload)
    assert await db.pool.fetchval("SELECT status FROM deliveries WHERE id = 'd1'") == "queued"


@pytest.mark.usefixtures("failing_router")
async def test_a_delivery_failing_on_its_last_attempt_is_marked_failed_with_the_error(db: Database) -> None:
    job_id, payload = await delivery_job(db, "installation", installation_created().data)
    ctx = JobContext(
        db=db, settings=Settings(), github=None, llm=None, job_id=job_id, attempt=3, max_attempts=3
    )
    with pytest.raises(RuntimeError):
        await run_delivery(ctx, payload)
    row = await db.pool.fetchrow("SELECT status, error FROM deliveries WHERE id = 'd1'")
    assert (row["status"], row["error"]) == ("failed", "RuntimeError: feature handler broke")
