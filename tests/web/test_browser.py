"""The status site in a real browser: Debian's Chromium driven by Playwright (no browser download).

Sign in against the fake GitHub, see your repositories and not the others, open
an audit with findings, watch the timeline and a build page change when an event
is notified, sign out. The page's own script runs under the site's CSP.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright, expect

from checks.model import Finding
from forgeguard_app.db import Database
from forgeguard_app.web import live
from forgeguard_app.web.builds import PhaseView
from tests.fixtures.github import FakeGitHub
from tests.web.builds import Builds, build_view
from tests.web.conftest import Site, add_audit, running_site

CHROMIUM = os.environ.get("FORGEGUARD_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    assert os.path.exists(CHROMIUM), f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)"
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        await browser.close()


def watch_console(page: Page) -> list[str]:
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status == 404 else None)
    return problems


async def test_sign_in_see_your_repositories_open_an_audit_watch_it_live_and_sign_out(
    fake_github: FakeGitHub, db: Database, chromium: Browser
) -> None:
    mine = fake_github.add_repo("octo-org", "visible", installation_id=7)
    fake_github.add_repo("octo-org", "hidden-repo", installation_id=7)
    fake_github.add_repo("other-org", "theirs", installation_id=8)
    fake_github.users.add_person("mona", mine)
    fake_github.users.browser_login = "mona"
    finding = Finding("src/app.py", "changed but not claimed <b>here</b>", start_line=4)
    audit_id = await add_audit(db, "octo-org", "visible", installation_id=7, findings={"A1": [finding]})
    builds = Builds(build_view(5, installation_id=7))
    async with running_site(fake_github, db, builds=builds) as site:
        page = await chromium.new_page()
        problems = watch_console(page)

        await page.goto(site.url + "/")
        await page.click("#signin")
        await expect(page.locator("#login")).to_have_text("mona")
        await expect(page.locator("#repositories")).to_contain_text("octo-org/visible")
        assert "hidden-repo" not in await page.content() and "other-org" not in await page.content()

        await page.click("text=octo-org/visible")
        await page.click(f'tr[data-id="{audit_id}"] a')
        await expect(page.locator(".finding .message")).to_have_text("changed but not claimed <b>here</b>")

        await page.goto(site.url + "/repos/octo-org/visible")
        await expect(page.locator("main#live")).to_have_attribute("data-live", "open")
        await site.hub.listening.wait()
        new_id = await add_audit(db, "octo-org", "visible", installation_id=7, conclusion=None)
        await expect(page.locator(f'tr.audit[data-id="{new_id}"]')).to_contain_text("queued")

        await page.goto(site.url + "/builds/5")
        await expect(page.locator("main#live")).to_have_attribute("data-live", "open")
        await expect(page.locator('[data-phase="1"]')).to_contain_text("active")
        view = builds.views[5]
        phases = [replace(p, status="passed") if p.number == 1 else p for p in view.phases]
        builds.views[5] = replace(view, phases=[*phases[:2], PhaseView(2, "Repo Management", "active")])
        async with db.pool.acquire() as conn, conn.transaction():
            await live.publish(conn, live.Event("build", 5, 7, "octo-org", "visible"))
        await expect(page.locator('[data-phase="1"]')).to_contain_text("passed")
        await expect(page.locator('[data-phase="2"]')).to_contain_text("active")

        await page.click("#signout")
        await expect(page.locator("#signin")).to_be_visible()
        assert await page.locator("#login").count() == 0
        assert await db.pool.fetchval("SELECT count(*) FROM web_sessions") == 0
        assert problems == [], problems


async def test_a_finding_holding_script_does_not_run_in_the_browser(site: Site, chromium: Browser) -> None:
    repo = site.github.add_repo("octo-org", "visible")
    site.github.users.add_person("mona", repo)
    site.github.users.browser_login = "mona"
    hostile = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
    audit_id = await add_audit(site.db, "octo-org", "visible", findings={"A1": [Finding("a.py", hostile)]})
    page = await chromium.new_page()
    await page.goto(site.url + "/signin")
    await page.goto(f"{site.url}/audits/{audit_id}")
    await expect(page.locator(".finding .message")).to_have_text(hostile)
    assert await page.evaluate("window.pwned === undefined")
