"""The database restarting during an audit: the audit completes exactly once, no run stays in progress.

A private PostgreSQL (stopping it disturbs no other test), the real aiohttp
app, and a real `Worker` run by `run_workers` as `forgeguard worker` runs it.
The audit is held on the fake GitHub (its compare request waits) while the
server is stopped; released, the attempt meets a database that is gone.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from forgeguard_app import jobs
from forgeguard_app.db import Database
from forgeguard_app.github.client import GitHubApp, RetryPolicy
from forgeguard_app.jobs import Worker
from forgeguard_app.server import create_app, run_workers
from forgeguard_app.web.state import AppState
from forgeguard_app.wiring import job_registry
from tests.checkruns.conftest import push_payload
from tests.checkruns.repos import difflog, governed_files, module
from tests.fixtures.github import FakeGitHub, sign_webhook
from tests.fixtures.private_pg import PrivatePostgres

COMPLETION_TIMEOUT = 90.0


class Hold:
    """Makes the fake GitHub keep the first request matching `method` and `path` until released."""

    def __init__(self, fake: FakeGitHub, method: str, path: str) -> None:
        self.reached = asyncio.Event()
        self.released = asyncio.Event()
        self._pattern = re.compile(path)
        answer: Callable[[web.Request, str], Awaitable[web.StreamResponse]] = fake._answer

        async def held_answer(request: web.Request, operation: str) -> web.StreamResponse:
            if request.method == method and self._pattern.search(request.path) and not self.reached.is_set():
                self.reached.set()
                await self.released.wait()
            return await answer(request, operation)

        fake._answer = held_answer  # type: ignore[method-assign]


class LogLine(logging.Handler):
    """Sets `seen` when a record of `logger` contains `text`."""

    def __init__(self, logger: str, text: str) -> None:
        super().__init__(logging.INFO)
        self.seen = asyncio.Event()
        self.loop = asyncio.get_running_loop()
        self.text = text
        self.lines: list[str] = []
        self._logger = logging.getLogger(logger)

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if self.text in message:
            self.lines.append(message)
            self.loop.call_soon_threadsafe(self.seen.set)

    def __enter__(self) -> LogLine:
        self._logger.addHandler(self)
        self._level = self._logger.level
        self._logger.setLevel(logging.INFO)
        return self

    def __exit__(self, *_: object) -> None:
        self._logger.removeHandler(self)
        self._logger.setLevel(self._level)


@dataclasses.dataclass
class App:
    db: Database
    github: GitHubApp
    client: TestClient[web.Request, web.Application]
    worker: Worker
    webhook_secret: str


@pytest.fixture
async def app(fake_github: FakeGitHub, private_postgres: PrivatePostgres) -> AsyncIterator[App]:
    """The web app and a worker (quick retries and heartbeats) on the private server."""
    settings = fake_github.settings(public_url="https://forgeguard.test")
    db = await Database.connect(private_postgres.url, min_size=2, max_size=10)
    registry = {
        kind: dataclasses.replace(spec, retry_delay=timedelta(seconds=0.2), max_delay=timedelta(seconds=1))
        for kind, spec in job_registry().items()
    }

    async def no_wait(_: float) -> None:
        return None

    try:
        async with aiohttp.ClientSession() as session:
            github = GitHubApp(settings, session, retry=RetryPolicy(base_delay=0.001, sleep=no_wait))
            client = TestClient(TestServer(create_app(AppState(settings=settings, db=db, github=github))))
            await client.start_server()
            worker = Worker(
                db,
                settings,
                concurrency=2,
                github=github,
                heartbeat_timeout=timedelta(seconds=2),
                dequeue_timeout=timedelta(seconds=0.5),
                registry=registry,
            )
            try:
                yield App(db, github, client, worker, settings.webhook_secret or "")
            finally:
                await client.close()
    finally:
        await db.close()


async def until(condition: Callable[[], Awaitable[bool]], timeout: float = COMPLETION_TIMEOUT) -> None:
    """Wait for `condition` to hold, checking every 50 ms; fail after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while not await condition():
            await asyncio.sleep(0.05)


async def test_an_audit_interrupted_by_a_database_restart_completes_exactly_once(
    app: App, fake_github: FakeGitHub, private_postgres: PrivatePostgres
) -> None:
    repo = fake_github.add_repo("octo", "demo", files=governed_files())
    before = repo.sha()
    after = repo.commit({"app/x.py": module(1), "Forge/evidence/updatedifflog.md": difflog(["app/x.py"])})
    hold = Hold(fake_github, "GET", r"/compare/")
    stop = asyncio.Event()
    with (
        LogLine(jobs.__name__, "the database is unavailable") as outage,
        LogLine(jobs.__name__, "(audit) attempt 1 failed") as interrupted,
    ):
        running = asyncio.create_task(run_workers(app.worker, stop))
        try:
            body = json.dumps(push_payload(repo, before, after)).encode()
            response = await app.client.post(
                "/webhooks", data=body, headers=sign_webhook(app.webhook_secret, body, "push")
            )
            assert response.status == 202, await response.text()
            # The audit waits for its change while its run is created and stored.
            await asyncio.wait_for(hold.reached.wait(), COMPLETION_TIMEOUT)

            async def run_stored() -> bool:
                return bool(await app.db.pool.fetchval("SELECT count(*) FROM audit_check_runs"))

            await until(run_stored)
            runs = [r for r in fake_github.check_runs if r["head_sha"] == after]
            assert [(r["name"], r["status"]) for r in runs] == [("ForgeGuard", "in_progress")]

            await private_postgres.stop()  # mid-audit: the attempt's next write finds no database
            hold.released.set()
            # The attempt fails on the missing database; the worker outlives the outage.
            await asyncio.wait_for(interrupted.seen.wait(), COMPLETION_TIMEOUT)
            await asyncio.wait_for(outage.seen.wait(), COMPLETION_TIMEOUT)
            assert not running.done(), "the worker stopped when the database went away"
            await private_postgres.start()

            async def audit_completed() -> bool:
                status = await app.db.pool.fetchval("SELECT status FROM audit_runs")
                return status == "completed" and bool(
                    await app.db.pool.fetchval(
                        "SELECT count(*) = 0 FROM jobs WHERE status NOT IN ('succeeded', 'failed')"
                    )
                )

            await until(audit_completed)
        finally:
            hold.released.set()
            stop.set()
            await asyncio.wait_for(running, COMPLETION_TIMEOUT)

    runs = [r for r in fake_github.check_runs if r["head_sha"] == after]
    assert [(r["name"], r["status"], r["conclusion"]) for r in runs] == [
        ("ForgeGuard", "completed", "success")
    ]
    assert fake_github.calls("checks/create") == 1
    statuses = await app.db.pool.fetch("SELECT kind, status FROM jobs ORDER BY id")
    assert [(r["kind"], r["status"]) for r in statuses] == [("delivery", "succeeded"), ("audit", "succeeded")]
    assert await app.db.pool.fetchval("SELECT attempts FROM jobs WHERE kind = 'audit'") == 2
    assert len(outage.lines) == 1, outage.lines
