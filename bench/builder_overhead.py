"""Benchmark: the app's own overhead per passing build phase, model and test time excluded.

A 300-file Forge project (the contracts plus 300 modules on the contracts
branch); a three-phase build through the real app (aiohttp, jobs, GitHub
client on the fake GitHub, the scripted fake model), each phase writing ten
modules. The project's tests are not run (`run_project_tests` answers PASS at
once) and model turns are not timed, so what is measured per phase is the
sign-off step (evidence, the working-tree audit, the attempt commit, its
check run, the authorization commit, the ref move, saving the state) plus the
progress comment edits of the phase, and every GitHub request of the phase
(token minting excluded).

The baseline, measured in the same run on the same change: `forgeguard audit
--working-tree --phase "<phase>"` (`python -m checks`) in a local clone at the
phase's base with the attempt's files as the uncommitted change.

    .venv/bin/python bench/builder_overhead.py [--files 300] [--per-phase 10]

Uses TEST_DATABASE_URL / DATABASE_URL when set, else an embedded PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient, TestServer

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.push_to_check import database  # noqa: E402
from forgeguard_app.builder import steps  # noqa: E402
from forgeguard_app.builder.sandbox import Sandbox  # noqa: E402
from forgeguard_app.builder.tools import TestRun  # noqa: E402
from forgeguard_app.github.client import GitHubApp  # noqa: E402
from forgeguard_app.jobs import Worker  # noqa: E402
from forgeguard_app.llm.client import LLM  # noqa: E402
from forgeguard_app.server import create_app  # noqa: E402
from forgeguard_app.web.state import AppState  # noqa: E402
from forgeguard_app.wiring import job_registry  # noqa: E402
from tests.builder.build_harness import CONTRACTS, BuildBench, open_contracts_pull  # noqa: E402
from tests.fixtures import anthropic as fa  # noqa: E402
from tests.fixtures.anthropic import FakeAnthropic  # noqa: E402
from tests.fixtures.github import FakeGitHub  # noqa: E402

NAMES = {1: "Items", 2: "Loans", 3: "Report"}


def project_module(i: int) -> str:
    return f'"""Module {i}."""\n\n\ndef value_{i}(x: int) -> int:\n    return x + {i}\n'


def phase_script(n: int, per_phase: int) -> list[fa.Scripted]:
    files = {f"shelf/p{n}/m{k}.py": project_module(1000 * n + k) for k in range(per_phase - 1)}
    value = 1000 * n
    files[f"tests/test_p{n}.py"] = (
        f"from shelf.p{n}.m0 import value_{value}\n\n\n"
        f"def test_it():\n    assert value_{value}(1) == {value + 1}\n"
    )
    return [
        fa.turn(fa.plan_phase(f"write the {len(files)} files of phase {n}")),
        fa.turn(*(fa.write_file(p, c) for p, c in files.items())),
        fa.turn(fa.sign_off_phase(sorted(files))),
    ]


async def passing_tests(*_args: Any, **_kwargs: Any) -> TestRun:
    """Test time excluded: the sign-off's own test run answers at once."""
    return TestRun("pytest -q", 0, 1, 0, 0, 0, False, 0.0, "1 passed")


def baseline_audit(repo_path: pathlib.Path, work: pathlib.Path, base: str, attempt: str, title: str) -> float:
    """`forgeguard audit --working-tree --phase` on a clone at `base` with `attempt`'s files uncommitted."""
    if work.exists():
        subprocess.run(["rm", "-rf", str(work)], check=True)
    subprocess.run(["git", "clone", "-q", str(repo_path), str(work)], check=True)
    subprocess.run(["git", "-C", str(work), "checkout", "-q", base], check=True)
    subprocess.run(["git", "-C", str(work), "checkout", "-q", attempt, "--", "."], check=True)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "checks", "--working-tree", "--phase", title, "--format", "json"],
        cwd=work,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise RuntimeError(f"the baseline audit failed: {result.stderr[-500:]}")
    return elapsed


async def main(files: int, per_phase: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        tmp = pathlib.Path(folder)
        fake = FakeGitHub(tmp / "fake")
        fake.root.mkdir(parents=True)
        await fake.start()
        model = FakeAnthropic()
        await model.start()
        db, handle = await database(tmp)
        settings = fake.settings(
            public_url="https://forgeguard.test",
            anthropic_api_key=model.api_key,
            anthropic_base_url=model.base_url,
            data_dir=tmp / "data",
        )
        fake.set_permission("octocat", "write")
        repo = fake.add_repo("octo-org", "shelf", files={"README.md": "# shelf\n"})
        issue = fake.add_issue(repo, "Shelf", "A catalogue.")
        repo.create_branch(f"forge/contracts-{issue}")
        project = {**CONTRACTS, **{f"shelf/base/m{i}.py": project_module(i) for i in range(files)}}
        repo.commit(project, branch=f"forge/contracts-{issue}", message="Forge contracts and the project")
        model.respond_with(fa.ScriptedBuilder([t for n in (1, 2, 3) for t in phase_script(n, per_phase)]))

        timings: dict[int, float] = {}
        requests: dict[int, Counter[str]] = {}
        marks: dict[int, tuple[int, float]] = {}
        original_run = steps.Runner.run

        async def timed_run(self: steps.Runner) -> None:
            kind = self.state.next
            phase = self.state.phase.number if self.state.phase else 0
            if kind == "start_phase":
                marks[phase] = (len(fake.requests), 0.0)
            started = time.perf_counter()
            await original_run(self)
            if kind in ("signoff", "start_phase") or (kind == "tool" and self.publish):
                timings[phase] = timings.get(phase, 0.0) + time.perf_counter() - started
            if kind == "signoff":
                first = marks[phase][0]
                requests[phase] = Counter(
                    r.operation
                    for r in fake.requests[first:]
                    if r.operation != "apps/create-installation-access-token"
                )

        async def plain_box(self: steps.Runner, *, commands: bool = True) -> Sandbox:
            return Sandbox((await self.tree()).root)

        steps.Runner.run = timed_run  # type: ignore[method-assign]
        steps.Runner.box = plain_box  # type: ignore[method-assign]
        steps.run_project_tests = passing_tests  # type: ignore[assignment]
        async with aiohttp.ClientSession() as session:
            github = GitHubApp(settings, session)
            llm = LLM(settings, db, max_retries=0)
            client = TestClient(
                TestServer(create_app(AppState(settings=settings, db=db, github=github, llm=llm)))
            )
            await client.start_server()
            worker = Worker(db, settings, github=github, llm=llm, registry=job_registry())
            bench = BuildBench(fake, model, db, settings, client, worker, repo, issue=issue)
            await open_contracts_pull(bench)
            await bench.comment(bench.contracts_pull, "/forge build", drain=True)
            build = await bench.build()
            await client.close()
            await llm.close()
        assert build.status == "succeeded", (build.status, build.end_reason)

        baselines: dict[int, float] = {}
        for phase in build.state.phases:
            attempt = phase.attempts[-1].sha
            baselines[phase.number] = baseline_audit(
                repo.path, tmp / f"clone-{phase.number}", phase.base_head, attempt, phase.title
            )
        await fake.close()
        await model.close()
        await db.close()
        if handle is not None:
            handle.cleanup()
    per_phase_requests = {n: sum(c.values()) for n, c in requests.items()}
    ratios = [timings[n] / baselines[n] for n in sorted(baselines)]
    return {
        "files": files + len(CONTRACTS),
        "files_per_phase": per_phase,
        "overhead_s": {n: round(timings[n], 3) for n in sorted(timings) if n},
        "baseline_audit_s": {n: round(baselines[n], 3) for n in sorted(baselines)},
        "ratio_median": round(statistics.median(ratios), 2),
        "ratios": [round(r, 2) for r in ratios],
        "github_requests": per_phase_requests,
        "github_operations": {n: dict(c) for n, c in requests.items()},
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--per-phase", type=int, default=10)
    args = parser.parse_args()
    result = asyncio.run(main(args.files, args.per_phase))
    for key, value in result.items():
        print(f"{key}: {value}")
