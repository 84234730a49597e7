"""Setup: closed once registered, safe .env writes, the public URL asked, a restart asked (items 11, 12)."""

from __future__ import annotations

import html
import json
import os
import pathlib
import re
import urllib.parse
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from forgeguard_app.db import Database
from forgeguard_app.settings import Settings
from forgeguard_app.web.setup import MAX_OPEN_STATES, write_env
from tests.app.test_web import issued_state
from tests.fixtures.manifest_conversions import CONVERSION, FakeConversions


def env_file(settings: Settings) -> pathlib.Path:
    assert settings.env_file is not None
    return settings.env_file


async def register(client: TestClient[Any, Any], **params: str) -> ClientResponse:
    state, _ = await issued_state(client, **params)
    return await client.get("/setup/callback", params={"code": "good-code", "state": state})


# --- item 11 -------------------------------------------------------------------------------


async def test_after_registering_setup_is_closed_kindly_and_asks_for_a_restart(
    setup_client: TestClient[Any, Any],
) -> None:
    assert (await register(setup_client)).status == 200
    response = await setup_client.get("/setup")
    page = await response.text()
    assert response.status == 403
    assert "Setup is complete" in page and "Restart ForgeGuard now" in page
    assert "did not finish" not in page


async def test_a_second_callback_cannot_replace_the_credentials(
    setup_client: TestClient[Any, Any], settings: Settings, conversions: tuple[FakeConversions, str]
) -> None:
    second, _ = await issued_state(setup_client)
    assert (await register(setup_client)).status == 200
    written = env_file(settings).read_text()
    conversions[0].overrides = {"id": 999, "webhook_secret": "another-secret"}
    response = await setup_client.get("/setup/callback", params={"code": "good-code", "state": second})
    assert response.status == 403
    assert env_file(settings).read_text() == written
    assert conversions[0].codes == ["good-code"]


def test_the_env_is_written_through_a_new_file_never_through_a_symlink(tmp_path: pathlib.Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("do not touch\n")
    env = tmp_path / ".env"
    for name in (".env.tmp", ".env.new"):
        os.symlink(victim, tmp_path / name)
    write_env(env, {"GITHUB_APP_ID": "1"})
    assert victim.read_text() == "do not touch\n"
    assert env.read_text() == 'GITHUB_APP_ID="1"\n'
    assert not env.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env", ".env.new", ".env.tmp", "victim"]


def test_values_read_back_from_env_are_not_interpolated(tmp_path: pathlib.Path) -> None:
    env = tmp_path / ".env"
    write_env(env, {"GITHUB_WEBHOOK_SECRET": "a${HOME}b$USER", "GITHUB_APP_ID": "1"})
    loaded = Settings.from_env(environ={}, env_file=env)
    assert loaded.webhook_secret == "a${HOME}b$USER"


async def test_a_javascript_install_link_from_github_is_not_rendered(
    setup_client: TestClient[Any, Any], conversions: tuple[FakeConversions, str]
) -> None:
    conversions[0].overrides = {"html_url": "javascript:alert(document.cookie)//"}
    page = await (await register(setup_client)).text()
    assert "javascript:" not in page
    assert 'href="https://github.com/apps/octoapp/installations/new"' in page


async def test_an_install_link_to_another_host_is_not_rendered(
    setup_client: TestClient[Any, Any], conversions: tuple[FakeConversions, str]
) -> None:
    conversions[0].overrides = {"html_url": "https://evil.example/apps/octoapp"}
    page = await (await register(setup_client)).text()
    assert "evil.example" not in page


async def test_a_malformed_slug_from_github_is_refused(
    setup_client: TestClient[Any, Any], settings: Settings, conversions: tuple[FakeConversions, str]
) -> None:
    conversions[0].overrides = {"slug": 'x"><script>'}
    assert (await register(setup_client)).status == 502
    assert not env_file(settings).exists()


async def test_anonymous_setup_pages_store_a_bounded_number_of_states(
    setup_client: TestClient[Any, Any], db: Database
) -> None:
    await setup_client.get("/setup")
    assert await db.pool.fetchval("SELECT count(*) FROM setup_states") == 0
    for _ in range(MAX_OPEN_STATES + 20):
        await setup_client.get("/setup", params={"public_url": "https://forgeguard.example.com"})
    assert await db.pool.fetchval("SELECT count(*) FROM setup_states") == MAX_OPEN_STATES


# --- item 12 -------------------------------------------------------------------------------


async def test_the_page_asks_for_the_public_url_prefilled_with_a_note_on_tunnels(
    setup_client: TestClient[Any, Any],
) -> None:
    page = await (await setup_client.get("/setup")).text()
    assert 'name="public_url" value="http://127.0.0.1:3000"' in page
    assert "tunnel" in page and "cloudflared" in page
    assert 'name="organization"' in page


async def test_the_manifest_uses_the_public_url_given_and_warns_when_github_cannot_reach_it(
    setup_client: TestClient[Any, Any],
) -> None:
    _, manifest = await issued_state(setup_client, public_url="https://forgeguard.example.com/")
    assert manifest["hook_attributes"]["url"] == "https://forgeguard.example.com/webhooks"
    assert manifest["redirect_url"] == "https://forgeguard.example.com/setup/callback"
    local = await (await setup_client.get("/setup", params={"public_url": "http://127.0.0.1:3000"})).text()
    assert "does not look reachable" in local
    public = await (
        await setup_client.get("/setup", params={"public_url": "https://forgeguard.example.com"})
    ).text()
    assert "does not look reachable" not in public


@pytest.mark.parametrize(
    "public_url", ["javascript:alert(1)", "ftp://x", "https://h.example/?q=1", "nothing"]
)
async def test_a_wrong_public_url_is_asked_again(setup_client: TestClient[Any, Any], public_url: str) -> None:
    response = await setup_client.get("/setup", params={"public_url": public_url})
    assert response.status == 400
    assert "settings/apps/new" not in await response.text()


async def test_the_app_can_be_registered_under_an_organization(setup_client: TestClient[Any, Any]) -> None:
    page = await (
        await setup_client.get(
            "/setup",
            params={
                "public_url": "https://forgeguard.example.com",
                "owner": "organization",
                "organization": "octo-org",
            },
        )
    ).text()
    action = html.unescape(re.search(r'<form action="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    assert action.startswith("https://github.com/organizations/octo-org/settings/apps/new?state=")
    bad = await setup_client.get(
        "/setup", params={"public_url": "https://f.example", "owner": "organization", "organization": "../x"}
    )
    assert bad.status == 400


async def test_the_public_url_and_the_client_secret_are_written_to_env(
    setup_client: TestClient[Any, Any], settings: Settings
) -> None:
    await register(setup_client, public_url="https://forgeguard.example.com")
    loaded = Settings.from_env(environ={}, env_file=env_file(settings))
    answer = json.loads(CONVERSION.read_bytes())
    assert loaded.public_url == "https://forgeguard.example.com"
    assert loaded.client_secret == answer["client_secret"]


async def test_the_status_page_asks_for_a_restart_after_registering(
    setup_client: TestClient[Any, Any],
) -> None:
    before = await (await setup_client.get("/")).text()
    assert "Restart ForgeGuard now" not in before
    await register(setup_client)
    assert "Restart ForgeGuard now" in await (await setup_client.get("/")).text()


async def test_registering_says_restart_now_on_the_console(
    setup_client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="forgeguard_app.web.setup"):
        await register(setup_client)
    assert any("Restart ForgeGuard now" in r.getMessage() for r in caplog.records)


# --- no 5xx from odd query values (item 8's sibling) ---------------------------------------

ODD_QUERY_VALUES = [
    "\x00",
    "%00",
    "\ud800",
    "é" * 300,
    "x" * 5000,
    "javascript:alert(1)",
    "https://a.example/\x00",
]


@pytest.mark.parametrize("value", ODD_QUERY_VALUES, ids=range(len(ODD_QUERY_VALUES)))
async def test_odd_query_values_on_the_pages_never_get_a_5xx(
    setup_client: TestClient[Any, Any], value: str
) -> None:
    for path, name in [
        ("/setup", "public_url"),
        ("/setup", "organization"),
        ("/setup/callback", "state"),
        ("/setup/callback", "code"),
        ("/", "x"),
        ("/health", "x"),
    ]:
        params = {"public_url": "https://f.example", "owner": "organization", "code": "c", "state": "s"}
        params[name] = value
        query = urllib.parse.urlencode(params, encoding="utf-8", errors="surrogatepass")
        response = await setup_client.get(f"{path}?{query}")
        assert response.status < 500, (path, name, value[:20])
