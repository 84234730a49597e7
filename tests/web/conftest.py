"""The status site on a real port against the fake GitHub, with people who sign in and audits to show."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer, unused_port

from checks.model import Finding
from forgeguard_app.checkruns import store
from forgeguard_app.checkruns.decide import AuditRequest
from forgeguard_app.db import Database
from forgeguard_app.server import create_app
from forgeguard_app.settings import Settings
from forgeguard_app.web import live
from forgeguard_app.web.builds import BuildSource
from forgeguard_app.web.state import AppState
from tests.checkruns.reports import make_report
from tests.fixtures.github import FakeGitHub


class Browser:
    """A browser: its own cookies, requests by path to the site (absolute URLs elsewhere)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    def _url(self, path: str) -> str:
        return path if path.startswith("http") else self.base + path

    async def get(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        response = await self.session.get(self._url(path), **kwargs)
        await response.read()
        return response

    async def post(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        response = await self.session.post(self._url(path), **kwargs)
        await response.read()
        return response

    async def text(self, path: str) -> str:
        return await (await self.get(path)).text()

    def cookie(self, name: str) -> str:
        return next(cookie.value for cookie in self.session.cookie_jar if cookie.key == name)

    async def close(self) -> None:
        await self.session.close()


@dataclass
class Site:
    """The app's web side on http://127.0.0.1:<port>, and the fake GitHub behind it."""

    url: str
    settings: Settings
    db: Database
    github: FakeGitHub
    state: AppState
    app: web.Application
    browsers: list[Browser]

    @property
    def hub(self) -> live.Hub:
        return self.app[live.HUB]

    def browser(self) -> Browser:
        found = Browser(self.url)
        self.browsers.append(found)
        return found

    async def sign_in(self, login: str, browser: Browser | None = None) -> Browser:
        """The OAuth round trip as a browser makes it; the browser, now signed in."""
        browser = browser or self.browser()
        self.github.users.browser_login = login
        start = await browser.get("/signin", allow_redirects=False)
        assert start.status == 302, await start.text()
        at_github = await browser.get(start.headers["Location"], allow_redirects=False)
        assert at_github.status == 302
        back = at_github.headers["Location"]
        assert back.startswith(self.url + "/signin/callback?"), back
        done = await browser.get(back, allow_redirects=False)
        assert done.status == 302, await done.text()
        return browser


def site_settings(github: FakeGitHub, port: int, **overrides: Any) -> Settings:
    values = {"client_secret": github.users.client_secret, "public_url": f"http://127.0.0.1:{port}"}
    return github.settings(**{**values, **overrides})


@pytest.fixture
async def site(fake_github: FakeGitHub, db: Database) -> AsyncIterator[Site]:
    async with running_site(fake_github, db) as found:
        yield found


class running_site:
    """`async with running_site(github, db, builds=...) as site`: the app on a free port."""

    def __init__(self, github: FakeGitHub, db: Database, builds: BuildSource | None = None, **settings: Any):
        self.github = github
        self.db = db
        self.builds = builds
        self.overrides = settings
        self.server: TestServer | None = None
        self.site: Site | None = None

    async def __aenter__(self) -> Site:
        port = unused_port()
        settings = site_settings(self.github, port, **self.overrides)
        state = AppState(settings=settings, db=self.db, builds=self.builds)
        app = create_app(state)
        self.server = TestServer(app, host="127.0.0.1", port=port)
        await self.server.start_server()
        self.site = Site(f"http://127.0.0.1:{port}", settings, self.db, self.github, state, app, [])
        return self.site

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None and self.site is not None
        for browser in self.site.browsers:
            await browser.close()
        await self.server.close()


async def add_audit(
    db: Database,
    repo_owner: str,
    repo_name: str,
    *,
    installation_id: int = 1,
    branch: str | None = "main",
    pull_number: int | None = None,
    conclusion: str | None = "failure",
    findings: dict[str, list[Finding]] | None = None,
    details: dict[str, str] | None = None,
    head_sha: str | None = None,
) -> int:
    """An audit of `repo_owner/repo_name` as the audit job leaves it (completed unless conclusion is None)."""
    request = AuditRequest(
        installation_id,
        repo_owner,
        repo_name,
        head_sha or secrets.token_hex(20),
        "a" * 40,
        pull_number,
        "push",
        branch,
        "main",
    )
    audit_id = await store.create_audit(db.pool, request)
    assert audit_id is not None
    if conclusion is None:
        return audit_id
    outcomes: dict[str, Any] = {code: "fail" for code in (findings or {})}
    report = make_report(outcomes, findings, details=details)
    await store.save_report(db.pool, audit_id, report, report_mode="summary")
    title = "All checks passed" if conclusion == "success" else "1 of 12 checks failed: A1"
    await store.finish_audit(db.pool, audit_id, conclusion=conclusion, title=title, api_calls=6)
    return audit_id
