"""Live pages: a change committed by any process reaches the open event streams that may hear of it."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from forgeguard_app.checkruns import store
from forgeguard_app.db import Database
from forgeguard_app.web import live
from tests.fixtures.github import FakeGitHub
from tests.web.builds import Builds, build_view
from tests.web.conftest import Browser, Site, add_audit, running_site


async def next_event(response: aiohttp.ClientResponse, timeout: float = 10.0) -> tuple[str, str]:
    """The next `event:`/`data:` pair of an SSE stream (comments and keep-alives skipped)."""
    kind = data = ""
    async with asyncio.timeout(timeout):
        while True:
            line = (await response.content.readline()).decode()
            if not line:
                return ("closed", "")
            line = line.rstrip("\n")
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
            elif line == "" and kind:
                return (kind, data)


async def open_stream(browser: Browser, path: str) -> aiohttp.ClientResponse:
    response = await browser.session.get(browser.base + path)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert (await response.content.readline()).startswith(b"retry:")
    return response


async def test_an_audit_committed_by_a_worker_reaches_the_repository_stream(site: Site) -> None:
    repo = site.github.add_repo("octo-org", "visible")
    site.github.users.add_person("mona", repo)
    browser = await site.sign_in("mona")
    await site.hub.listening.wait()
    stream = await open_stream(browser, "/repos/octo-org/visible/events")
    audit_id = await add_audit(site.db, "octo-org", "visible", conclusion=None)
    assert await next_event(stream) == ("audit", f'{{"id": {audit_id}}}')
    await store.finish_audit(
        site.db.pool, audit_id, conclusion="success", title="All checks passed", api_calls=3
    )
    assert await next_event(stream) == ("audit", f'{{"id": {audit_id}}}')
    stream.close()


async def test_a_stream_hears_nothing_of_other_repositories(site: Site) -> None:
    mine = site.github.add_repo("octo-org", "visible")
    site.github.add_repo("other-org", "private-repo", installation_id=8)
    site.github.users.add_person("mona", mine)
    browser = await site.sign_in("mona")
    await site.hub.listening.wait()
    stream = await open_stream(browser, "/repos/octo-org/visible/events")
    await add_audit(site.db, "other-org", "private-repo", installation_id=8, conclusion=None)
    mine_id = await add_audit(site.db, "octo-org", "visible", conclusion=None)
    assert await next_event(stream) == ("audit", f'{{"id": {mine_id}}}')
    stream.close()


async def test_a_build_step_published_by_the_builder_reaches_the_build_stream(
    fake_github: FakeGitHub, db: Database
) -> None:
    repo = fake_github.add_repo("octo-org", "visible")
    fake_github.users.add_person("mona", repo)
    async with running_site(fake_github, db, builds=Builds(build_view(5))) as site:
        browser = await site.sign_in("mona")
        await site.hub.listening.wait()
        stream = await open_stream(browser, "/builds/5/events")
        async with db.pool.acquire() as conn, conn.transaction():
            await live.publish(conn, live.Event("build", 5, 1, "octo-org", "visible"))
        assert await next_event(stream) == ("build", '{"id": 5}')
        stream.close()


async def test_a_step_the_builder_saves_reaches_the_build_stream(
    fake_github: FakeGitHub, db: Database
) -> None:
    repo = fake_github.add_repo("octo-org", "visible")
    fake_github.users.add_person("mona", repo)
    build_id = await db.pool.fetchval(
        """INSERT INTO builds (installation_id, repository_id, owner, repo, default_branch, issue_number,
                               contracts_pull, contracts_branch, branch, started_by, state)
           VALUES (1, $1, 'octo-org', 'visible', 'main', 3, 4, 'forge/contracts-3', 'forge/build-3',
                   'mona', '{}') RETURNING id""",
        repo.id,
    )
    async with running_site(fake_github, db, builds=Builds(build_view(build_id))) as site:
        browser = await site.sign_in("mona")
        await site.hub.listening.wait()
        stream = await open_stream(browser, f"/builds/{build_id}/events")
        await db.pool.execute("UPDATE builds SET seq = seq + 1 WHERE id = $1", build_id)
        assert await next_event(stream) == ("build", f'{{"id": {build_id}}}')
        stream.close()


async def test_an_open_stream_ends_when_access_is_removed(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "RECHECK", 0.2)
    repo = site.github.add_repo("octo-org", "visible")
    site.github.users.add_person("mona", repo)
    browser = await site.sign_in("mona")
    stream = await open_stream(browser, "/repos/octo-org/visible/events")
    await site.db.pool.execute("DELETE FROM web_access_repositories")
    assert await next_event(stream) == ("denied", "{}")
    assert await next_event(stream) == ("closed", "")


async def test_an_open_stream_ends_at_sign_out(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "RECHECK", 0.2)
    repo = site.github.add_repo("octo-org", "visible")
    site.github.users.add_person("mona", repo)
    browser = await site.sign_in("mona")
    stream = await open_stream(browser, "/events")
    await site.db.pool.execute("DELETE FROM web_sessions")
    assert await next_event(stream) == ("denied", "{}")


def test_a_notification_that_is_not_an_event_is_ignored() -> None:
    hub = live.Hub("postgresql://unused")
    sub = hub.subscribe([live.repo_key(1, "o", "r")])
    for payload in ("not json", "{}", '{"kind": "audit", "id": "x"}'):
        hub._on_notify(None, 0, live.CHANNEL, payload)
    assert sub.queue.empty()
    hub._on_notify(None, 0, live.CHANNEL, live.Event("audit", 3, 1, "O", "R").to_json())
    assert sub.queue.get_nowait().id == 3


async def test_the_hub_listens_again_after_its_connection_is_cut(site: Site) -> None:
    repo = site.github.add_repo("octo-org", "visible")
    site.github.users.add_person("mona", repo)
    browser = await site.sign_in("mona")
    await site.hub.listening.wait()
    conn = site.hub._conn
    assert conn is not None
    await site.db.pool.execute("SELECT pg_terminate_backend($1)", conn.get_server_pid())
    async with asyncio.timeout(10):
        while site.hub._conn is conn or not site.hub.listening.is_set():
            await asyncio.sleep(0.05)
    stream = await open_stream(browser, "/repos/octo-org/visible/events")
    audit_id = await add_audit(site.db, "octo-org", "visible", conclusion=None)
    assert await next_event(stream) == ("audit", f'{{"id": {audit_id}}}')
    stream.close()
