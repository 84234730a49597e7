"""Signing in with GitHub: the OAuth round trip, the session cookie, CSRF on sign-out, the token at rest."""

from __future__ import annotations

import re

import pytest

from forgeguard_app.db import Database
from forgeguard_app.web import sessions
from tests.fixtures.github import FakeGitHub
from tests.web.conftest import Site, running_site


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no sign-out form on the page"
    return found.group(1)


async def test_signing_in_lists_the_repositories_github_says_you_can_see_and_no_others(site: Site) -> None:
    mine = site.github.add_repo("octo-org", "visible", installation_id=7)
    site.github.add_repo("octo-org", "hidden-repo", installation_id=7)
    site.github.add_repo("someone-else", "theirs", installation_id=8)
    site.github.users.add_person("mona", mine)
    browser = await site.sign_in("mona")
    page = await browser.text("/")
    assert 'id="login">mona<' in page
    assert "octo-org/visible" in page
    assert "hidden-repo" not in page and "someone-else" not in page


async def test_sign_in_returns_to_the_page_that_asked_for_it(site: Site) -> None:
    repo = site.github.add_repo("octo-org", "visible")
    site.github.users.add_person("mona", repo)
    browser = site.browser()
    asked = await browser.get("/repos/octo-org/visible", allow_redirects=False)
    assert asked.status == 302
    start = await browser.get(asked.headers["Location"], allow_redirects=False)
    site.github.users.browser_login = "mona"
    at_github = await browser.get(start.headers["Location"], allow_redirects=False)
    done = await browser.get(at_github.headers["Location"], allow_redirects=False)
    assert done.headers["Location"] == "/repos/octo-org/visible"


async def test_the_session_cookie_is_httponly_and_samesite_lax_and_not_secure_over_http(site: Site) -> None:
    site.github.users.add_person("mona")
    site.github.users.browser_login = "mona"
    browser = site.browser()
    start = await browser.get("/signin", allow_redirects=False)
    at_github = await browser.get(start.headers["Location"], allow_redirects=False)
    done = await browser.get(at_github.headers["Location"], allow_redirects=False)
    cookie = next(v for v in done.headers.getall("Set-Cookie") if v.startswith(sessions.COOKIE + "="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_the_session_cookie_is_secure_when_the_public_url_is_https(fake_github: FakeGitHub) -> None:
    settings = fake_github.settings(public_url="https://forgeguard.example.com")
    assert sessions.cookie_flags(settings)["secure"] is True


async def test_the_user_token_is_stored_encrypted_and_the_cookie_value_only_as_a_hash(site: Site) -> None:
    site.github.users.add_person("mona")
    browser = await site.sign_in("mona")
    token = next(iter(site.github.users.tokens))
    row = await site.db.pool.fetchrow("SELECT id_hash, token FROM web_sessions")
    assert token.encode() not in bytes(row["token"])
    cookie = browser.cookie(sessions.COOKIE)
    assert bytes(row["id_hash"]) == sessions.digest(cookie)
    assert sessions.cipher(site.settings).decrypt(bytes(row["token"])).decode() == token


async def test_a_callback_whose_state_was_not_issued_to_this_browser_is_refused(site: Site) -> None:
    site.github.users.add_person("mona")
    site.github.users.browser_login = "mona"
    victim, attacker = site.browser(), site.browser()
    start = await attacker.get("/signin", allow_redirects=False)
    at_github = await attacker.get(start.headers["Location"], allow_redirects=False)
    # The attacker's own callback link, opened in the victim's browser (login CSRF).
    forced = await victim.get(at_github.headers["Location"], allow_redirects=False)
    assert forced.status == 400
    assert await site.db.pool.fetchval("SELECT count(*) FROM web_sessions") == 0


async def test_a_sign_in_state_works_once(site: Site) -> None:
    site.github.users.add_person("mona")
    site.github.users.browser_login = "mona"
    browser = site.browser()
    start = await browser.get("/signin", allow_redirects=False)
    at_github = await browser.get(start.headers["Location"], allow_redirects=False)
    callback = at_github.headers["Location"]
    first = await browser.get(callback, allow_redirects=False)
    second = await browser.get(callback, allow_redirects=False)
    assert (first.status, second.status) == (302, 400)


async def test_sign_out_without_the_csrf_token_is_refused_and_keeps_the_session(site: Site) -> None:
    site.github.users.add_person("mona")
    browser = await site.sign_in("mona")
    refused = await browser.post("/signout", data={"csrf": "not-the-token"}, allow_redirects=False)
    assert refused.status == 403
    assert 'id="login">mona<' in await browser.text("/")


async def test_sign_out_ends_the_session_for_good(site: Site) -> None:
    repo = site.github.add_repo("octo-org", "visible")
    site.github.users.add_person("mona", repo)
    browser = await site.sign_in("mona")
    cookie = browser.cookie(sessions.COOKIE)
    done = await browser.post(
        "/signout", data={"csrf": csrf_of(await browser.text("/"))}, allow_redirects=False
    )
    assert done.status == 303
    assert await site.db.pool.fetchval("SELECT count(*) FROM web_sessions") == 0
    replayed = site.browser()
    replayed.session.cookie_jar.update_cookies({sessions.COOKIE: cookie})
    page = await replayed.text("/")
    assert "octo-org/visible" not in page and 'id="login"' not in page


async def test_without_a_client_secret_the_sign_in_page_says_what_to_configure(
    fake_github: FakeGitHub, db: Database
) -> None:
    async with running_site(fake_github, db, client_secret=None) as site:
        answer = await site.browser().get("/signin", allow_redirects=False)
        page = await answer.text()
    assert answer.status == 503
    assert "GITHUB_CLIENT_SECRET" in page
    assert f"{site.url}/signin/callback" in page


async def test_an_app_without_the_callback_url_is_told_which_url_to_add(site: Site) -> None:
    site.github.users.add_person("mona")
    site.github.users.browser_login = "mona"
    site.github.users.callback_urls = [f"{site.url}/setup/callback"]
    browser = site.browser()
    start = await browser.get("/signin", allow_redirects=False)
    at_github = await browser.get(start.headers["Location"], allow_redirects=False)
    callback = at_github.headers["Location"].replace("/setup/callback", "/signin/callback")
    answer = await browser.get(callback, allow_redirects=False)
    assert answer.status == 400
    assert f"{site.url}/signin/callback" in await answer.text()


async def test_a_code_github_refuses_signs_nobody_in(site: Site) -> None:
    browser = site.browser()
    start = await browser.get("/signin", allow_redirects=False)
    state = re.search(r"state=([^&]+)", start.headers["Location"])
    assert state is not None
    answer = await browser.get(f"/signin/callback?code=madeup&state={state.group(1)}", allow_redirects=False)
    assert answer.status == 400
    assert await site.db.pool.fetchval("SELECT count(*) FROM web_sessions") == 0


def test_only_local_paths_are_returned_to_after_sign_in() -> None:
    assert sessions.safe_next("/repos/o/r?before=5") == "/repos/o/r?before=5"
    for unsafe in (
        "https://evil.example",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        None,
    ):
        assert sessions.safe_next(unsafe) == "/"


async def test_anonymous_sign_in_starts_cannot_grow_the_state_table_without_bound(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sessions, "MAX_OPEN_STATES", 3)
    browser = site.browser()
    answers = [(await browser.get("/signin", allow_redirects=False)).status for _ in range(5)]
    assert answers == [302, 302, 302, 503, 503]
    assert await site.db.pool.fetchval("SELECT count(*) FROM web_signin_states") == 3


async def test_sessions_end_when_github_revokes_the_token(site: Site) -> None:
    repo = site.github.add_repo("octo-org", "visible")
    site.github.users.add_person("mona", repo)
    browser = await site.sign_in("mona")
    site.github.users.revoke_tokens("mona")
    await site.db.pool.execute("UPDATE web_access_refreshed SET refreshed_at = now() - interval '1 hour'")
    page = await browser.text("/")
    assert "octo-org/visible" not in page
    assert await site.db.pool.fetchval("SELECT count(*) FROM web_sessions") == 0


def test_the_manifest_asks_github_for_the_sign_in_callback() -> None:
    from forgeguard_app.web.setup import manifest

    assert manifest("https://forgeguard.example.com")["callback_urls"] == [
        "https://forgeguard.example.com/signin/callback"
    ]


async def test_the_status_page_tells_an_app_registered_earlier_what_to_add(
    fake_github: FakeGitHub, db: Database
) -> None:
    async with running_site(fake_github, db, client_secret=None) as site:
        page = await site.browser().text("/")
    assert "GITHUB_CLIENT_SECRET" in page
    assert f"<code>{site.url}/signin/callback</code>" in page
