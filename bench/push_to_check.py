"""Benchmark: push delivery → completed check run, against the fake GitHub on loopback.

A Forge-governed repository of 2,000 files; each round commits a 5-file push
(four modules and the diff log claiming them), delivers the signed `push`
webhook to the running app (aiohttp on 127.0.0.1, real pgqueuer worker, real
GitHub client), and waits until the fake GitHub holds a completed
`ForgeGuard` run for the new head. Reports p50/p99 latency and the API
requests per audit (token minting excluded).

    .venv/bin/python bench/push_to_check.py [--pushes 50] [--files 2000]

Uses TEST_DATABASE_URL / DATABASE_URL when set, else an embedded PostgreSQL
in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import pathlib
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing.connection import Connection
from typing import Any, cast

import aiohttp
import asyncpg
from aiohttp import web

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from forgeguard_app.db import Database  # noqa: E402
from forgeguard_app.github.client import GitHubApp  # noqa: E402
from forgeguard_app.jobs import Worker  # noqa: E402
from forgeguard_app.server import create_app  # noqa: E402
from forgeguard_app.settings import Settings  # noqa: E402
from forgeguard_app.web.state import AppState  # noqa: E402
from forgeguard_app.wiring import job_registry  # noqa: E402
from tests.checkruns.conftest import push_payload  # noqa: E402
from tests.checkruns.repos import difflog, governed_files, module  # noqa: E402
from tests.fixtures.db import with_database  # noqa: E402
from tests.fixtures.github import FakeGitHub, FakeRepo, sign_webhook  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def database(tmp: pathlib.Path) -> tuple[Database, Any]:
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    handle = None
    if not url:
        from pgserver.postgres_server import get_server

        handle = get_server(tmp / "pg", cleanup_mode="delete")
        url = handle.get_uri()
    name = f"fg_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    db = await Database.connect(with_database(url, name), min_size=2, max_size=20)
    await db.migrate()
    return db, handle


@dataclass(frozen=True)
class RepoInfo:
    """What a webhook payload names of the fake's repository."""

    id: int
    owner: str
    name: str
    full_name: str
    default_branch: str
    private: bool
    installation_id: int


def fake_process(conn: Connection, root: str, files: dict[str, str]) -> None:
    """The fake GitHub in its own process (GitHub is another machine; its git calls block its loop)."""
    asyncio.run(_fake_main(conn, pathlib.Path(root), files))


async def _fake_main(conn: Connection, root: pathlib.Path, files: dict[str, str]) -> None:
    fake = FakeGitHub(root)
    fake.root.mkdir(parents=True)
    await fake.start()
    repo = fake.add_repo("octo", "big", files=files)
    conn.send(
        {
            "url": fake.url,
            "app_id": str(fake.app_id),
            "client_id": fake.client_id,
            "key": fake.app_key,
            "secret": fake.webhook_secret,
            "repo": RepoInfo(
                repo.id,
                repo.owner,
                repo.name,
                repo.full_name,
                repo.default_branch,
                False,
                repo.installation_id,
            ),
        }
    )
    loop = asyncio.get_running_loop()
    while True:
        command, *args = await loop.run_in_executor(None, conn.recv)
        if command == "commit":
            before = repo.sha()
            conn.send((before, repo.commit(args[0], message=args[1])))
        elif command == "wait":
            head, timeout = args
            deadline = time.perf_counter() + timeout
            found: dict[str, Any] | None = None
            while found is None and time.perf_counter() < deadline:
                found = next(
                    (r for r in fake.check_runs if r["head_sha"] == head and r["status"] == "completed"), None
                )
                if found is None:
                    await asyncio.sleep(0.001)
            conn.send(found)
        elif command == "operations":
            conn.send(Counter(r.operation for r in fake.requests))
        else:
            break
    await fake.close()


def union_seconds(intervals: list[tuple[float, float]]) -> float:
    """Total time covered by (start, end) intervals, overlaps counted once."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(intervals):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def request_timer(intervals: list[tuple[float, float]]) -> aiohttp.TraceConfig:
    """A trace recording the (start, end) of every request the app's GitHub session makes."""
    trace = aiohttp.TraceConfig()

    async def on_start(session: Any, context: Any, params: Any) -> None:
        context.started = time.perf_counter()

    async def on_end(session: Any, context: Any, params: Any) -> None:
        intervals.append((context.started, time.perf_counter()))

    trace.on_request_start.append(on_start)
    trace.on_request_end.append(on_end)
    trace.on_request_exception.append(on_end)
    return trace


async def ask(conn: Connection, *message: Any) -> Any:
    conn.send(message)
    return await asyncio.get_running_loop().run_in_executor(None, conn.recv)


async def main(pushes: int, files: int, workers: int, dispatch_ms: float | None = None) -> dict[str, Any]:
    contents = {**governed_files(), **{f"pkg/sub{i % 40}/m{i}.py": module(i) for i in range(files - 9)}}
    with tempfile.TemporaryDirectory() as folder:
        tmp = pathlib.Path(folder)
        parent_end, child_end = multiprocessing.get_context("spawn").Pipe()
        child = multiprocessing.get_context("spawn").Process(
            target=fake_process, args=(child_end, str(tmp / "fake"), contents), daemon=True
        )
        child.start()
        info = parent_end.recv()
        repo: RepoInfo = info["repo"]
        print(f"repository: {len(contents)} files", file=sys.stderr)
        db, handle = await database(tmp)
        settings = Settings(
            app_id=info["app_id"],
            client_id=info["client_id"],
            private_key=info["key"],
            webhook_secret=info["secret"],
            api_url=info["url"],
            github_url=info["url"],
            data_dir=tmp / "data",
            public_url="http://127.0.0.1:1",
        )
        latencies: list[float] = []
        github_waits: list[float] = []
        intervals: list[tuple[float, float]] = []
        conclusions: Counter[str] = Counter()
        async with aiohttp.ClientSession(trace_configs=[request_timer(intervals)]) as session:
            github = GitHubApp(settings, session)
            app = create_app(AppState(settings=settings, db=db, github=github))
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            worker = Worker(db, settings, concurrency=workers, github=github, registry=job_registry())
            if dispatch_ms is not None:
                worker.dispatch_interval = timedelta(milliseconds=dispatch_ms)
            worker_task = asyncio.create_task(worker.run())
            try:
                async with aiohttp.ClientSession() as client:
                    for n in range(pushes + 1):
                        changed = {
                            f"pkg/sub{(n * 4 + i) % 40}/m{n * 4 + i}.py": module(n * 10 + i) for i in range(4)
                        }
                        before, after = await ask(
                            parent_end,
                            "commit",
                            {**changed, "Forge/evidence/updatedifflog.md": difflog(sorted(changed))},
                            f"push {n}",
                        )
                        payload = push_payload(cast(FakeRepo, repo), before, after)
                        body = json.dumps(payload).encode()
                        headers = sign_webhook(settings.webhook_secret or "", body, "push")
                        intervals.clear()
                        start = time.perf_counter()
                        async with client.post(
                            f"http://127.0.0.1:{port}/webhooks", data=body, headers=headers
                        ) as r:
                            assert r.status == 202, await r.text()
                        run = await ask(parent_end, "wait", after, 30.0)
                        elapsed = time.perf_counter() - start
                        if run is None:
                            raise TimeoutError(f"no completed check run for {after[:7]}")
                        if n == 0:
                            continue  # warm-up: token mint, first imports and caches
                        latencies.append(elapsed)
                        end = start + elapsed
                        github_waits.append(
                            union_seconds([(a, min(b, end)) for a, b in intervals if a < end])
                        )
                        conclusions[run["conclusion"]] += 1
                rows = await db.pool.fetch(
                    "SELECT api_calls FROM audit_runs WHERE status = 'completed' ORDER BY id OFFSET 1"
                )
                ops = await ask(parent_end, "operations")
                parent_end.send(("stop",))
            finally:
                worker.stop()
                await worker_task
                await runner.cleanup()
                await db.close()
                child.join(10)
                if handle is not None:
                    handle.cleanup()
    calls = [r["api_calls"] for r in rows if r["api_calls"] is not None]
    audits = pushes + 1
    ops.pop("apps/create-installation-access-token", None)
    return {
        "pushes": pushes,
        "repository_files": len(contents),
        "files_per_push": 5,
        "dispatch_interval_ms": dispatch_ms if dispatch_ms is not None else "worker default",
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
        "waiting_on_fake_github_p50_ms": round(percentile(github_waits, 0.50) * 1000, 1),
        "forgeguard_own_time_p50_ms": round(
            percentile([t - w for t, w in zip(latencies, github_waits, strict=True)], 0.50) * 1000, 1
        ),
        "api_calls_per_audit_mean": round(statistics.fmean(calls), 2) if calls else None,
        "api_calls_per_audit_max": max(calls) if calls else None,
        "requests_per_operation_per_audit": {op: round(c / audits, 2) for op, c in sorted(ops.items())},
        "conclusions": dict(conclusions),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pushes", type=int, default=50)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--dispatch-ms", type=float, default=None, help="the workers' queued-job poll (default: the Worker's)"
    )
    args = parser.parse_args()
    result = asyncio.run(main(args.pushes, args.files, args.workers, args.dispatch_ms))
    print(json.dumps(result, indent=2))
