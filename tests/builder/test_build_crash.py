"""A worker lost mid-build (SIGKILLed, or GitHub's answer to it lost): the build is finished, and no commit or
check run is made twice."""

from __future__ import annotations

import asyncio
import os
import pathlib
import signal
import sys
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

from forgeguard_app.jobs import Worker
from forgeguard_app.wiring import job_registry
from tests.builder.build_harness import BuildBench, responsive_builder, whole_build

ROOT = pathlib.Path(__file__).resolve().parents[2]
WORKER = (
    "import asyncio\n"
    "from forgeguard_app.server import work\n"
    "from forgeguard_app.settings import Settings\n"
    "asyncio.run(work(Settings.from_env(), workers=1))\n"
)
"""`forgeguard worker --workers 1` (on asyncio's own loop)."""


def worker_env(bench: BuildBench, database_url: str, data_dir: pathlib.Path) -> dict[str, str]:
    """`forgeguard worker` configured like the app under test: the fake GitHub, the fake model."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "DATABASE_", "FORGEGUARD_"))}
    settings = bench.settings
    env.update(
        PYTHONPATH=str(ROOT),
        DATABASE_URL=database_url,
        GITHUB_APP_ID=str(settings.app_id),
        GITHUB_PRIVATE_KEY=(settings.private_key or "").replace("\n", "\\n"),
        GITHUB_WEBHOOK_SECRET=settings.webhook_secret or "",
        GITHUB_API_URL=settings.api_url,
        GITHUB_URL=settings.github_url,
        ANTHROPIC_API_KEY=settings.anthropic_api_key or "",
        ANTHROPIC_BASE_URL=settings.anthropic_base_url or "",
        FORGEGUARD_PUBLIC_URL=settings.public_url,
        FORGEGUARD_DATA_DIR=str(data_dir),
    )
    return env


async def wait_for(
    bench: BuildBench, query: str, *args: Any, timeout: float = 240.0, every: float = 0.02
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await bench.db.pool.fetchval(query, *args)
        if value:
            return value
        await asyncio.sleep(every)
    raise AssertionError(f"timed out waiting for: {query}")


async def test_a_build_whose_worker_is_killed_mid_phase_is_finished_by_another_without_a_duplicate_commit(
    build_bench: BuildBench, database_url: str, tmp_path: pathlib.Path
) -> None:
    bench = build_bench
    bench.model.respond_with(responsive_builder)
    await bench.comment(bench.contracts_pull, "/forge build", drain=False)
    assert await bench.step()  # the command: branch, draft pull request, first step queued

    first = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        WORKER,
        cwd=tmp_path,
        env=worker_env(bench, database_url, tmp_path / "worker-a"),
        stdout=open(tmp_path / "worker-a.log", "wb"),  # noqa: SIM115
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        # mid-phase: phase 2's attempt commit is made and recorded; its check run and authorization are not
        await wait_for(
            bench,
            "SELECT true FROM build_commits WHERE phase = 2 AND kind = 'attempt' AND commit_sha IS NOT NULL",
        )
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()

    killed_at = await bench.db.pool.fetchval("SELECT seq FROM builds WHERE id = 1")

    survivor = Worker(
        bench.db,
        replace(bench.settings, data_dir=tmp_path / "worker-b"),
        concurrency=1,
        github=bench.worker.github,
        llm=bench.worker.llm,
        heartbeat_timeout=timedelta(seconds=2),
        registry=job_registry(),
        dequeue_timeout=timedelta(seconds=1),
    )
    task = asyncio.create_task(survivor.run())
    try:
        await wait_for(bench, "SELECT status = 'succeeded' FROM builds WHERE id = 1")
    finally:
        survivor.stop()
        await asyncio.wait_for(task, 30)

    assert await bench.db.pool.fetchval("SELECT seq FROM builds WHERE id = 1") > killed_at
    everything = bench.repo.git("log", "--all", "--format=%s").splitlines()
    made = sorted(m for m in everything if m.startswith("forge:"))
    assert made == sorted(
        f"forge: {verb}Phase {n} -- {name}"
        for n, name in ((1, "Items"), (2, "Loans"), (3, "Report"))
        for verb in ("", "authorize ")
    )
    attempts = [bench.repo.resolve(f"forge/build-1~{k}") for k in (1, 3, 5)]
    for sha in attempts:
        runs = [r for r in bench.fake.check_runs if r["head_sha"] == sha and r["name"] == "ForgeGuard"]
        assert [r["conclusion"] for r in runs] == ["success"]
    pull = bench.fake.issue(bench.repo, bench.build_pull())
    assert pull.pull is not None and pull.pull["draft"] is False


async def test_an_attempts_check_run_whose_answer_was_lost_is_not_made_twice(build_bench: BuildBench) -> None:
    bench = build_bench
    bench.script(whole_build())
    bench.fake.fault("POST", r"/check-runs$", 502, applied=True)  # GitHub made the run; the answer is lost

    await bench.comment(bench.contracts_pull, "/forge build")

    assert (await bench.build()).status == "succeeded"
    attempt = bench.repo.resolve("forge/build-1~5")
    runs = [r for r in bench.fake.check_runs if r["head_sha"] == attempt and r["name"] == "ForgeGuard"]
    assert [(r["status"], r["conclusion"]) for r in runs] == [("completed", "success")]
