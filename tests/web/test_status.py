"""The status page tells the truth (issue 10, item 14): setup mode, failed jobs, GitHub, failed audits."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import unused_port

from forgeguard_app.db import Database
from forgeguard_app.github.client import GitHubApp
from forgeguard_app.web.store import health
from tests.fixtures.github import FakeGitHub
from tests.web.conftest import Site, add_audit, running_site


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def health_of(page: str) -> str:
    found = re.search(r'<p id="health">.*?<span class="(?:ok|bad)">([^<]+)</span>', page, re.S)
    assert found, "no health line"
    return found.group(1)


async def failed_job(db: Database, kind: str, error: str) -> None:
    await db.pool.execute(
        """INSERT INTO jobs (kind, payload, status, attempts, last_error, finished_at)
           VALUES ($1, '{}', 'failed', 5, $2, now())""",
        kind,
        error,
    )


async def test_the_page_is_healthy_when_github_accepts_the_app_and_no_job_failed(
    site: Site, http: aiohttp.ClientSession
) -> None:
    site.state.github = GitHubApp(site.settings, http)
    page = await site.browser().text("/")
    assert health_of(page) == "healthy"
    assert site.github.calls("apps/get-authenticated") + site.github.calls("GET /app") == 1


async def test_setup_mode_is_not_healthy(fake_github: FakeGitHub, db: Database) -> None:
    async with running_site(fake_github, db, app_id=None, client_id=None, private_key=None) as site:
        page = await site.browser().text("/")
    assert health_of(page) == "not ready"
    assert "GITHUB_APP_ID" in page and "GITHUB_PRIVATE_KEY" in page


async def test_github_unreachable_is_not_healthy(
    fake_github: FakeGitHub, db: Database, http: aiohttp.ClientSession
) -> None:
    async with running_site(fake_github, db, api_url=f"http://127.0.0.1:{unused_port()}") as site:
        site.state.github = GitHubApp(site.settings, http)
        page = await site.browser().text("/")
    assert health_of(page) == "not working"
    assert "GitHub cannot be reached" in page


async def test_github_refusing_the_apps_credentials_is_not_healthy(
    site: Site, http: aiohttp.ClientSession
) -> None:
    site.state.github = GitHubApp(site.settings, http)
    site.github.fault("GET", r"^/app$", 401)
    page = await site.browser().text("/")
    assert health_of(page) == "not working"
    assert "GitHub refuses the app&#39;s credentials" in page


async def test_failed_jobs_make_the_page_degraded_and_show_the_last_error_without_its_message(
    site: Site,
) -> None:
    await failed_job(
        site.db, "checkruns.audit", "ClientConnectorError: Cannot connect to host secret-org.internal"
    )
    page = await site.browser().text("/")
    assert health_of(page) == "degraded"
    assert "1 job failed in the last day" in page
    last = re.search(r'<p id="last-error">(.*?)</p>', page, re.S)
    assert last is not None
    assert "checkruns.audit" in last.group(1) and "ClientConnectorError" in last.group(1)
    assert "secret-org" not in page


async def test_audits_that_failed_are_counted_failed_not_in_progress(site: Site) -> None:
    stuck = await add_audit(site.db, "octo-org", "visible", conclusion=None)
    await site.db.pool.execute(
        "UPDATE audit_runs SET error = 'attempt 5: GitHub could not be reached' WHERE id = $1", stuck
    )
    await add_audit(site.db, "octo-org", "visible", conclusion=None)
    page = await site.browser().text("/")
    audits = page.split('<table id="audits">', 1)[1].split("</table>", 1)[0]
    rows = dict(re.findall(r"<tr><td>([^<]+)</td><td class=\"n\">(\d+)</td></tr>", audits))
    assert (rows["failed"], rows["in progress"]) == ("1", "1")
    assert "1 audit could not finish" in page
    assert health_of(page) == "degraded"


def test_the_error_type_is_read_from_the_recorded_error_and_nothing_else() -> None:
    assert health.error_type("TimeoutError: ") == "TimeoutError"
    assert health.error_type("GitHub answered 502 for secret-org/x") == "error"
