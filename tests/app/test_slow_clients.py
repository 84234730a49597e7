"""Slow clients are cut off and unverified bodies hold bounded memory (issue 10, item 10)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from forgeguard_app import webhooks
from forgeguard_app.db import Database
from forgeguard_app.server import create_app, make_runner
from forgeguard_app.settings import Settings
from forgeguard_app.web.state import AppState


@pytest.fixture
async def served(db: Database, settings: Settings) -> AsyncIterator[tuple[str, int, web.Application]]:
    """The app bound the way `serve` binds it, with a one-second header timeout."""
    app = create_app(AppState(settings=settings, db=db))
    runner = make_runner(app, header_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield host, port, app
    await runner.cleanup()


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    try:
        async with asyncio.timeout(seconds):
            while await reader.read(1024):
                pass
    except TimeoutError:
        return False
    return True


async def test_a_connection_that_dribbles_its_headers_is_closed(served: tuple[str, int, Any]) -> None:
    host, port, _ = served
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"POST /webhooks HTTP/1.1\r\nHost: x\r\n")
    for _ in range(3):
        await asyncio.sleep(0.4)
        writer.write(b"X-Slow: 1\r\n")
    assert await closed_within(reader, 5.0)
    writer.close()


async def test_a_connection_that_sends_nothing_is_closed(served: tuple[str, int, Any]) -> None:
    host, port, _ = served
    reader, writer = await asyncio.open_connection(host, port)
    assert await closed_within(reader, 5.0)
    writer.close()


async def test_a_body_sent_too_slowly_is_answered_408(
    served: tuple[str, int, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhooks, "BODY_TIMEOUT", 0.5)
    host, port, _ = served
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"POST /webhooks HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
    status = await asyncio.wait_for(reader.readline(), 5.0)
    assert status.split()[1] == b"408"
    writer.close()


async def test_unverified_bodies_over_the_budget_are_refused_503(
    db: Database, settings: Settings, aiohttp_client: Any
) -> None:
    app = create_app(AppState(settings=settings, db=db))
    app[webhooks.BODY_BUDGET] = webhooks.BodyBudget(1024 * 1024)
    client = await aiohttp_client(app)
    server = client.server
    # One client holds 800 KB of the budget, sending slowly...
    _, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(b"POST /webhooks HTTP/1.1\r\nHost: x\r\nContent-Length: 800000\r\n\r\n" + b"x" * 1000)
    await writer.drain()
    await asyncio.sleep(0.2)
    # ...so another 800 KB body is turned away at once, and a small one still fits.
    big = await client.post("/webhooks", data=b"y" * 800_000, headers={"X-Hub-Signature-256": "sha256=0"})
    small = await client.post("/webhooks", data=b"{}", headers={"X-Hub-Signature-256": "sha256=0"})
    assert (big.status, big.headers.get("Retry-After")) == (503, "5")
    assert small.status == 401
    writer.close()
    await asyncio.sleep(0.1)
    assert app[webhooks.BODY_BUDGET].held == 0
