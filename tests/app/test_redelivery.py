"""Deliveries refused while the database was down are asked for again from GitHub (issue 10, item 3)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from forgeguard_app import redeliver, webhooks
from forgeguard_app.db import Database
from forgeguard_app.github.client import GitHubApp
from forgeguard_app.server import create_app
from forgeguard_app.web.state import AppState
from tests.app.conftest import CORPUS
from tests.fixtures.github import FakeGitHub

PUSH = CORPUS / "webhooks" / "push" / "with-installation.payload.json"


@dataclass
class Setup:
    fake: FakeGitHub
    db: Database
    github: GitHubApp
    app: Any


@pytest.fixture
async def setup(fake_github: FakeGitHub, db: Database) -> AsyncIterator[Setup]:
    settings = fake_github.settings()
    async with aiohttp.ClientSession() as session:
        github = GitHubApp(settings, session)
        app = create_app(AppState(settings=settings, db=db, github=github))
        server = TestServer(app)
        await server.start_server()
        fake_github.hooks.url = str(server.make_url("/webhooks"))
        try:
            yield Setup(fake_github, db, github, app)
        finally:
            await server.close()


def push(n: int) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(PUSH.read_text())
    payload["after"] = f"{n:040x}"
    return payload


async def stored(db: Database) -> set[str]:
    return {r["id"] for r in await db.pool.fetch("SELECT id FROM deliveries")}


@pytest.fixture
def database_down(monkeypatch: pytest.MonkeyPatch) -> Any:
    """While set, storing a delivery fails as when PostgreSQL is unreachable."""

    class Switch:
        down = False

    real_store = webhooks.store

    async def store(pool: Any, delivery: Any, body: bytes) -> str:
        if Switch.down:
            raise ConnectionRefusedError(111, "Connection refused")
        return await real_store(pool, delivery, body)

    monkeypatch.setattr(webhooks, "store", store)
    return Switch


async def test_deliveries_refused_while_the_database_was_down_are_redelivered_once_it_is_back(
    setup: Setup, database_down: Any
) -> None:
    hooks = setup.fake.hooks
    assert await hooks.deliver("push", push(1), "guid-before") == 202
    database_down.down = True
    assert await hooks.deliver("push", push(2), "guid-during-1") == 503
    assert await hooks.deliver("push", push(3), "guid-during-2") == 503
    missed = setup.app[webhooks.MISSED]
    assert missed.since is not None
    database_down.down = False

    asked = await redeliver.redeliver_failed(setup.db, setup.github, missed.since - timedelta(minutes=1))
    assert asked == 2
    assert await stored(setup.db) == {"guid-before", "guid-during-1", "guid-during-2"}
    # JWT-authenticated requests only
    assert {r.auth for r in setup.fake.requests if r.path.startswith("/app/hook")} == {"jwt"}
    # nothing more to ask for
    assert await redeliver.redeliver_failed(setup.db, setup.github, missed.since - timedelta(minutes=1)) == 0


async def test_at_start_deliveries_missed_since_the_last_stored_one_are_asked_for(
    setup: Setup, database_down: Any
) -> None:
    hooks = setup.fake.hooks
    await hooks.deliver("push", push(1), "guid-1")
    database_down.down = True
    await hooks.deliver("push", push(2), "guid-2")
    database_down.down = False
    assert await redeliver.at_start(setup.db, setup.github) == 1
    assert "guid-2" in await stored(setup.db)


def attempt(i: int, guid: str, status: int, minutes_ago: int = 1) -> dict[str, Any]:
    when = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"id": i, "guid": guid, "status_code": status, "delivered_at": when}


def test_a_delivery_that_later_succeeded_or_is_stored_or_is_old_is_not_asked_for() -> None:
    since = datetime.now(UTC) - timedelta(hours=1)
    items = [  # newest first, as GitHub lists them
        attempt(6, "ok-later", 202),
        attempt(5, "ok-later", 503),
        attempt(4, "stored", 503),
        attempt(3, "failed", 503),
        attempt(2, "failed", 0),
        attempt(1, "old", 503, minutes_ago=120),
    ]
    assert redeliver.to_redeliver(items, {"stored"}, since) == [3]


def test_a_delivery_github_tried_four_times_is_left_alone() -> None:
    since = datetime.now(UTC) - timedelta(hours=1)
    items = [attempt(i, "stubborn", 503) for i in range(4, 0, -1)]
    assert redeliver.to_redeliver(items, set(), since) == []
