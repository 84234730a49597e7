"""The processes: `forgeguard worker` killed mid-job, `forgeguard serve` with replay, settings errors."""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from forgeguard_app.db import Database
from forgeguard_app.jobs import REGISTRY, Worker, enqueue
from forgeguard_app.settings import Settings
from tests.app import worker_jobs
from tests.app.conftest import CORPUS, WEBHOOK_SECRET

ROOT = pathlib.Path(__file__).resolve().parents[2]


def process_env(tmp_path: pathlib.Path, **values: str) -> dict[str, str]:
    """A clean environment: no inherited GitHub or database settings, the project importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "DATABASE_", "FORGEGUARD_"))}
    env.update(PYTHONPATH=str(ROOT), FORGEGUARD_DATA_DIR=str(tmp_path / "data"))
    env.update(values)
    return env


async def start(tmp_path: pathlib.Path, code: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def wait_for(query: str, db: Database, *args: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await db.pool.fetchval(query, *args)
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for: {query}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def effects(db: Database) -> AsyncIterator[Database]:
    await db.pool.execute("CREATE TABLE job_effects (job_id bigint, attempt int, phase text)")
    yield db


class Child:
    """A started process whose output is read as it comes, kept for the failure message."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.output = bytearray()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while chunk := await self.process.stdout.read(65536):
            self.output.extend(chunk)

    def report(self) -> str:
        return f"exit status {self.process.returncode}; its output:\n{self.output.decode('utf-8', 'replace')}"

    async def stopped(self) -> None:
        await self.process.wait()
        await self._reader

    async def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        await self.stopped()


async def until(
    query: str, db: Database, *args: Any, running: Callable[[], str | None], deadline: float = 180.0
) -> None:
    """Wait for `query` to be true while `running()` says nothing went wrong (a message: fail with it).

    The deadline only bounds a broken run: a slow start under load waits as long as it takes.
    """
    end = time.monotonic() + deadline
    while not await db.pool.fetchval(query, *args):
        problem = running()
        assert problem is None, f"while waiting for {query}: {problem}"
        assert time.monotonic() < end, f"not true within {deadline:.0f} s: {query}"
        await asyncio.sleep(0.05)


async def test_a_job_of_a_killed_worker_is_picked_up_again_and_completed_once(
    effects: Database, database_url: str, tmp_path: pathlib.Path
) -> None:
    db = effects
    async with db.pool.acquire() as conn:
        job_id = await enqueue(conn, worker_jobs.KIND, {})
    code = (
        "import tests.app.worker_jobs\n"
        "from forgeguard_app.cli import main\n"
        "raise SystemExit(main(['worker', '--workers', '1']))\n"
    )
    worker = Child(await start(tmp_path, code, process_env(tmp_path, DATABASE_URL=database_url)))

    def worker_alive() -> str | None:
        return None if worker.process.returncode is None else f"the worker stopped: {worker.report()}"

    try:
        await until(
            "SELECT EXISTS (SELECT 1 FROM job_attempts WHERE job_id = $1 AND attempt = 1)"
            " AND EXISTS (SELECT 1 FROM job_effects WHERE phase = 'started')",
            db,
            job_id,
            running=worker_alive,
        )
    finally:
        await worker.kill()

    survivor = Worker(
        db,
        Settings(),
        concurrency=1,
        registry={worker_jobs.KIND: REGISTRY[worker_jobs.KIND]},
        heartbeat_timeout=timedelta(seconds=1),
        dequeue_timeout=timedelta(seconds=1),
    )
    task = asyncio.create_task(survivor.run())

    def survivor_alive() -> str | None:
        return None if not task.done() else f"the surviving worker stopped: {task!r}"

    try:
        await until("SELECT status = 'succeeded' FROM jobs WHERE id = $1", db, job_id, running=survivor_alive)
    finally:
        survivor.stop()
        await asyncio.wait_for(task, 15)

    phases = [tuple(r) for r in await db.pool.fetch("SELECT attempt, phase FROM job_effects ORDER BY 1, 2")]
    assert phases == [(1, "started"), (2, "completed"), (2, "started")], worker.report()
    attempts = [
        tuple(r)
        for r in await db.pool.fetch(
            "SELECT attempt, outcome, error FROM job_attempts WHERE job_id = $1 ORDER BY attempt", job_id
        )
    ]
    assert attempts == [(1, "failed", "the worker running it stopped"), (2, "succeeded", None)], (
        worker.report()
    )


async def test_two_worker_processes_share_the_jobs_and_run_each_once(
    effects: Database, database_url: str, tmp_path: pathlib.Path
) -> None:
    db = effects
    code = (
        "import tests.app.worker_jobs\n"
        "from forgeguard_app.cli import main\n"
        "raise SystemExit(main(['worker', '--workers', '2']))\n"
    )
    env = process_env(tmp_path, DATABASE_URL=database_url)
    workers = [Child(await start(tmp_path, code, env)) for _ in range(2)]

    def all_alive() -> str | None:
        stopped = [w.report() for w in workers if w.process.returncode is not None]
        return f"a worker stopped: {stopped[0]}" if stopped else None

    try:
        # Both listen before any job is queued, so that neither can take them all alone.
        await until(
            "SELECT count(*) = 2 FROM pg_stat_activity"
            " WHERE datname = current_database() AND query LIKE 'LISTEN%'",
            db,
            running=all_alive,
        )
        async with db.pool.acquire() as conn:
            job_ids = [await enqueue(conn, worker_jobs.RECORD_KIND, {"n": n}) for n in range(40)]
        await until("SELECT count(*) = 40 FROM jobs WHERE status = 'succeeded'", db, running=all_alive)
    finally:
        for worker in workers:
            worker.process.send_signal(signal.SIGTERM)
        for worker in workers:
            await asyncio.wait_for(worker.stopped(), 30)

    reports = "\n".join(w.report() for w in workers)
    runs = await db.pool.fetch("SELECT job_id, phase FROM job_effects")
    assert sorted(r["job_id"] for r in runs) == sorted(job_ids), reports
    assert {r["phase"] for r in runs} == {f"pid {w.process.pid}" for w in workers}, reports
    assert [w.process.returncode for w in workers] == [0, 0], reports


async def test_serve_takes_a_replayed_delivery_and_its_worker_processes_it(
    db: Database, database_url: str, tmp_path: pathlib.Path, private_key_pem: str
) -> None:
    port = free_port()
    env = process_env(
        tmp_path,
        DATABASE_URL=database_url,
        GITHUB_APP_ID="4242",
        GITHUB_PRIVATE_KEY=private_key_pem.replace("\n", "\\n"),
        GITHUB_WEBHOOK_SECRET=WEBHOOK_SECRET,
        PORT=str(port),
        LOG_FORMAT="json",
    )
    server = await start(
        tmp_path,
        "from forgeguard_app.cli import main; raise SystemExit(main(['serve', '--workers', '2']))",
        env,
    )
    try:
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 30
            while True:
                try:
                    async with session.get(f"http://127.0.0.1:{port}/health") as response:
                        health = await response.json()
                        break
                except aiohttp.ClientConnectionError:
                    assert time.monotonic() < deadline, "serve did not start"
                    await asyncio.sleep(0.2)
        assert health["status"] == "ok"

        payload = CORPUS / "webhooks" / "installation" / "created.payload.json"
        replay = await start(
            tmp_path,
            "from forgeguard_app.cli import main; "
            f"raise SystemExit(main(['replay', {str(payload)!r}, '--event', 'installation']))",
            env,
        )
        output, _ = await replay.communicate()
        assert replay.returncode == 0
        status, answer = output.decode().strip().split(" ", 1)
        assert status == "202" and json.loads(answer)["status"] == "queued"

        await wait_for(
            "SELECT status = 'processed' FROM deliveries WHERE id = $1", db, json.loads(answer)["delivery"]
        )
        account = await db.pool.fetchval("SELECT account_login FROM installations WHERE id = 957387")
        assert account == "Codertocat"
    finally:
        server.send_signal(signal.SIGTERM)
        logs, _ = await asyncio.wait_for(server.communicate(), 30)
    assert server.returncode == 0
    lines = [json.loads(line) for line in logs.decode().splitlines() if line.strip()]
    delivery_lines = [line for line in lines if line.get("delivery_id") == json.loads(answer)["delivery"]]
    assert {line["logger"] for line in delivery_lines} >= {"forgeguard_app.webhooks", "forgeguard_app.events"}
    assert WEBHOOK_SECRET not in logs.decode()


def test_replay_without_a_webhook_secret_says_so_in_one_line(tmp_path: pathlib.Path) -> None:
    import subprocess

    payload = CORPUS / "webhooks" / "ping" / "payload.json"
    result = subprocess.run(
        [sys.executable, "-m", "forgeguard_app", "replay", str(payload), "--event", "ping"],
        cwd=tmp_path,
        env=process_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "forgeguard: GITHUB_WEBHOOK_SECRET is not set: replay signs with it"
    ]


@pytest.mark.parametrize("command", ["serve", "worker", "migrate"])
def test_wrong_settings_stop_the_process_with_one_line_per_mistake(
    tmp_path: pathlib.Path, command: str
) -> None:
    import subprocess

    env = process_env(tmp_path, PORT="http", LOG_LEVEL="chatty", GITHUB_APP_ID="my-app")
    result = subprocess.run(
        [sys.executable, "-m", "forgeguard_app", command],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "forgeguard: GITHUB_APP_ID must be a number, got 'my-app'",
        "forgeguard: PORT must be a number from 1 to 65535, got 'http'",
        "forgeguard: LOG_LEVEL must be one of debug, info, warning, error, got 'chatty'",
    ]


def test_without_database_url_an_embedded_postgres_keeps_its_data_between_runs(
    tmp_path: pathlib.Path,
) -> None:
    import shutil
    import subprocess
    import tempfile

    # Outside pytest's 0700 basetemp: as root, pgserver runs postgres as its own user.
    data = pathlib.Path(tempfile.mkdtemp(prefix="forgeguard-embedded-"))
    try:
        env = process_env(tmp_path, FORGEGUARD_DATA_DIR=str(data))
        runs = [
            subprocess.run(
                [sys.executable, "-m", "forgeguard_app", "migrate"],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            for _ in range(2)
        ]
        assert [run.returncode for run in runs] == [0, 0]
        assert runs[0].stdout.startswith("applied 001_deliveries.sql")
        assert runs[1].stdout.strip() == "the database is up to date"
        assert (data / "postgres" / "PG_VERSION").is_file()
    finally:
        shutil.rmtree(data, ignore_errors=True)
