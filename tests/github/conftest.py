"""Shared helpers for the GitHub client tests: a session, an app wired to the fake GitHub, recorded sleeps."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from forgeguard_app.github.client import GitHubApp, RetryPolicy
from tests.fixtures.github import FakeGitHub


class Sleeps(list[float]):
    """Records the delays the client asked for instead of sleeping them."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def app(fake_github: FakeGitHub, session: aiohttp.ClientSession, sleeps: Sleeps) -> GitHubApp:
    """The app as production builds it, against the fake GitHub, with recorded (not slept) backoff."""
    return GitHubApp(fake_github.settings(), session, retry=RetryPolicy(base_delay=0.01, sleep=sleeps))
