"""The app's pages: /health, the status page, and the /setup manifest round trip."""

from __future__ import annotations

import html
import json
import pathlib
import re
import stat
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from forgeguard_app import __version__
from forgeguard_app.builder.sandbox import sandbox_status
from forgeguard_app.db import Database
from forgeguard_app.server import create_app
from forgeguard_app.settings import Settings
from forgeguard_app.web.state import AppState
from tests.app.conftest import CORPUS, corpus_examples, signed_headers
from tests.fixtures.manifest_conversions import CONVERSION, FakeConversions

ROOT = pathlib.Path(__file__).resolve().parents[2]


async def test_health_reports_the_database_and_the_waiting_jobs(client: TestClient[Any, Any]) -> None:
    body = (CORPUS / "webhooks" / "push" / "with-installation.payload.json").read_bytes()
    await client.post("/webhooks", data=body, headers=signed_headers(body, "push"))
    response = await client.get("/health")
    assert response.status == 200
    assert await response.json() == {
        "status": "ok",
        "database": "ok",
        "queue": {"waiting": 1},
        "sandbox": sandbox_status(),
        "version": __version__,
    }


async def test_health_is_503_when_the_database_is_unreachable(
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]], settings: Settings
) -> None:
    unreachable = await Database.connect("postgresql://postgres@127.0.0.1:1/forgeguard", min_size=0)
    try:
        client = await aiohttp_client(create_app(AppState(settings=settings, db=unreachable)))
        response = await client.get("/health")
        assert response.status == 503
        assert (await response.json())["database"] == "unreachable"
    finally:
        await unreachable.close()


async def test_status_page_counts_deliveries_and_audits_without_naming_repositories(
    client: TestClient[Any, Any], db: Database
) -> None:
    pushes = [row for row in corpus_examples() if row["event"] == "push"]
    for row in pushes:
        body = (CORPUS / row["file"]).read_bytes()
        await client.post("/webhooks", data=body, headers=signed_headers(body, "push"))
    with_installation = sum(row["has_installation"] for row in pushes)
    for conclusion in ("success", "success", "failure"):
        await db.pool.execute(
            "INSERT INTO audit_runs (installation_id, owner, repo, head_sha, reason, status, conclusion)"
            " VALUES (1, 'Codertocat', 'Hello-World', $1, 'push', 'completed', $2)",
            "a" * 40,
            conclusion,
        )
    response = await client.get("/")
    page = await response.text()
    assert response.status == 200
    assert "text/html" in response.headers["Content-Type"]
    rows = dict(re.findall(r"<tr><td>([^<]+)</td><td class=\"n\">(\d+)</td></tr>", page))
    assert (rows["received"], rows["queued"], rows["ignored"]) == (
        str(len(pushes)),
        str(with_installation),
        str(len(pushes) - with_installation),
    )
    assert (rows["success"], rows["failure"], rows["neutral"]) == ("2", "1", "0")
    assert "Hello-World" not in page and "Codertocat" not in page


async def test_status_page_in_setup_mode_links_to_setup(setup_mode_client: TestClient[Any, Any]) -> None:
    page = await (await setup_mode_client.get("/")).text()
    assert 'href="/setup"' in page
    assert "GITHUB_PRIVATE_KEY" in page


async def issued_state(
    client: TestClient[Any, Any], public_url: str = "http://127.0.0.1:3000", **params: str
) -> tuple[str, dict[str, Any]]:
    """The state and manifest of the form that posts to GitHub, once the public URL is given."""
    page = await (await client.get("/setup", params={"public_url": public_url, **params})).text()
    action = html.unescape(re.search(r'<form action="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    manifest = json.loads(html.unescape(re.search(r'name="manifest" value="([^"]+)"', page).group(1)))  # type: ignore[union-attr]
    assert action.startswith("https://github.com/")
    return action.split("state=", 1)[1], manifest


async def test_setup_posts_the_manifest_with_this_servers_urls(setup_client: TestClient[Any, Any]) -> None:
    _, manifest = await issued_state(setup_client)
    assert manifest["hook_attributes"]["url"] == "http://127.0.0.1:3000/webhooks"
    assert manifest["redirect_url"] == "http://127.0.0.1:3000/setup/callback"
    assert manifest["default_permissions"] == {
        "checks": "write",
        "contents": "write",
        "pull_requests": "write",
        "issues": "write",
        "metadata": "read",
    }
    assert set(manifest["default_events"]) == {
        "push",
        "pull_request",
        "check_suite",
        "check_run",
        "issue_comment",
        "issues",
    }


async def test_setup_callback_writes_the_credentials_to_env_owner_only_and_never_shows_them(
    setup_client: TestClient[Any, Any], settings: Settings
) -> None:
    state, _ = await issued_state(setup_client)
    response = await setup_client.get("/setup/callback", params={"code": "good-code", "state": state})
    page = await response.text()
    answer = json.loads(CONVERSION.read_bytes())
    assert response.status == 200
    assert "https://github.com/apps/octoapp/installations/new" in page
    assert answer["pem"].splitlines()[1] not in page and answer["webhook_secret"] not in page

    assert settings.env_file is not None
    assert stat.S_IMODE(settings.env_file.stat().st_mode) == 0o600
    loaded = Settings.from_env(environ={}, env_file=settings.env_file)
    assert (loaded.app_id, loaded.client_id, loaded.webhook_secret) == (
        str(answer["id"]),
        answer["client_id"],
        answer["webhook_secret"],
    )
    assert loaded.private_key is not None and loaded.private_key.strip() == answer["pem"].strip()
    assert not loaded.setup_mode


async def test_setup_state_works_once(setup_client: TestClient[Any, Any]) -> None:
    state, _ = await issued_state(setup_client)
    first = await setup_client.get("/setup/callback", params={"code": "expired-code", "state": state})
    second = await setup_client.get("/setup/callback", params={"code": "good-code", "state": state})
    assert [first.status, second.status] == [502, 400]


async def test_an_unknown_state_is_refused_before_github_is_asked(
    setup_client: TestClient[Any, Any], conversions: tuple[FakeConversions, str], settings: Settings
) -> None:
    response = await setup_client.get("/setup/callback", params={"code": "good-code", "state": "forged"})
    assert response.status == 400
    assert conversions[0].codes == []
    assert settings.env_file is not None and not settings.env_file.exists()


async def test_a_code_github_refuses_leaves_env_untouched(
    setup_client: TestClient[Any, Any], settings: Settings
) -> None:
    state, _ = await issued_state(setup_client)
    response = await setup_client.get("/setup/callback", params={"code": "expired-code", "state": state})
    assert response.status == 502
    assert settings.env_file is not None and not settings.env_file.exists()


@pytest.mark.parametrize("path", ["/setup", "/setup/callback?code=good-code&state=x"])
async def test_setup_is_closed_once_the_app_has_credentials(client: TestClient[Any, Any], path: str) -> None:
    response = await client.get(path)
    assert response.status == 403
    page = await response.text()
    assert "already has GitHub App credentials" in page and "Setup is complete" in page


def test_the_root_manifest_is_the_packaged_one() -> None:
    assert (ROOT / "app.yml").read_text() == (ROOT / "forgeguard_app" / "app.yml").read_text()


def test_procfile_runs_web_without_workers_and_a_worker() -> None:
    assert (ROOT / "Procfile").read_text().splitlines() == [
        "web: forgeguard serve --workers 0",
        "worker: forgeguard worker",
    ]
