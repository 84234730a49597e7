"""Fixtures for the command tests: a GitHub client on the fake GitHub and a repository with an issue."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from forgeguard_app.db import Database
from forgeguard_app.github.client import GitHubApp, InstallationAPI, RetryPolicy
from forgeguard_app.jobs import Worker
from forgeguard_app.llm.client import LLM
from forgeguard_app.server import create_app
from forgeguard_app.web.state import AppState
from forgeguard_app.wiring import job_registry
from tests.commands.harness import Bench, cooperative_model
from tests.fixtures.anthropic import FakeAnthropic
from tests.fixtures.github import FakeGitHub, FakeRepo


async def _no_sleep(_seconds: float) -> None:
    return None


@pytest.fixture
async def github_app(fake_github: FakeGitHub) -> AsyncIterator[GitHubApp]:
    """The app's GitHub client pointed at the fake, retrying without waiting."""
    async with aiohttp.ClientSession() as session:
        yield GitHubApp(fake_github.settings(), session, retry=RetryPolicy(base_delay=0.001, sleep=_no_sleep))


@pytest.fixture
def repo(fake_github: FakeGitHub) -> FakeRepo:
    """`octo-org/hello` on installation 1, with a README on main."""
    return fake_github.add_repo("octo-org", "hello", files={"README.md": "# hello\n"})


@pytest.fixture
async def api(github_app: GitHubApp, repo: FakeRepo) -> InstallationAPI:
    return await github_app.installation_api(repo.installation_id)


@pytest.fixture
async def bench(fake_github: FakeGitHub, fake_anthropic: FakeAnthropic, db: Database) -> AsyncIterator[Bench]:
    """The whole app on the fake GitHub and the fake model; `octocat` may write, `visitor` may only read."""
    settings = fake_github.settings(
        public_url="https://forgeguard.test",
        anthropic_api_key=fake_anthropic.api_key,
        anthropic_base_url=fake_anthropic.base_url,
    )
    fake_github.set_permission("octocat", "write")
    fake_github.set_permission("visitor", "read")
    fake_anthropic.respond_with(cooperative_model)
    repo = fake_github.add_repo("octo-org", "shelf", files={"README.md": "# shelf\n"})
    async with aiohttp.ClientSession() as session:
        github = GitHubApp(settings, session, retry=RetryPolicy(base_delay=0.001, sleep=_no_sleep))
        llm = LLM(settings, db, max_retries=0)
        client = TestClient(
            TestServer(create_app(AppState(settings=settings, db=db, github=github, llm=llm)))
        )
        await client.start_server()
        try:
            worker = Worker(db, settings, github=github, llm=llm, registry=job_registry())
            yield Bench(fake_github, fake_anthropic, db, settings, client, worker, repo)
        finally:
            await client.close()
            await llm.close()
