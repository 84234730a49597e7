"""The pages a signed-in person sees: dashboard, repository timeline, audit report, build."""

from __future__ import annotations

import re

import pytest

from checks.model import Finding
from forgeguard_app.db import Database
from forgeguard_app.web.store import audits
from tests.fixtures.github import FakeGitHub
from tests.web.builds import Builds, build_view
from tests.web.conftest import Site, add_audit, running_site


def test_the_health_badge_is_green_yellow_for_warnings_only_and_red_for_failures() -> None:
    assert audits.badge("success", "All checks passed") == "green"
    assert audits.badge("success", "All checks passed · 2 warnings") == "yellow"
    assert audits.badge("failure", "1 of 12 checks failed: A1") == "red"
    assert audits.badge("neutral", "No checks apply") == "grey"
    assert audits.badge(None, None) == "none"


def test_an_audit_that_ended_in_an_error_is_failed_not_queued() -> None:
    assert audits.audit_state("queued", None, "attempt 5: GitHub could not be reached") == "failed"
    assert audits.audit_state("in_progress", None, None) == "in progress"
    assert audits.audit_state("completed", "neutral", "GitHub could not be reached") == "neutral"


async def test_the_dashboard_shows_each_repositorys_badge_from_its_default_branch(site: Site) -> None:
    green = site.github.add_repo("octo-org", "green-repo")
    red = site.github.add_repo("octo-org", "red-repo")
    site.github.users.add_person("mona", green, red)
    await add_audit(site.db, "octo-org", "green-repo", conclusion="success")
    await add_audit(site.db, "octo-org", "green-repo", branch=None, pull_number=4, conclusion="failure")
    await add_audit(site.db, "octo-org", "red-repo", conclusion="failure")
    browser = await site.sign_in("mona")
    page = await browser.text("/")
    badges = dict(
        (name, badge)
        for badge, name in re.findall(
            r'badge-(\w+)">[^<]*</span></td>\s*<td><a href="/repos/[^"]+">([^<]+)</a>', page
        )
    )
    assert badges == {"octo-org/green-repo": "green", "octo-org/red-repo": "red"}


async def test_the_dashboard_says_what_to_do_when_nothing_is_installed(site: Site) -> None:
    site.github.users.add_person("newcomer")
    browser = await site.sign_in("newcomer")
    page = await browser.text("/")
    assert "Install the app" in page
    assert f"/apps/{site.settings.app_slug}/installations/new" in page


async def test_the_dashboard_without_audits_says_to_push_and_how_to_start_an_intake(site: Site) -> None:
    repo = site.github.add_repo("octo-org", "fresh")
    site.github.users.add_person("mona", repo)
    browser = await site.sign_in("mona")
    page = await browser.text("/")
    assert "Push a commit" in page
    assert "/forge intake" in page


async def test_the_repository_timeline_pages_newest_first(site: Site) -> None:
    repo = site.github.add_repo("octo-org", "busy")
    site.github.users.add_person("mona", repo)
    ids = [
        await add_audit(site.db, "octo-org", "busy", conclusion="success")
        for _ in range(audits.PAGE_SIZE + 3)
    ]
    browser = await site.sign_in("mona")
    first = await browser.text("/repos/octo-org/busy")
    shown = [int(n) for n in re.findall(r'class="audit" data-id="(\d+)"', first)]
    assert shown == sorted(ids, reverse=True)[: audits.PAGE_SIZE]
    older = re.search(r'id="older" href="\?before=(\d+)"', first)
    assert older is not None
    second = await browser.text(f"/repos/octo-org/busy?before={older.group(1)}")
    assert [int(n) for n in re.findall(r'class="audit" data-id="(\d+)"', second)] == sorted(
        ids, reverse=True
    )[audits.PAGE_SIZE :]


@pytest.mark.parametrize("before", ["\u00b2", "-5", "99999999999999999999", "abc"])
async def test_a_timeline_cursor_that_is_no_id_shows_the_first_page(site: Site, before: str) -> None:
    repo = site.github.add_repo("octo-org", "busy")
    site.github.users.add_person("mona", repo)
    newest = await add_audit(site.db, "octo-org", "busy", conclusion="success")
    browser = await site.sign_in("mona")
    response = await browser.get("/repos/octo-org/busy", params={"before": before})
    assert response.status == 200
    assert f'data-id="{newest}"' in await response.text()


async def test_the_audit_report_shows_details_and_findings_linked_to_their_lines(site: Site) -> None:
    repo = site.github.add_repo("octo-org", "visible")
    site.github.users.add_person("mona", repo)
    finding = Finding("src/app.py", "changed but not claimed", start_line=10, end_line=12)
    audit_id = await add_audit(site.db, "octo-org", "visible", findings={"A1": [finding]}, head_sha="e" * 40)
    browser = await site.sign_in("mona")
    page = await browser.text(f"/audits/{audit_id}")
    assert "changed but not claimed" in page
    assert f'href="{site.github.url}/octo-org/visible/blob/{"e" * 40}/src/app.py#L10-L12"' in page
    assert page.count('<section class="check"') == 12


async def test_the_audit_page_shows_why_an_audit_failed(site: Site) -> None:
    repo = site.github.add_repo("octo-org", "visible")
    site.github.users.add_person("mona", repo)
    audit_id = await add_audit(site.db, "octo-org", "visible", conclusion=None)
    await site.db.pool.execute(
        "UPDATE audit_runs SET error = 'attempt 5: GitHub could not be reached' WHERE id = $1", audit_id
    )
    browser = await site.sign_in("mona")
    page = await browser.text(f"/audits/{audit_id}")
    assert 'id="state">failed<' in page
    assert "GitHub could not be reached" in page


async def test_the_build_page_shows_phases_attempts_plan_tool_log_interjections_and_costs(
    fake_github: FakeGitHub, db: Database
) -> None:
    repo = fake_github.add_repo("octo-org", "visible")
    fake_github.users.add_person("mona", repo)
    async with running_site(fake_github, db, builds=Builds(build_view(5))) as site:
        browser = await site.sign_in("mona")
        page = await browser.text("/builds/5")
        home = await browser.text("/")
    assert 'data-phase="0">0 Genesis: passed' in page
    assert 'data-phase="1">1 Authentication: active' in page
    assert 'href="https://github.example/octo-org/visible/commit/' + "d" * 40 + '"' in page
    assert 'href="https://github.example/octo-org/visible/runs/72"' in page
    assert "<li>Write the login route</li>" in page
    assert "5400 ms" in page and "3 failed, 10 passed" in page
    assert "use argon2 for the passwords" in page
    assert "$0.6125" in page and "$0.4125" in page
    assert 'data-events="/builds/5/events"' in page
    assert 'href="/builds/5"' in home


async def test_a_build_of_a_repository_you_cannot_see_is_not_found(
    fake_github: FakeGitHub, db: Database
) -> None:
    mine = fake_github.add_repo("octo-org", "visible")
    fake_github.add_repo("other-org", "private-repo", installation_id=8)
    fake_github.users.add_person("mona", mine)
    theirs = build_view(6, owner="other-org", repo="private-repo", installation_id=8)
    async with running_site(fake_github, db, builds=Builds(theirs)) as site:
        browser = await site.sign_in("mona")
        page = await browser.get("/builds/6")
        stream = await browser.get("/builds/6/events")
        home = await browser.text("/")
    assert page.status == stream.status == 404
    assert "private-repo" not in await page.text() and "private-repo" not in home


async def test_a_live_request_gets_only_the_pages_live_part(site: Site) -> None:
    repo = site.github.add_repo("octo-org", "visible")
    site.github.users.add_person("mona", repo)
    await add_audit(site.db, "octo-org", "visible", conclusion="success")
    browser = await site.sign_in("mona")
    part = await (await browser.get("/repos/octo-org/visible", headers={"X-Live": "1"})).text()
    assert "<h2>Audits</h2>" in part
    assert "<html" not in part and "<header>" not in part
