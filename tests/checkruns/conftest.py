"""The app as a black box for the check-run tests: signed corpus deliveries in, check runs out.

`harness` runs the real aiohttp app (webhooks), the real job handlers and the
real GitHub client against the fake GitHub; `drain()` runs every queued job
(retries included, without their backoff) until nothing is left.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from forgeguard_app.db import Database
from forgeguard_app.github.client import GitHubApp, RetryPolicy
from forgeguard_app.jobs import Worker
from forgeguard_app.server import create_app
from forgeguard_app.settings import Settings
from forgeguard_app.web.state import AppState
from forgeguard_app.wiring import job_registry
from tests.fixtures.appdriver import AppDriver
from tests.fixtures.github import FakeGitHub, FakeRepo
from tests.fixtures.webhooks import corpus_payload, point_at

ZERO = "0" * 40


def push_payload(repo: FakeRepo, before: str, after: str, ref: str | None = None) -> dict[str, Any]:
    payload = point_at(corpus_payload("push/with-new-branch.payload.json"), repo)
    payload.update(
        ref=ref or f"refs/heads/{repo.default_branch}",
        before=before,
        after=after,
        created=before == ZERO,
        deleted=after == ZERO,
    )
    return payload


def pull_request_payload(
    repo: FakeRepo, number: int, base: str, head: str, action: str = "opened", head_repo: str | None = None
) -> dict[str, Any]:
    payload = point_at(corpus_payload("pull_request/opened.payload.json"), repo)
    payload["action"] = action
    payload["number"] = number
    pr = payload["pull_request"]
    pr["number"] = number
    pr["base"]["sha"] = base
    pr["base"]["ref"] = repo.default_branch
    pr["head"]["sha"] = head
    pr["head"]["repo"]["full_name"] = head_repo or repo.full_name
    return payload


@dataclass
class Harness(AppDriver):
    fake: FakeGitHub
    db: Database
    settings: Settings
    github: GitHubApp
    client: TestClient[web.Request, web.Application]
    worker: Worker
    sleeps: list[float] = field(default_factory=list)

    def runs(self, head_sha: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.fake.check_runs if head_sha is None or r["head_sha"] == head_sha]

    def run(self, head_sha: str, name: str = "ForgeGuard") -> dict[str, Any]:
        found = [r for r in self.runs(head_sha) if r.get("name") == name]
        assert len(found) == 1, f"expected one {name!r} run on {head_sha[:7]}, found {len(found)}"
        return found[0]


@pytest.fixture
async def harness(fake_github: FakeGitHub, db: Database) -> AsyncIterator[Harness]:
    settings = fake_github.settings(public_url="https://forgeguard.test")
    sleeps: list[float] = []

    async def record_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with aiohttp.ClientSession() as session:
        github = GitHubApp(settings, session, retry=RetryPolicy(base_delay=0.001, sleep=record_sleep))
        state = AppState(settings=settings, db=db, github=github)
        client = TestClient(TestServer(create_app(state)))
        await client.start_server()
        try:
            worker = Worker(db, settings, github=github, registry=job_registry())
            yield Harness(fake_github, db, settings, github, client, worker, sleeps)
        finally:
            await client.close()
