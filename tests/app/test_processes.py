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
from collections.abc import AsyncIterator
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
    worker = await start(tmp_path, code, process_env(tmp_path, DATABASE_URL=database_url))
    try:
        await wait_for("SELECT count(*) FROM job_effects WHERE phase = 'started'", db)
    finally:
        worker.send_signal(signal.SIGKILL)
        await worker.wait()

    survivor = Worker(
        db,
        Settings(),
        concurrency=1,
        registry={worker_jobs.KIND: REGISTRY[worker_jobs.KIND]},
        heartbeat_timeout=timedelta(seconds=1),
        dequeue_timeout=timedelta(seconds=1),
    )
    task = asyncio.create_task(survivor.run())
    try:
        await wait_for("SELECT status = 'succeeded' FROM jobs WHERE id = $1", db, job_id)
    finally:
        survivor.stop()
        await asyncio.wait_for(task, 15)

    phases = [tuple(r) for r in await db.pool.fetch("SELECT attempt, phase FROM job_effects ORDER BY 1, 2")]
    assert phases == [(1, "started"), (2, "completed"), (2, "started")]
    attempts = [
        tuple(r)
        for r in await db.pool.fetch(
            "SELECT attempt, outcome, error FROM job_attempts WHERE job_id = $1 ORDER BY attempt", job_id
        )
    ]
    assert attempts == [(1, "failed", "the worker running it stopped"), (2, "succeeded", None)]


async def test_two_worker_processes_share_the_jobs_and_run_each_once(
    effects: Database, database_url: str, tmp_path: pathlib.Path
) -> None:
    db = effects
    async with db.pool.acquire() as conn:
        job_ids = [await enqueue(conn, worker_jobs.RECORD_KIND, {"n": n}) for n in range(40)]
    code = (
        "import tests.app.worker_jobs\n"
        "from forgeguard_app.cli import main\n"
        "raise SystemExit(main(['worker', '--workers', '2']))\n"
    )
    env = process_env(tmp_path, DATABASE_URL=database_url)
    workers = [await start(tmp_path, code, env) for _ in range(2)]
    try:
        await wait_for("SELECT count(*) = 40 FROM jobs WHERE status = 'succeeded'", db, timeout=60)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            await asyncio.wait_for(worker.communicate(), 30)

    runs = await db.pool.fetch("SELECT job_id, phase FROM job_effects")
    assert sorted(r["job_id"] for r in runs) == sorted(job_ids)
    assert {r["phase"] for r in runs} == {f"pid {w.pid}" for w in workers}
    assert [w.returncode for w in workers] == [0, 0]


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
