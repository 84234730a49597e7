"""Live pages: PostgreSQL `LISTEN/NOTIFY` fanned out to Server-Sent Events.

Workers (any process) announce a change on the `forgeguard_events` channel:
audits through a trigger on `audit_runs` (migration 061), builds through
`publish(conn, Event(...))` in the builder's transaction. Each web process holds
one listening connection (`Hub`) and hands every event to the open streams that
subscribed to its repository or build. A stream is opened only after the access
rule passed, re-checks the session and access every `RECHECK` seconds, and ends
after `access.ACCESS_TTL` so that the browser reconnects and access is read from
GitHub again. Events carry only a kind and an id: the page then reloads its live
part through the same access-checked handler as a normal page view.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass

import asyncpg
from aiohttp import web

from forgeguard_app.db import Executor
from forgeguard_app.web.store import events

log = logging.getLogger(__name__)

CHANNEL = "forgeguard_events"
RECHECK = 20.0
HEARTBEAT = 20.0
QUEUE_SIZE = 64


@dataclass(frozen=True)
class Event:
    kind: str
    """"audit" or "build"."""
    id: int
    installation_id: int
    owner: str
    repo: str

    def subscription_keys(self) -> list[tuple[object, ...]]:
        """The subscription keys this event reaches."""
        found: list[tuple[object, ...]] = [repo_key(self.installation_id, self.owner, self.repo)]
        if self.kind == "build":
            found.append(build_key(self.id))
        return found

    def to_json(self) -> str:
        return json.dumps(
            {
                "kind": self.kind,
                "id": self.id,
                "installation_id": self.installation_id,
                "owner": self.owner,
                "repo": self.repo,
            }
        )


def repo_key(installation_id: int, owner: str, repo: str) -> tuple[object, ...]:
    return ("repo", installation_id, owner.lower(), repo.lower())


def build_key(build_id: int) -> tuple[object, ...]:
    return ("build", build_id)


def parse(payload: str) -> Event | None:
    try:
        data = json.loads(payload)
        return Event(
            str(data["kind"]),
            int(data["id"]),
            int(data["installation_id"]),
            str(data["owner"]),
            str(data["repo"]),
        )
    except (ValueError, KeyError, TypeError):
        return None


async def publish(conn: Executor, event: Event) -> None:
    """Announce a change (sent when the caller's transaction commits)."""
    await events.notify(conn, CHANNEL, event.to_json())


class Subscription:
    """One open stream's mailbox."""

    def __init__(self, keys: Iterable[tuple[object, ...]]) -> None:
        self.keys = frozenset(keys)
        self.queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)
        self.dropped = False

    def offer(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            # the page reloads its live part on any event: one pending is enough
            self.dropped = True


class Hub:
    """The web process's listening connection and its subscribers."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._subscribers: dict[tuple[object, ...], set[Subscription]] = {}
        self._task: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection | None = None
        self.listening = asyncio.Event()
        self.received = 0

    def subscribe(self, keys: Iterable[tuple[object, ...]]) -> Subscription:
        sub = Subscription(keys)
        for key in sub.keys:
            self._subscribers.setdefault(key, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        for key in sub.keys:
            subs = self._subscribers.get(key)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subscribers[key]

    @property
    def streams(self) -> int:
        return len({sub for subs in self._subscribers.values() for sub in subs})

    def dispatch(self, event: Event) -> None:
        self.received += 1
        reached: set[Subscription] = set()
        for key in event.subscription_keys():
            reached |= self._subscribers.get(key, set())
        for sub in reached:
            sub.offer(event)

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        event = parse(payload)
        if event is not None:
            self.dispatch(event)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _listen(self) -> None:
        """Listen; when the connection is lost, connect again with backoff (events in between are missed,
        and the pages catch up on their next event or reload)."""
        delay = 0.5
        while True:
            lost = asyncio.Event()
            try:
                conn = await asyncpg.connect(self.url)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("live events: cannot listen (%s); retrying in %.0f s", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            try:
                conn.add_termination_listener(_setter(lost))
                await conn.add_listener(CHANNEL, self._on_notify)
                self._conn = conn
                self.listening.set()
                delay = 0.5
                await lost.wait()
                log.warning("live events: listening connection lost; reconnecting")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                # cut while starting to listen (the server shutting down, a restart)
                log.warning("live events: cannot listen (%s); retrying in %.0f s", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
            finally:
                self.listening.clear()
                self._conn = None
                with contextlib.suppress(Exception):
                    await conn.close(timeout=2)


def _setter(event: asyncio.Event) -> Callable[[object], None]:
    return lambda _conn: event.set()


HUB = web.AppKey("forgeguard_live_hub", Hub)


def hub_context(url: Callable[[web.Application], str]) -> Callable[[web.Application], AsyncIterator[None]]:
    """cleanup_ctx starting this process's hub."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        hub = Hub(url(app))
        app[HUB] = hub
        await hub.start()
        yield
        await hub.stop()

    return context


async def stream(
    request: web.Request,
    keys: list[tuple[object, ...]],
    still_allowed: Callable[[], Awaitable[bool]],
    lifetime: float,
) -> web.StreamResponse:
    """An SSE answer: one `event: <kind>` per change, until `lifetime` ends or access is gone."""
    hub = request.app[HUB]
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    sub = hub.subscribe(keys)
    try:
        await response.prepare(request)
        await response.write(b"retry: 2000\n: open\n\n")
        deadline = time.monotonic() + lifetime
        next_check = time.monotonic() + RECHECK
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            if now >= next_check:
                if not await still_allowed():
                    await response.write(b"event: denied\ndata: {}\n\n")
                    break
                next_check = now + RECHECK
            timeout = max(0.0, min(deadline, next_check, now + HEARTBEAT) - now)
            try:
                event = await asyncio.wait_for(sub.queue.get(), timeout)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            data = json.dumps({"id": event.id})
            await response.write(f"event: {event.kind}\ndata: {data}\n\n".encode())
    except ConnectionResetError:
        pass
    finally:
        hub.unsubscribe(sub)
    return response
