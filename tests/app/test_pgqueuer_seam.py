"""The private pgqueuer attributes `jobs._ListenerDriver` relies on are still there and mean the same."""

from __future__ import annotations

import asyncio
from importlib.metadata import version

from pgqueuer.adapters.drivers.asyncpg import AsyncpgPoolDriver

from forgeguard_app.db import Database
from forgeguard_app.jobs import _ListenerDriver

CHANGED = (
    "pgqueuer {} changed AsyncpgPoolDriver: jobs._ListenerDriver reads and sets its private "
    "`_listener_connection` (the pooled connection it LISTENs on) and `_pool`; adapt _ListenerDriver "
    "to the new driver, then move the pin in pyproject.toml"
)


async def test_the_pool_driver_keeps_its_pool_and_its_listening_connection_where_we_read_them(
    db: Database,
) -> None:
    message = CHANGED.format(version("pgqueuer"))
    driver = AsyncpgPoolDriver(db.pool)
    assert getattr(driver, "_pool", None) is db.pool, message
    assert hasattr(driver, "_listener_connection"), message
    assert driver._listener_connection is None, message
    async with driver:
        await driver.add_listener("fg_seam", lambda payload: None)
        conn = driver._listener_connection
        assert conn is not None and await conn.fetchval("SELECT 1") == 1, message
    assert driver._listener_connection is None, message


async def test_a_killed_listening_connection_is_reported_and_its_slot_given_back(db: Database) -> None:
    lost = asyncio.Event()
    driver = _ListenerDriver(db.pool, lost.set)
    async with driver:
        await driver.add_listener("fg_seam", lambda payload: None)
        killed = await db.pool.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND query = 'LISTEN \"fg_seam\"'"
        )
        assert killed == 1
        await asyncio.wait_for(lost.wait(), 10)
    assert db.pool.get_size() == db.pool.get_idle_size()
    assert await db.pool.fetchval("SELECT 1") == 1
