"""The GitHub client: the app (JWT) and its installations (tokens), with retries, ETags and call counts.

`GitHubApp(settings, session)` is made once per process around the app-wide
`aiohttp.ClientSession`. `await app.installation_api(id)` gives an
`InstallationAPI`, a gidgethub `GitHubAPI` whose every request

- carries the installation's current token (cached, refreshed 5 minutes
  before `expires_at`, one mint per installation at a time),
- is retried on 5xx and connection errors (`RetryPolicy.tries` attempts,
  exponential backoff with jitter), except a request that creates something
  (`NOT_REPEATABLE`): GitHub may have made it although the answer was lost, so
  the client raises `MaybeApplied` and the caller looks before asking again
  (`forgeguard_app.github.once.create_once`),
- waits and retries on secondary rate limits (403/429 with `Retry-After`, or
  `x-ratelimit-remaining: 0` until `x-ratelimit-reset`, capped by
  `RetryPolicy.max_wait`),
- refreshes the token once when GitHub answers 401,
- sends `If-None-Match` for a GET it has an ETag for, and answers a 304 from
  its cache (GitHub does not count a 304 against the rate limit),
- is counted: `.calls` (requests sent), `.not_modified`, `.log` (one
  `CallRecord` per request, with the operation name for the economy benchmark).

Each `installation_api()` call returns a fresh object (so `.calls` counts one
job's requests) sharing the installation's token and ETag cache. Tokens and
JWTs never reach a log line or an exception message.
"""

from __future__ import annotations

import abc
import asyncio
import http
import logging
import random
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import gidgethub
import gidgethub.aiohttp
from cachetools import LRUCache
from gidgethub import sansio
from multidict import CIMultiDict, CIMultiDictProxy

from forgeguard_app.github.auth import AppJWT, InstallationToken, TokenCache, redact
from forgeguard_app.settings import Settings

log = logging.getLogger("forgeguard_app.github")

USER_AGENT = "ForgeGuard"
API_VERSION = "2022-11-28"
RAW = "application/vnd.github.raw"
CACHEABLE_BYTES = 4 * 1024 * 1024
"""Bigger answers (tarballs) are not kept for ETag revalidation."""

Headers = Mapping[str, str]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard a request is retried. Tests use tiny delays and a recording `sleep`."""

    tries: int = 3
    """Attempts for a request answered 5xx (or failing to connect)."""
    rate_limit_tries: int = 3
    """Attempts for a request refused by a secondary rate limit."""
    base_delay: float = 1.0
    """First backoff in seconds; doubled per attempt, with up to 50% jitter added."""
    max_delay: float = 30.0
    secondary_default: float = 60.0
    """Wait after a secondary rate limit that names no time (GitHub: at least a minute)."""
    max_wait: float = 120.0
    """A rate limit asking for a longer wait is not waited for: the error is raised."""
    sleep: Sleep = asyncio.sleep

    def backoff(self, attempt: int) -> float:
        delay = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return delay + random.uniform(0, delay / 2)


NOT_REPEATABLE = frozenset({"checks/create", "issues/create-comment", "pulls/create", "git/create-ref"})
"""Operations a lost answer makes ambiguous: sent twice they make two runs, comments, pull requests."""


class MaybeApplied(gidgethub.GitHubException):
    """A request that creates something failed in a way that does not say whether GitHub carried it out."""

    def __init__(self, operation: str, what: str) -> None:
        super().__init__(f"{operation}: {what}; GitHub may have carried it out")
        self.operation = operation


@dataclass(frozen=True)
class CallRecord:
    """One HTTP request made to GitHub."""

    operation: str
    method: str
    path: str
    status: int
    attempt: int = 1
    from_cache: bool = False
    """True when GitHub answered 304 and the cached body was used."""


_OPERATIONS: list[tuple[str, re.Pattern[str], str]] = [
    (m, re.compile(p), op)
    for m, p, op in [
        ("POST", r"^/app/installations/\d+/access_tokens$", "apps/create-installation-access-token"),
        ("POST", r"^/app-manifests/[^/]+/conversions$", "apps/create-from-manifest"),
        ("GET", r"^/repos/[^/]+/[^/]+/installation$", "apps/get-repo-installation"),
        ("POST", r"^/graphql$", "graphql"),
        ("GET", r"^/repos/[^/]+/[^/]+/compare/.+$", "repos/compare-commits"),
        ("GET", r"^/repos/[^/]+/[^/]+/git/trees/[^/]+$", "git/get-tree"),
        ("GET", r"^/repos/[^/]+/[^/]+/contents(/.*)?$", "repos/get-content"),
        ("GET", r"^/repos/[^/]+/[^/]+/tarball(/.*)?$", "repos/download-tarball-archive"),
        ("GET", r"^/repos/[^/]+/[^/]+/commits/[^/]+/check-runs$", "checks/list-for-ref"),
        ("GET", r"^/repos/[^/]+/[^/]+/commits/[^/]+$", "repos/get-commit"),
        ("POST", r"^/repos/[^/]+/[^/]+/check-runs$", "checks/create"),
        ("PATCH", r"^/repos/[^/]+/[^/]+/check-runs/\d+$", "checks/update"),
        (
            "GET",
            r"^/repos/[^/]+/[^/]+/collaborators/[^/]+/permission$",
            "repos/get-collaborator-permission-level",
        ),
        ("POST", r"^/repos/[^/]+/[^/]+/issues/\d+/comments$", "issues/create-comment"),
        ("GET", r"^/repos/[^/]+/[^/]+/issues/\d+/comments$", "issues/list-comments"),
        ("PATCH", r"^/repos/[^/]+/[^/]+/issues/comments/\d+$", "issues/update-comment"),
        ("POST", r"^/repos/[^/]+/[^/]+/issues/comments/\d+/reactions$", "reactions/create-for-issue-comment"),
        ("POST", r"^/repos/[^/]+/[^/]+/issues/\d+/labels$", "issues/add-labels"),
        ("GET", r"^/repos/[^/]+/[^/]+/issues/\d+$", "issues/get"),
        ("PATCH", r"^/repos/[^/]+/[^/]+/issues/\d+$", "issues/update"),
        ("POST", r"^/repos/[^/]+/[^/]+/pulls$", "pulls/create"),
        ("GET", r"^/repos/[^/]+/[^/]+/pulls$", "pulls/list"),
        ("GET", r"^/repos/[^/]+/[^/]+/pulls/\d+$", "pulls/get"),
        ("PATCH", r"^/repos/[^/]+/[^/]+/pulls/\d+$", "pulls/update"),
        ("POST", r"^/repos/[^/]+/[^/]+/git/blobs$", "git/create-blob"),
        ("POST", r"^/repos/[^/]+/[^/]+/git/trees$", "git/create-tree"),
        ("POST", r"^/repos/[^/]+/[^/]+/git/commits$", "git/create-commit"),
        ("GET", r"^/repos/[^/]+/[^/]+/git/ref/.+$", "git/get-ref"),
        ("POST", r"^/repos/[^/]+/[^/]+/git/refs$", "git/create-ref"),
        ("PATCH", r"^/repos/[^/]+/[^/]+/git/refs/.+$", "git/update-ref"),
    ]
]


def operation_name(method: str, path: str) -> str:
    """GitHub's operation id for a request (`repos/compare-commits`), else `METHOD path`."""
    for m, pattern, op in _OPERATIONS:
        if m == method and pattern.match(path):
            return op
    return f"{method} {path}"


def graphql_url(api_url: str) -> str:
    """GitHub's GraphQL endpoint for a REST base: `/graphql`, or `/api/graphql` on GHES."""
    base = api_url.rstrip("/")
    if base.endswith("/api/v3"):
        return base[: -len("/v3")] + "/graphql"
    return base + "/graphql"


@dataclass
class _Cached:
    etag: str
    headers: CIMultiDict[str]
    body: bytes


class _CountingAPI(gidgethub.aiohttp.GitHubAPI):
    """gidgethub's aiohttp client with our retries, ETag cache and counters; auth supplied by subclasses."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        retry: RetryPolicy,
        etags: LRUCache[tuple[str, str], _Cached] | None,
        stats: Counter[str],
    ) -> None:
        super().__init__(session, USER_AGENT, base_url=base_url)
        self.retry = retry
        self._etags = etags
        self._stats = stats
        self._base_path = urlsplit(base_url).path.rstrip("/")
        self.calls = 0
        self.not_modified = 0
        self.log: list[CallRecord] = []

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, calls={self.calls})"

    def operations(self) -> Counter[str]:
        """Requests per operation name (304s included; they are requests too)."""
        return Counter(r.operation for r in self.log)

    async def sleep(self, seconds: float) -> None:
        await self.retry.sleep(seconds)

    @abc.abstractmethod
    async def _authorization(self) -> str:
        """The `Authorization` header value for the next request."""

    async def _refresh_authorization(self, used: str) -> bool:
        """Called once after a 401; True when new credentials are worth a retry."""
        return False

    def _path_of(self, url: str) -> str:
        path = urlsplit(url).path
        if self._base_path and path.startswith(self._base_path):
            path = path[len(self._base_path) :] or "/"
        return path

    async def _send(
        self, method: str, url: str, headers: Headers, body: bytes
    ) -> tuple[int, CIMultiDictProxy[str] | CIMultiDict[str], bytes]:
        async with self._session.request(method, url, headers=headers, data=body) as response:
            return response.status, response.headers, await response.read()

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, Mapping[str, str], bytes]:
        request_headers = {k.lower(): v for k, v in headers.items()}
        request_headers.setdefault("x-github-api-version", API_VERSION)
        path = self._path_of(url)
        operation = operation_name(method, path)
        cache_key = (url, request_headers.get("accept", ""))
        use_etags = method == "GET" and self._etags is not None
        repeatable = operation not in NOT_REPEATABLE
        attempt = rate_limited = 0
        refreshed = False
        while True:
            attempt += 1
            auth = await self._authorization()
            request_headers["authorization"] = auth
            cached = self._etags.get(cache_key) if use_etags and self._etags is not None else None
            if cached is not None:
                request_headers["if-none-match"] = cached.etag
            else:
                request_headers.pop("if-none-match", None)
            try:
                status, response_headers, data = await self._send(method, url, request_headers, body)
            except (TimeoutError, aiohttp.ClientConnectionError) as exc:
                self._record(operation, method, path, 0, attempt)
                # A connection never made carried nothing: safe to repeat whatever the request.
                if not repeatable and not isinstance(exc, aiohttp.ClientConnectorError):
                    raise MaybeApplied(operation, type(exc).__name__) from None
                if attempt < self.retry.tries:
                    delay = self.retry.backoff(attempt)
                    log.warning("%s %s failed (%s); retry in %.2fs", method, path, type(exc).__name__, delay)
                    await self.sleep(delay)
                    continue
                raise gidgethub.GitHubException(
                    redact(f"{method} {path}: {type(exc).__name__}: {exc}")
                ) from None
            from_cache = status == 304 and cached is not None
            self._record(operation, method, path, status, attempt, from_cache)
            if from_cache and cached is not None:
                self.not_modified += 1
                self._stats["not_modified"] += 1
                return 200, cached.headers, cached.body
            if status == 401 and not refreshed:
                refreshed = True
                if await self._refresh_authorization(auth):
                    log.info("%s %s: 401 Bad credentials; retrying with a new token", method, path)
                    continue
            if status in (403, 429):
                wait = self._rate_limit_wait(status, response_headers, data)
                if wait is not None and rate_limited + 1 < self.retry.rate_limit_tries:
                    if wait <= self.retry.max_wait:
                        rate_limited += 1
                        log.warning("%s %s: rate limited (%d); waiting %.2fs", method, path, status, wait)
                        await self.sleep(wait)
                        continue
                    log.warning("%s %s: rate limited for %.0fs, more than we wait", method, path, wait)
            if status >= 500 and not repeatable:
                raise MaybeApplied(operation, f"answered {status}")
            if status >= 500 and attempt < self.retry.tries:
                delay = self.retry.backoff(attempt)
                log.warning("%s %s: %d; retry in %.2fs", method, path, status, delay)
                await self.sleep(delay)
                continue
            etag = response_headers.get("etag")
            if use_etags and self._etags is not None and status == 200 and etag and self._cacheable(data):
                self._etags[cache_key] = _Cached(etag, CIMultiDict(response_headers), data)
            return status, response_headers, data

    def _cacheable(self, data: bytes) -> bool:
        limit = (
            CACHEABLE_BYTES if self._etags is None else min(CACHEABLE_BYTES, int(self._etags.maxsize) // 4)
        )
        return len(data) <= limit

    def _record(
        self, operation: str, method: str, path: str, status: int, attempt: int, from_cache: bool = False
    ) -> None:
        self.calls += 1
        self._stats["requests"] += 1
        self.log.append(CallRecord(operation, method, path, status, attempt, from_cache))
        log.debug("%s %s -> %s%s", method, path, status, " (cached)" if from_cache else "")

    def _rate_limit_wait(self, status: int, headers: Headers, body: bytes) -> float | None:
        """Seconds to wait before retrying a rate-limited request, or None when it is not a rate limit."""
        retry_after = headers.get("retry-after")
        if retry_after is not None:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                return self.retry.secondary_default
        if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset"):
            try:
                return max(0.0, float(headers["x-ratelimit-reset"]) - time.time()) + 1
            except ValueError:
                return self.retry.secondary_default
        text = body[:2000].decode("utf-8", "replace").lower()
        if status == 429 or "secondary rate limit" in text or "abuse" in text:
            return self.retry.secondary_default
        return None

    async def graphql(self, query: str, *, endpoint: str | None = None, **variables: Any) -> Any:
        """Run a GraphQL query at this server's GraphQL endpoint; returns the `data` member."""
        return await super().graphql(query, endpoint=endpoint or graphql_url(self.base_url), **variables)

    async def download(self, url: str, *, accept: str = "application/vnd.github+json") -> bytes:
        """The body of a GET (following redirects), for binary answers such as tarballs."""
        full = sansio.format_url(url, {}, base_url=self.base_url)
        headers = sansio.create_headers(self.requester, accept=accept)
        status, response_headers, data = await self._request("GET", full, headers, b"")
        if status != 200:
            sansio.decipher_response(status, response_headers, data)
            raise gidgethub.HTTPException(http.HTTPStatus(status))
        return data


class AppAPI(_CountingAPI):
    """Requests as the app itself (JWT): `/app/...`, `/repos/{o}/{r}/installation`, manifest conversions."""

    def __init__(self, session: aiohttp.ClientSession, jwt: AppJWT, **kwargs: Any) -> None:
        super().__init__(session, **kwargs)
        self._jwt = jwt

    async def _authorization(self) -> str:
        return f"Bearer {self._jwt.get()}"

    async def _refresh_authorization(self, used: str) -> bool:
        self._jwt.invalidate()
        return True


class InstallationAPI(_CountingAPI):
    """Requests as one installation, with its token kept fresh."""

    def __init__(
        self, session: aiohttp.ClientSession, installation_id: int, tokens: TokenCache, **kwargs: Any
    ) -> None:
        super().__init__(session, **kwargs)
        self.installation_id = installation_id
        self._tokens = tokens

    def __repr__(self) -> str:
        return f"InstallationAPI(installation_id={self.installation_id}, calls={self.calls})"

    async def _authorization(self) -> str:
        token = await self._tokens.get(self.installation_id)
        return f"token {token.token}"

    async def _refresh_authorization(self, used: str) -> bool:
        self._tokens.invalidate(self.installation_id, used.removeprefix("token "))
        return True


@dataclass
class GitHubApp:
    """The app: signs JWTs, mints installation tokens, hands out API clients. One per process."""

    settings: Settings
    session: aiohttp.ClientSession
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    token_margin: float = 300.0
    etag_cache_bytes: int = 32 * 1024 * 1024
    calls: Counter[str] = field(default_factory=Counter)
    """App-wide counters: `requests`, `not_modified`, `token_mints`."""

    def __post_init__(self) -> None:
        if not self.settings.private_key or not self.settings.jwt_issuer:
            raise ValueError("GitHubApp needs GITHUB_APP_ID (or GITHUB_CLIENT_ID) and GITHUB_PRIVATE_KEY")
        self.jwt = AppJWT(self.settings.private_key, self.settings.jwt_issuer)
        self.tokens = TokenCache(self._mint, margin=self.token_margin)
        # per installation, the most recently used installations only (each cache bounded in bytes)
        self._etags: LRUCache[int, LRUCache[tuple[str, str], _Cached]] = LRUCache(maxsize=64)

    def __repr__(self) -> str:
        return f"GitHubApp(api_url={self.settings.api_url!r}, issuer={self.settings.jwt_issuer!r})"

    def _app_api(self) -> AppAPI:
        return AppAPI(
            self.session,
            self.jwt,
            base_url=self.settings.api_url,
            retry=self.retry,
            etags=None,
            stats=self.calls,
        )

    async def app_api(self) -> AppAPI:
        """A client authenticated as the app (JWT)."""
        return self._app_api()

    async def _mint(self, installation_id: int) -> InstallationToken:
        api = self._app_api()
        data = await api.post(f"/app/installations/{installation_id}/access_tokens", data={})
        self.calls["token_mints"] += 1
        log.info("minted a token for installation %s", installation_id)
        return InstallationToken.from_response(data)

    async def installation_token(self, installation_id: int) -> str:
        """The installation's current token (for clients other than `InstallationAPI`)."""
        return (await self.tokens.get(int(installation_id))).token

    async def installation_api(self, installation_id: int) -> InstallationAPI:
        """A client for one installation; its token is minted now if none is cached."""
        installation_id = int(installation_id)
        await self.tokens.get(installation_id)
        etags = self._etags.get(installation_id)
        if etags is None:
            etags = self._etags[installation_id] = LRUCache(
                maxsize=self.etag_cache_bytes, getsizeof=lambda c: len(c.body) + 256
            )
        return InstallationAPI(
            self.session,
            installation_id,
            self.tokens,
            base_url=self.settings.api_url,
            retry=self.retry,
            etags=etags,
            stats=self.calls,
        )
