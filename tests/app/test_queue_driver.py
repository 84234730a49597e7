"""pgqueuer's driver over our pool: LISTEN on one pooled connection, its end reported, its slot given back."""

from __future__ import annotations

import asyncio

from forgeguard_app.db import Database
from forgeguard_app.jobs import database_unavailable
from forgeguard_app.queue_driver import PoolDriver


async def test_a_notification_reaches_the_listener_as_its_payload(db: Database) -> None:
    heard: asyncio.Queue[str | bytes | bytearray] = asyncio.Queue()
    driver = PoolDriver(db.pool, on_lost=lambda: None, forgive=database_unavailable)
    async with driver:
        await driver.add_listener("fg_test", heard.put_nowait)
        await driver.notify("fg_test", "hello")
        assert await asyncio.wait_for(heard.get(), 10) == "hello"
    assert db.pool.get_size() == db.pool.get_idle_size()


async def test_the_listening_connection_killed_is_reported_and_its_slot_given_back(db: Database) -> None:
    lost = asyncio.Event()
    driver = PoolDriver(db.pool, on_lost=lost.set, forgive=database_unavailable)
    async with driver:
        await driver.add_listener("fg_test", lambda payload: None)
        killed = await db.pool.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND query = 'LISTEN \"fg_test\"'"
        )
        assert killed == 1
        await asyncio.wait_for(lost.wait(), 10)
    assert db.pool.get_size() == db.pool.get_idle_size()
    assert await db.pool.fetchval("SELECT 1") == 1
