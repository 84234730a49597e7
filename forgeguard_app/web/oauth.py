"""Signing in with GitHub: the app's user-to-server OAuth flow and the calls made with a user's token.

GitHub documents the flow at "Generating a user access token for a GitHub App":
the browser goes to `{GITHUB_URL}/login/oauth/authorize?client_id&redirect_uri&state`,
comes back with `code`, which is exchanged at `POST {GITHUB_URL}/login/oauth/access_token`.
What the person may see is then read from `GET /user/installations` and
`GET /user/installations/{id}/repositories` with their token.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from forgeguard_app.settings import Settings

TIMEOUT = aiohttp.ClientTimeout(total=15)
API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
HTTP = web.AppKey("forgeguard_web_http", aiohttp.ClientSession)
MAX_PAGES = 50


class TokenRefused(Exception):
    """GitHub refused the user's token (expired or revoked): the person must sign in again."""


class GitHubUnavailable(Exception):
    """GitHub could not be asked (unreachable, 5xx, or an answer we cannot read)."""


class SignInRefused(Exception):
    """The code exchange failed; `reason` is GitHub's error code (e.g. `bad_verification_code`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class UserToken:
    token: str
    expires_in: int | None


@dataclass(frozen=True)
class GitHubUser:
    id: int
    login: str


@dataclass(frozen=True)
class Repository:
    installation_id: int
    id: int
    owner: str
    name: str
    default_branch: str | None
    private: bool


@dataclass(frozen=True)
class Installation:
    id: int
    account_login: str
    repositories: tuple[Repository, ...]


def callback_url(settings: Settings) -> str:
    """The sign-in callback, which the app's `callback_urls` must list."""
    return f"{settings.public_url.rstrip('/')}/signin/callback"


def authorize_url(settings: Settings, state: str) -> str:
    query = urlencode(
        {"client_id": settings.client_id or "", "redirect_uri": callback_url(settings), "state": state}
    )
    return f"{settings.github_url.rstrip('/')}/login/oauth/authorize?{query}"


async def http_session(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: one client session for the web process's calls to GitHub."""
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        app[HTTP] = session
        yield


async def exchange_code(session: aiohttp.ClientSession, settings: Settings, code: str) -> UserToken:
    url = f"{settings.github_url.rstrip('/')}/login/oauth/access_token"
    form = {
        "client_id": settings.client_id or "",
        "client_secret": settings.client_secret or "",
        "code": code,
        "redirect_uri": callback_url(settings),
    }
    try:
        async with session.post(url, data=form, headers={"Accept": "application/json"}) as response:
            if response.status >= 500:
                raise GitHubUnavailable(f"token exchange answered {response.status}")
            answer = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise GitHubUnavailable(type(exc).__name__) from None
    if not isinstance(answer, dict):
        raise GitHubUnavailable("token exchange answer is not an object")
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        reason = answer.get("error")
        raise SignInRefused(reason if isinstance(reason, str) else "no_token")
    expires = answer.get("expires_in")
    return UserToken(token, expires if isinstance(expires, int) and expires > 0 else None)


async def _get(session: aiohttp.ClientSession, url: str, token: str) -> tuple[Any, str | None]:
    """One GET with the user's token: the JSON answer and the next page's URL."""
    headers = {**API_HEADERS, "Authorization": f"Bearer {token}"}
    try:
        async with session.get(url, headers=headers) as response:
            if response.status == 401:
                raise TokenRefused()
            if response.status != 200:
                raise GitHubUnavailable(f"GitHub answered {response.status}")
            data = await response.json(content_type=None)
            next_part = response.links.get("next")
            next_link = next_part.get("url") if next_part is not None else None
            return data, str(next_link) if next_link else None
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise GitHubUnavailable(type(exc).__name__) from None


async def _pages(session: aiohttp.ClientSession, url: str, token: str, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    next_url: str | None = url
    for _ in range(MAX_PAGES):
        if next_url is None:
            break
        data, next_url = await _get(session, next_url, token)
        page = data.get(key) if isinstance(data, dict) else None
        if not isinstance(page, list):
            raise GitHubUnavailable(f"answer without {key}")
        items += [item for item in page if isinstance(item, dict)]
    return items


async def user(session: aiohttp.ClientSession, settings: Settings, token: str) -> GitHubUser:
    data, _ = await _get(session, f"{settings.api_url.rstrip('/')}/user", token)
    try:
        return GitHubUser(int(data["id"]), str(data["login"]))
    except (KeyError, TypeError, ValueError):
        raise GitHubUnavailable("GET /user answer without id and login") from None


def _repository(installation_id: int, data: dict[str, Any]) -> Repository | None:
    try:
        owner = data["owner"]["login"]
        return Repository(
            installation_id=installation_id,
            id=int(data["id"]),
            owner=str(owner),
            name=str(data["name"]),
            default_branch=str(data["default_branch"]) if data.get("default_branch") else None,
            private=bool(data.get("private", True)),
        )
    except (KeyError, TypeError, ValueError):
        return None


async def installations(session: aiohttp.ClientSession, settings: Settings, token: str) -> list[Installation]:
    """Every installation of this app the person can see, with the repositories they can see in it."""
    base = settings.api_url.rstrip("/")
    found: list[Installation] = []
    for item in await _pages(session, f"{base}/user/installations?per_page=100", token, "installations"):
        try:
            installation_id = int(item["id"])
            login = str(item["account"]["login"])
        except (KeyError, TypeError, ValueError):
            continue
        url = f"{base}/user/installations/{installation_id}/repositories?per_page=100"
        repos = [
            repo
            for data in await _pages(session, url, token, "repositories")
            if (repo := _repository(installation_id, data)) is not None
        ]
        found.append(Installation(installation_id, login, tuple(repos)))
    return found
