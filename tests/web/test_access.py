"""Nothing private for people GitHub does not list: guessed ids, other installations, access removed."""

from __future__ import annotations

from checks.model import Finding
from forgeguard_app.db import Database
from forgeguard_app.web import access
from forgeguard_app.web.store import access as access_store
from tests.fixtures.github import FakeGitHub
from tests.web.conftest import Site, add_audit, running_site

SECRET = [Finding("private/plans.py", "the secret finding text", start_line=3)]


async def stale(db: Database) -> None:
    """Everyone's copy of their access is older than the cache lifetime."""
    await db.pool.execute("UPDATE web_access_refreshed SET refreshed_at = now() - interval '1 hour'")


async def test_a_guessed_audit_id_of_a_repository_you_cannot_see_shows_the_minimal_view(
    site: Site,
) -> None:
    theirs = site.github.add_repo("other-org", "private-repo", installation_id=8)
    mine = site.github.add_repo("octo-org", "visible", installation_id=7)
    site.github.users.add_person("mona", mine)
    audit_id = await add_audit(site.db, theirs.owner, theirs.name, installation_id=8, findings={"A1": SECRET})
    browser = await site.sign_in("mona")
    answer = await browser.get(f"/audits/{audit_id}")
    page = await answer.text()
    assert answer.status == 200
    assert "1 of 12 checks failed: A1" in page
    assert "private-repo" not in page and "other-org" not in page
    assert "the secret finding text" not in page and "private/plans.py" not in page


async def test_the_same_repository_name_through_another_installation_is_not_yours(site: Site) -> None:
    mine = site.github.add_repo("octo-org", "visible", installation_id=7)
    site.github.users.add_person("mona", mine)
    # an audit recorded for another installation that once had a repository of that name
    audit_id = await add_audit(site.db, "octo-org", "visible", installation_id=99, findings={"A1": SECRET})
    browser = await site.sign_in("mona")
    assert "the secret finding text" not in await browser.text(f"/audits/{audit_id}")
    assert f'data-id="{audit_id}"' not in await browser.text("/repos/octo-org/visible")


async def test_another_installations_repository_page_answers_like_one_that_does_not_exist(site: Site) -> None:
    site.github.add_repo("other-org", "private-repo", installation_id=8)
    mine = site.github.add_repo("octo-org", "visible", installation_id=7)
    site.github.users.add_person("mona", mine)
    browser = await site.sign_in("mona")
    theirs = await browser.get("/repos/other-org/private-repo")
    missing = await browser.get("/repos/nobody/nothing")
    assert theirs.status == missing.status == 404
    assert (await theirs.text()).replace("other-org/private-repo", "") == (await missing.text()).replace(
        "nobody/nothing", ""
    )


async def test_signed_out_visitors_are_sent_to_sign_in_from_a_repository_page(site: Site) -> None:
    site.github.add_repo("octo-org", "visible")
    answer = await site.browser().get("/repos/octo-org/visible", allow_redirects=False)
    assert answer.status == 302
    assert answer.headers["Location"].startswith("/signin?next=")


async def test_access_removed_on_github_hides_the_repository_once_the_cache_expires(site: Site) -> None:
    repo = site.github.add_repo("octo-org", "visible", installation_id=7)
    site.github.users.add_person("mona", repo)
    audit_id = await add_audit(site.db, "octo-org", "visible", installation_id=7, findings={"A1": SECRET})
    browser = await site.sign_in("mona")
    assert "the secret finding text" in await browser.text(f"/audits/{audit_id}")
    site.github.users.revoke("mona", repo)
    await stale(site.db)
    assert (await browser.get("/repos/octo-org/visible")).status == 404
    assert "the secret finding text" not in await browser.text(f"/audits/{audit_id}")
    assert "octo-org/visible" not in await browser.text("/")


async def test_access_is_read_again_at_sign_in_even_within_the_cache_lifetime(site: Site) -> None:
    repo = site.github.add_repo("octo-org", "visible", installation_id=7)
    site.github.users.add_person("mona", repo)
    await site.sign_in("mona")
    site.github.users.revoke("mona", repo)
    browser = await site.sign_in("mona")
    assert (await browser.get("/repos/octo-org/visible")).status == 404


async def test_when_github_cannot_be_asked_and_the_copy_is_stale_nothing_private_is_shown(site: Site) -> None:
    repo = site.github.add_repo("octo-org", "visible", installation_id=7)
    site.github.users.add_person("mona", repo)
    audit_id = await add_audit(site.db, "octo-org", "visible", installation_id=7, findings={"A1": SECRET})
    browser = await site.sign_in("mona")
    await stale(site.db)
    site.github.fault("GET", r"^/user/installations", 502, times=10)
    home = await browser.text("/")
    assert "cannot be reached" in home and "octo-org/visible" not in home
    assert "the secret finding text" not in await browser.text(f"/audits/{audit_id}")
    assert (await browser.get("/repos/octo-org/visible")).status == 404


async def test_the_access_rule_needs_the_repository_and_its_installation(db: Database) -> None:
    from forgeguard_app.web.oauth import Installation, Repository

    repo = Repository(7, 1, "Octo-Org", "Visible", "main", True)
    async with db.pool.acquire() as conn, conn.transaction():
        await access_store.save(conn, 42, "mona", [Installation(7, "Octo-Org", (repo,))])
    assert await access.may_see(db.pool, 42, 7, "octo-org", "visible")
    assert not await access.may_see(db.pool, 42, 8, "octo-org", "visible")
    assert not await access.may_see(db.pool, 42, 7, "octo-org", "other")
    assert not await access.may_see(db.pool, 43, 7, "octo-org", "visible")


async def test_a_repository_event_stream_is_refused_to_people_who_cannot_see_it(
    site: Site,
) -> None:
    site.github.add_repo("other-org", "private-repo", installation_id=8)
    mine = site.github.add_repo("octo-org", "visible", installation_id=7)
    site.github.users.add_person("mona", mine)
    browser = await site.sign_in("mona")
    assert (await browser.get("/repos/other-org/private-repo/events")).status == 404
    assert (await site.browser().get("/repos/octo-org/visible/events")).status == 401


async def test_build_pages_are_not_found_while_the_builder_is_not_wired(
    fake_github: FakeGitHub, db: Database
) -> None:
    repo = fake_github.add_repo("octo-org", "visible")
    fake_github.users.add_person("mona", repo)
    async with running_site(fake_github, db) as site:
        browser = await site.sign_in("mona")
        answer = await browser.get("/builds/1")
    assert answer.status == 404


async def test_an_audit_id_beyond_64_bits_is_not_found_rather_than_an_error(site: Site) -> None:
    answer = await site.browser().get("/audits/9223372036854775808")
    assert answer.status == 404
