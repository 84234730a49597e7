"""POST /webhooks while the database restarts: 503 (GitHub redelivers), then accepted again.

On a private PostgreSQL, so stopping it disturbs no other test.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from forgeguard_app.db import Database
from forgeguard_app.server import create_app
from forgeguard_app.settings import Settings
from forgeguard_app.web.state import AppState
from tests.app.conftest import CORPUS, ClientFactory, signed_headers
from tests.fixtures.private_pg import PrivatePostgres

PUSH = CORPUS / "webhooks" / "push" / "with-installation.payload.json"


@pytest.fixture
async def private_db(private_postgres: PrivatePostgres) -> AsyncIterator[Database]:
    db = await Database.connect(private_postgres.url, min_size=1, max_size=4)
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
async def restart_client(
    aiohttp_client: ClientFactory, private_db: Database, settings: Settings
) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(AppState(settings=settings, db=private_db)))


async def test_a_delivery_while_the_database_is_down_is_answered_503_and_accepted_after_it_restarts(
    restart_client: TestClient[Any, Any],
    private_db: Database,
    private_postgres: PrivatePostgres,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = PUSH.read_bytes()
    before = await restart_client.post("/webhooks", data=body, headers=signed_headers(body, "push"))
    assert before.status == 202, await before.text()

    await private_postgres.stop()
    delivery_id = str(uuid.uuid4())
    with caplog.at_level(logging.INFO):
        while_down = await restart_client.post(
            "/webhooks", data=body, headers=signed_headers(body, "push", delivery_id)
        )
        assert while_down.status == 503
        assert "database is unavailable" in (await while_down.json())["error"]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert any("database is unavailable" in r.getMessage() for r in caplog.records)

    await private_postgres.start()
    # GitHub's redelivery of the refused delivery is stored as new: nothing of it was kept.
    redelivered = await restart_client.post(
        "/webhooks", data=body, headers=signed_headers(body, "push", delivery_id)
    )
    assert redelivered.status == 202, await redelivered.text()
    assert (await redelivered.json())["status"] != "duplicate"
    assert await private_db.pool.fetchval("SELECT count(*) FROM deliveries") == 2
