"""Fixtures for the command tests: a GitHub client on the fake GitHub and a repository with an issue."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from forgeguard_app.github.client import GitHubApp, InstallationAPI, RetryPolicy
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
