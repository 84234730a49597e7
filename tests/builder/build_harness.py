"""The builder as a black box: a repository with approved contracts, `/forge build`, a scripted model.

The real aiohttp app receives signed `issue_comment` deliveries, the real jobs
run (`drain()`), the real GitHub client talks to the fake GitHub (every
request validated against the corpus' OpenAPI subset) and the real LLM client
to the fake Messages API, which plays the builder turn by turn
(`ScriptedBuilder`). The project is a tiny Python package with three phases.
Each build makes its own virtual environment offline, from the test session's
wheelhouse (`tests/builder/wheelhouse.py`).

`tests/builder/conftest.py` makes `build_bench` a fixture of every test in the folder.
"""

from __future__ import annotations

import json
import pathlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from forgeguard_app.builder import store as builds
from forgeguard_app.commands import store as contracts_store
from forgeguard_app.db import Database
from forgeguard_app.github.client import GitHubApp, RetryPolicy
from forgeguard_app.jobs import Worker
from forgeguard_app.llm.client import LLM
from forgeguard_app.server import create_app
from forgeguard_app.settings import Settings
from forgeguard_app.web.state import AppState
from forgeguard_app.wiring import job_registry
from tests.commands.corpus import comment_payload
from tests.fixtures import anthropic as fa
from tests.fixtures.anthropic import FakeAnthropic, ScriptedBuilder
from tests.fixtures.appdriver import AppDriver
from tests.fixtures.github import FakeGitHub, FakeRepo

PHASES = """# Phases

## Phase 1 -- Items

**Objective:** A list of items with a count.

**Deliverables:**
- `shelf/items.py` with `count(items)`
- a test

**Exit criteria:**
- `pytest -q` passes

## Phase 2 -- Loans

**Objective:** Loans of items.

**Deliverables:**
- `shelf/loans.py` with `lend(item, who)`

**Exit criteria:**
- `pytest -q` passes

## Phase 3 -- Report

**Objective:** A report of the loans.

**Deliverables:**
- `shelf/report.py` with `report(loans)`

**Exit criteria:**
- `pytest -q` passes
"""

CONTRACTS: dict[str, str] = {
    "Forge/Contracts/phases.md": PHASES,
    "Forge/Contracts/builder_contract.md": "# Builder contract\n\nBuild one phase at a time.\n",
    "Forge/Contracts/builder_directive.md": "# Builder directive\n\nPython 3.11, pytest.\n",
    "Forge/Contracts/blueprint.md": "# Blueprint\n\nA small lending library package `shelf`.\n",
    "Forge/Contracts/stack.md": "# Stack\n\nPython 3.11 standard library only; pytest for tests.\n",
    "forge.json": json.dumps({"project": "shelf", "language": "python"}) + "\n",
    "Forge/evidence/updatedifflog.md": "# Diff Log\n\n## Cycle Metadata\n- Phase: Contracts\n",
    "Forge/evidence/test_runs_latest.md": "Status: PASS\n\nContracts only.\n",
    "Forge/evidence/audit_ledger.md": "# Audit Ledger\n\nAppend-only.\n",
}

MODULES = {
    1: ("shelf/items.py", "def count(items):\n    return len(items)\n"),
    2: ("shelf/loans.py", "def lend(item, who):\n    return {'item': item, 'who': who}\n"),
    3: ("shelf/report.py", "def report(loans):\n    return [f\"{l['item']}: {l['who']}\" for l in loans]\n"),
}
TESTS = {
    1: (
        "tests/test_items.py",
        "from shelf.items import count\n\n\ndef test_count():\n    assert count([1, 2]) == 2\n",
    ),
    2: (
        "tests/test_loans.py",
        "from shelf.loans import lend\n\n\ndef test_lend():\n    assert lend('a', 'b')['who'] == 'b'\n",
    ),
    3: (
        "tests/test_report.py",
        "from shelf.report import report\n\n\ndef test_report():\n"
        "    assert report([{'item': 'a', 'who': 'b'}]) == ['a: b']\n",
    ),
}


def phase_turns(n: int) -> list[fa.Scripted]:
    """The model's turns for a passing phase `n`: plan, write the module and its test, run them, sign off."""
    module, code = MODULES[n]
    test, test_code = TESTS[n]
    files = [module, test] + (["shelf/__init__.py"] if n == 1 else [])
    writes = [fa.write_file(module, code), fa.write_file(test, test_code)]
    if n == 1:
        writes.append(fa.write_file("shelf/__init__.py", ""))
    return [
        fa.turn(fa.plan_phase(f"write {module}", f"write {test}")),
        fa.turn(*writes, fa.complete_task(1), fa.complete_task(2)),
        fa.turn(fa.sign_off_phase(files, summary=f"Phase {n} done.")),
    ]


def whole_build() -> list[fa.Scripted]:
    return [t for n in (1, 2, 3) for t in phase_turns(n)]


async def _no_sleep(_seconds: float) -> None:
    return None


@dataclass
class BuildBench(AppDriver):
    """A repository `octo-org/shelf` with an intake issue #1 and its approved contracts pull request #2."""

    fake: FakeGitHub
    model: FakeAnthropic
    db: Database
    settings: Settings
    client: TestClient[web.Request, web.Application]
    worker: Worker
    repo: FakeRepo
    issue: int = 1
    contracts_pull: int = 2

    def script(self, turns: list[Any], *, planner: Any = None) -> ScriptedBuilder:
        scripted = ScriptedBuilder(turns, planner=planner)
        self.model.respond_with(scripted)
        return scripted

    async def comment(
        self, number: int, body: str, *, user: str = "octocat", drain: bool = True
    ) -> dict[str, Any]:
        comment = self.fake.add_comment(self.repo, number, body, user=user)
        issue = self.fake.issue(self.repo, number)
        payload = comment_payload(
            "created",
            body=body,
            login=user,
            comment_id=comment["id"],
            issue_number=number,
            pull_request=issue.pull is not None,
            installation_id=self.repo.installation_id,
            owner=self.repo.owner,
            repo=self.repo.name,
            repository_id=self.repo.id,
            labels=tuple(issue.labels),
            title=issue.title,
        )
        await self.deliver("issue_comment", payload)
        if drain:
            await self.drain()
        return comment

    async def drain(self, limit: int = 400) -> None:
        await super().drain(limit)

    def reactions(self, comment: dict[str, Any]) -> list[str]:
        return [r["content"] for r in self.fake.reactions if r["comment_id"] == comment["id"]]

    def app_comments(self, number: int) -> list[str]:
        key = (self.repo.full_name, number)
        return [c["body"] for c in self.fake.comments if c["issue_key"] == key and c["user"]["type"] == "Bot"]

    def build_pull(self) -> int:
        pulls = [
            p for p in self.fake.pulls(self.repo) if p.pull and p.pull["head"].startswith("forge/build-")
        ]
        assert len(pulls) == 1, f"expected one build pull request, found {len(pulls)}"
        return pulls[0].number

    def progress(self) -> str:
        found = [b for b in self.app_comments(self.build_pull()) if "forgeguard:progress:build:" in b]
        assert len(found) == 1, f"expected one progress comment, found {len(found)}"
        return found[0]

    async def build(self) -> builds.BuildRow:
        async with self.db.pool.acquire() as conn:
            row = await builds.latest_for_issue(conn, self.repo.id, self.issue)
        assert row is not None, "no build"
        return row

    def branch_log(self) -> list[str]:
        """Commit messages of the build branch since the contracts, oldest first."""
        out = self.repo.git(
            "log", "--reverse", "--format=%s", f"forge/contracts-{self.issue}..forge/build-{self.issue}"
        )
        return [line for line in out.splitlines() if line]


def contracts_branch(fake: FakeGitHub, repo: FakeRepo) -> int:
    """Intake issue #1 and its contracts branch, as the intake leaves them; the issue's number."""
    issue = fake.add_issue(repo, "Shelf: a lending library", "A catalogue and loans.")
    repo.create_branch(f"forge/contracts-{issue}")
    repo.commit(CONTRACTS, branch=f"forge/contracts-{issue}", message="Forge contracts")
    return issue


async def open_contracts_pull(bench: BuildBench, *, approved: bool = True) -> None:
    """The contracts pull request, opened and (unless told) approved, recorded as the app records it."""
    assert bench.worker.github is not None
    api = await bench.worker.github.installation_api(bench.repo.installation_id)
    created = await api.post(
        "/repos/{owner}/{repo}/pulls",
        {"owner": bench.repo.owner, "repo": bench.repo.name},
        data={
            "title": "Forge contracts: shelf",
            "head": f"forge/contracts-{bench.issue}",
            "base": "main",
            "body": "The contracts.",
        },
    )
    bench.contracts_pull = int(created["number"])
    head = bench.repo.sha(f"forge/contracts-{bench.issue}")
    async with bench.db.pool.acquire() as conn:
        await contracts_store.save_opened(
            conn,
            repository_id=bench.repo.id,
            issue_number=bench.issue,
            installation_id=bench.repo.installation_id,
            owner=bench.repo.owner,
            repo=bench.repo.name,
            pull_number=bench.contracts_pull,
            branch=f"forge/contracts-{bench.issue}",
            base_branch="main",
            project="shelf",
            head_sha=head,
        )
        if approved:
            await contracts_store.decide(
                conn, bench.repo.id, bench.issue, state="approved", by="octocat", sha=head
            )


@pytest.fixture
async def build_bench(
    fake_github: FakeGitHub, fake_anthropic: FakeAnthropic, db: Database, offline_installs: pathlib.Path
) -> AsyncIterator[BuildBench]:
    """The whole app, a repository with approved contracts, `octocat` a writer and `visitor` a reader."""
    settings = fake_github.settings(
        public_url="https://forgeguard.test",
        anthropic_api_key=fake_anthropic.api_key,
        anthropic_base_url=fake_anthropic.base_url,
    )
    fake_github.set_permission("octocat", "write")
    fake_github.set_permission("visitor", "read")
    repo = fake_github.add_repo("octo-org", "shelf", files={"README.md": "# shelf\n"})
    issue = contracts_branch(fake_github, repo)
    async with aiohttp.ClientSession() as session:
        github = GitHubApp(settings, session, retry=RetryPolicy(base_delay=0.001, sleep=_no_sleep))
        llm = LLM(settings, db, max_retries=0)
        client = TestClient(
            TestServer(create_app(AppState(settings=settings, db=db, github=github, llm=llm)))
        )
        await client.start_server()
        try:
            worker = Worker(db, settings, github=github, llm=llm, registry=job_registry())
            bench = BuildBench(fake_github, fake_anthropic, db, settings, client, worker, repo, issue=issue)
            await open_contracts_pull(bench)
            yield bench
        finally:
            await client.close()
            await llm.close()


Setup = Callable[[BuildBench], Any]


PHASE_NAMED = re.compile(r"Phase (\d+) -- ")


def responsive_builder(request: fa.RecordedRequest) -> fa.Scripted:
    """The model of a passing build as a function of the request, not of a turn counter.

    A model turn run again (its worker died before saving it) gets the same answer,
    so the scripted build stays in step whichever worker asks.
    """
    phase = max((int(n) for text in request.user_texts() for n in PHASE_NAMED.findall(text)), default=1)
    last = [m for m in request.body.get("messages", []) if m["role"] == "assistant"]
    tools = [b["name"] for b in last[-1]["content"] if b.get("type") == "tool_use"] if last else []
    turns = phase_turns(phase)
    if not tools or tools[0] == "sign_off_phase":
        return turns[0]
    if tools[0] == "plan_phase":
        return turns[1]
    return turns[2]
