"""Benchmark: from a SIGKILLed worker to the build's next step running on another worker.

A build runs on `forgeguard worker` process A (the fake GitHub and the fake
model in this process). When A is in the middle of a step (its `builder.step`
job running), A is SIGKILLed; worker B (in this process, same heartbeat
time-out as A's queue) picks the step up. Measured: from the kill to the
moment B starts a step of the build (its first job attempt's `started_at`: the killed
step again, or the next one when A's step had just finished), against the
target of the job heartbeat time-out plus 5 s. Each round kills at a
different step; the build is then finished by B.

    .venv/bin/python bench/builder_resume.py [--rounds 3] [--heartbeat 10]

Uses TEST_DATABASE_URL / DATABASE_URL when set, else an embedded PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient, TestServer

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.push_to_check import database  # noqa: E402
from forgeguard_app.github.client import GitHubApp  # noqa: E402
from forgeguard_app.jobs import Worker  # noqa: E402
from forgeguard_app.llm.client import LLM  # noqa: E402
from forgeguard_app.server import create_app  # noqa: E402
from forgeguard_app.web.state import AppState  # noqa: E402
from forgeguard_app.wiring import job_registry  # noqa: E402
from tests.builder.build_harness import (  # noqa: E402
    CONTRACTS,
    BuildBench,
    open_contracts_pull,
    responsive_builder,
)
from tests.builder.test_build_crash import worker_env  # noqa: E402
from tests.fixtures.anthropic import FakeAnthropic  # noqa: E402
from tests.fixtures.github import FakeGitHub  # noqa: E402

WORKER = (
    "import asyncio, sys\n"
    "from datetime import timedelta\n"
    "from forgeguard_app import server\n"
    "from forgeguard_app.jobs import Worker\n"
    "from forgeguard_app.settings import Settings\n"
    "from forgeguard_app.wiring import job_registry\n"
    "async def main():\n"
    "    settings = Settings.from_env()\n"
    "    db = await server.open_database(settings, max_size=8)\n"
    "    async with server.clients(settings, db) as state:\n"
    "        beat = timedelta(seconds=float(sys.argv[1]))\n"
    "        worker = Worker(db, settings, concurrency=1, github=state.github, llm=state.llm,\n"
    "                        registry=job_registry(), heartbeat_timeout=beat)\n"
    "        await worker.run()\n"
    "asyncio.run(main())\n"
)

RESUMED = """
SELECT extract(epoch FROM min(a.started_at)) FROM job_attempts a JOIN jobs j ON j.id = a.job_id
WHERE j.kind = 'builder.step' AND a.worker = $1
"""
RUNNING_STEP = """
SELECT j.id FROM jobs j JOIN job_attempts a ON a.job_id = j.id AND a.outcome = 'running'
WHERE j.kind = 'builder.step' AND j.status = 'running' AND a.attempt = j.attempts
ORDER BY j.id DESC LIMIT 1
"""


async def poll(db: Any, query: str, *args: Any, timeout: float = 300.0, every: float = 0.01) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await db.pool.fetchval(query, *args)
        if value:
            return value
        await asyncio.sleep(every)
    raise TimeoutError(query)


async def one_round(tmp: pathlib.Path, heartbeat: float, skip_steps: int, url: str) -> float:
    fake = FakeGitHub(tmp / "fake")
    fake.root.mkdir(parents=True)
    await fake.start()
    model = FakeAnthropic()
    await model.start()
    model.respond_with(responsive_builder)
    db, handle = await database(tmp)
    settings = fake.settings(
        public_url="https://forgeguard.test",
        anthropic_api_key=model.api_key,
        anthropic_base_url=model.base_url,
        data_dir=tmp / "b",
    )
    fake.set_permission("octocat", "write")
    repo = fake.add_repo("octo-org", "shelf", files={"README.md": "# shelf\n"})
    issue = fake.add_issue(repo, "Shelf", "A catalogue.")
    repo.create_branch(f"forge/contracts-{issue}")
    repo.commit(CONTRACTS, branch=f"forge/contracts-{issue}", message="Forge contracts")
    try:
        async with aiohttp.ClientSession() as session:
            github = GitHubApp(settings, session)
            llm = LLM(settings, db, max_retries=2)
            client = TestClient(
                TestServer(create_app(AppState(settings=settings, db=db, github=github, llm=llm)))
            )
            await client.start_server()
            bench = BuildBench(
                fake,
                model,
                db,
                settings,
                client,
                Worker(db, settings, github=github, llm=llm),
                repo,
                issue=issue,
            )
            bench.worker = replace(bench.worker, registry=job_registry())
            await open_contracts_pull(bench)
            await bench.comment(bench.contracts_pull, "/forge build", drain=False)
            assert await bench.step()
            database_url = db.url
            first = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                WORKER,
                str(heartbeat),
                cwd=tmp,
                env=worker_env(bench, database_url, tmp / "a"),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            # let A run `skip_steps` steps, then kill it in the middle of the next one
            await poll(db, "SELECT seq >= $1 FROM builds WHERE id = 1", skip_steps)
            await poll(db, RUNNING_STEP)
            first.send_signal(signal.SIGKILL)
            killed = time.time()
            await first.wait()
            survivor = Worker(
                db,
                replace(settings, data_dir=tmp / "b"),
                concurrency=1,
                github=github,
                llm=llm,
                registry=job_registry(),
                heartbeat_timeout=timedelta(seconds=heartbeat),
                dequeue_timeout=timedelta(seconds=1),
            )
            task = asyncio.create_task(survivor.run())
            try:
                started = await poll(db, RESUMED, survivor.name)
                await poll(db, "SELECT status IN ('succeeded', 'failed') FROM builds WHERE id = 1")
            finally:
                survivor.stop()
                await asyncio.wait_for(task, 30)
                await client.close()
                await llm.close()
    finally:
        await fake.close()
        await model.close()
        await db.close()
        if handle is not None:
            handle.cleanup()
    del url
    return float(started) - killed


async def main(rounds: int, heartbeat: float) -> dict[str, Any]:
    waits = []
    for n in range(rounds):
        with tempfile.TemporaryDirectory() as folder:
            wait = await one_round(
                pathlib.Path(folder), heartbeat, 3 + 4 * n, os.environ.get("TEST_DATABASE_URL", "")
            )
            waits.append(wait)
            print(f"round {n + 1}: the step ran again {wait:.2f} s after the kill", file=sys.stderr)
    return {
        "heartbeat_timeout_s": heartbeat,
        "target_s": heartbeat + 5,
        "resume_s": [round(w, 2) for w in waits],
        "resume_max_s": round(max(waits), 2),
        "resume_median_s": round(statistics.median(waits), 2),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--heartbeat", type=float, default=10.0)
    args = parser.parse_args()
    for key, value in asyncio.run(main(args.rounds, args.heartbeat)).items():
        print(f"{key}: {value}")
