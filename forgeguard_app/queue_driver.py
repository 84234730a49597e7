"""pgqueuer's database driver over the app's asyncpg pool, written against pgqueuer's public `Driver` port.

pgqueuer's own `AsyncpgPoolDriver` keeps its listening connection private.
The worker needs two things from that connection: to hear when it dies (a
restarted database otherwise leaves the queue manager LISTENing on a dead
connection, with no more notifications) and to get its pool slot back when
resetting the dead connection fails on the way out. Implementing the
`pgqueuer.ports.driver.Driver` protocol ourselves gives both without reaching
into pgqueuer's private attributes; mypy checks the protocol at the one place
a driver is handed to pgqueuer (`jobs.Worker`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self

import asyncpg
from pgqueuer.core.tm import TaskManager
from pgqueuer.ports.driver import NotifyCallback


@dataclass(frozen=True)
class _Relay:
    """An asyncpg listener passing pgqueuer the payload only (equal per callback, so it can be removed)."""

    callback: NotifyCallback

    def __call__(self, connection: object, pid: object, channel: object, payload: object) -> None:
        if isinstance(payload, str | bytes | bytearray):
            self.callback(payload)


class PoolDriver:
    """Queries on the pool; LISTEN on one connection taken from it, watched for its end.

    `on_lost()` is called when the listening connection is closed under us;
    `forgive(error)` says whether an error resetting it on exit is expected
    (the database went away): the connection is given back to the pool
    either way, and an unexpected error is raised after that.
    """

    def __init__(
        self, pool: asyncpg.Pool, *, on_lost: Callable[[], None], forgive: Callable[[BaseException], bool]
    ) -> None:
        self._pool = pool
        self._on_lost = on_lost
        self._forgive = forgive
        self._shutdown = asyncio.Event()
        self._lock = asyncio.Lock()
        self._listener: Any = None  # an asyncpg pool connection while listening
        self._entered = 0

    def _lost(self, _connection: object) -> None:
        self._on_lost()

    async def fetch(self, query: str, *args: object) -> list[dict[str, object]]:
        return [dict(row) for row in await self._pool.fetch(query, *args)]

    async def execute(self, query: str, *args: object) -> str:
        return str(await self._pool.execute(query, *args))

    async def notify(self, channel: str, payload: str) -> None:
        await self._pool.execute("SELECT pg_notify($1, $2)", channel, payload)

    async def add_listener(self, channel: str, callback: NotifyCallback) -> None:
        async with self._lock:
            if self._listener is None:
                if self._pool.get_max_size() < 2:
                    raise RuntimeError("the pool needs 2 connections at least: one is kept for LISTEN")
                self._listener = await self._pool.acquire()
                self._listener.add_termination_listener(self._lost)
            await self._listener.add_listener(channel, _Relay(callback))

    async def remove_listener(self, channel: str, callback: NotifyCallback) -> None:
        async with self._lock:
            if self._listener is not None:
                await self._listener.remove_listener(channel, _Relay(callback))

    @property
    def shutdown(self) -> asyncio.Event:
        return self._shutdown

    @property
    def tm(self) -> TaskManager:
        return TaskManager()

    async def __aenter__(self) -> Self:
        self._entered += 1
        return self

    async def __aexit__(self, *_: object) -> None:
        # pgqueuer enters one driver from two managers; only the last exit gives the connection back.
        self._entered -= 1
        if self._entered > 0:
            return
        async with self._lock:
            conn, self._listener = self._listener, None
            if conn is None:
                return
            try:
                # A dead connection was already detached by the pool: both calls raise then.
                conn.remove_termination_listener(self._lost)
                await conn.reset()  # UNLISTEN and listeners dropped (the pool's own reset is skipped)
            except Exception as error:
                await self._pool.release(conn)
                if not self._forgive(error):
                    raise
                return
            await self._pool.release(conn)
