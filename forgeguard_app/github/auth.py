"""App authentication: the app's JWT, installation tokens, and redaction of secrets from text.

GitHub signs nothing for us: the app proves itself with a short JWT (RS256,
``iat`` back-dated 60 s against clock drift, ``exp`` at most ten minutes
ahead, ``iss`` the client id or app id), and trades it for an installation
token at ``POST /app/installations/{id}/access_tokens``. Tokens live an hour;
the cache here hands out a token until `margin` seconds before its
``expires_at`` and mints one per installation at a time (one lock per
installation), so a burst of jobs produces one mint.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import jwt
from cachetools import TTLCache

JWT_BACKDATE = 60
"""Seconds `iat` is set in the past, as GitHub recommends for clock drift."""
JWT_LIFETIME = 9 * 60
"""Seconds from now to `exp`; GitHub refuses more than 10 minutes."""
JWT_REFRESH_BEFORE = 60
"""A cached JWT is replaced this many seconds before it expires."""
TOKEN_MARGIN = 5 * 60
"""An installation token is refreshed this many seconds before its `expires_at`."""

_SECRET_PATTERNS = [
    # GitHub tokens: installation ghs_, user ghu_, personal ghp_/github_pat_, oauth gho_, refresh ghr_
    re.compile(r"\b(?:gh[opsur]_[A-Za-z0-9_]{16,}|github_pat_[A-Za-z0-9_]{20,})"),
    # JWTs: three base64url segments, the header starting {" (eyJ)
    re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"),
    # a credential-looking word (16+ characters with a digit) after an authorization scheme
    re.compile(r"(?i)\b((?:token|bearer)\s+)(?=[A-Za-z0-9._~+/=-]*\d)[A-Za-z0-9._~+/=-]{16,}"),
    # a token in a query string (download redirects)
    re.compile(r"(?i)([?&](?:token|access_token|jwt)=)[^&\s\"']+"),
]


def redact(text: str, *secrets: str | None) -> str:
    """`text` with GitHub tokens, JWTs and the given secrets replaced by `[REDACTED]`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[REDACTED]")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "[REDACTED]", text)
    return text


def make_app_jwt(private_key: str, issuer: str, *, now: float | None = None) -> str:
    """A JWT that authenticates as the app: RS256, iat = now - 60 s, exp = now + 9 min."""
    moment = int(time.time() if now is None else now)
    claims = {"iat": moment - JWT_BACKDATE, "exp": moment + JWT_LIFETIME, "iss": issuer}
    return jwt.encode(claims, private_key, algorithm="RS256")


class AppJWT:
    """The app's JWT, re-signed shortly before it expires."""

    def __init__(self, private_key: str, issuer: str, clock: Callable[[], float] = time.time) -> None:
        self._private_key = private_key
        self._issuer = issuer
        self._clock = clock
        self._token: str | None = None
        self._expires = 0.0
        self.signed = 0
        """How many JWTs were signed (for tests and metrics)."""

    def __repr__(self) -> str:
        return f"AppJWT(issuer={self._issuer!r})"

    def invalidate(self) -> None:
        """Sign a new JWT next time (GitHub refused this one, e.g. for clock drift)."""
        self._token = None

    def get(self) -> str:
        now = self._clock()
        if self._token is None or now >= self._expires - JWT_REFRESH_BEFORE:
            self._token = make_app_jwt(self._private_key, self._issuer, now=now)
            self._expires = int(now) + JWT_LIFETIME
            self.signed += 1
        return self._token


@dataclass(frozen=True)
class InstallationToken:
    """An installation access token and when GitHub says it expires."""

    token: str = field(repr=False)
    expires_at: dt.datetime
    permissions: dict[str, str] = field(default_factory=dict)
    repository_selection: str | None = None

    @classmethod
    def from_response(cls, data: dict[str, object]) -> InstallationToken:
        """Parse the body of `POST /app/installations/{id}/access_tokens` (201)."""
        token = data.get("token")
        expires = data.get("expires_at")
        if not isinstance(token, str) or not isinstance(expires, str):
            raise ValueError("installation token response lacks token or expires_at")
        permissions = data.get("permissions")
        selection = data.get("repository_selection")
        return cls(
            token=token,
            expires_at=parse_timestamp(expires),
            permissions={str(k): str(v) for k, v in permissions.items()}
            if isinstance(permissions, dict)
            else {},
            repository_selection=selection if isinstance(selection, str) else None,
        )

    def fresh(self, now: dt.datetime, margin: float = TOKEN_MARGIN) -> bool:
        """True while the token has more than `margin` seconds left."""
        return (self.expires_at - now).total_seconds() > margin


def parse_timestamp(value: str) -> dt.datetime:
    """An ISO 8601 / RFC 3339 time as GitHub writes it (`2016-07-11T22:14:10Z`), timezone-aware."""
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


Minter = Callable[[int], Awaitable[InstallationToken]]


class TokenCache:
    """Installation tokens per installation, minted once at a time and refreshed before expiry."""

    def __init__(
        self,
        mint: Minter,
        *,
        margin: float = TOKEN_MARGIN,
        maxsize: int = 4096,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._mint = mint
        self._margin = margin
        self._clock = clock
        # An hour is the longest GitHub issues; entries are checked against expires_at anyway.
        self._tokens: TTLCache[int, InstallationToken] = TTLCache(maxsize=maxsize, ttl=3600)
        self._locks: TTLCache[int, asyncio.Lock] = TTLCache(maxsize=maxsize, ttl=3600)
        self.minted = 0

    def _lock(self, installation_id: int) -> asyncio.Lock:
        lock = self._locks.get(installation_id)
        if lock is None:
            lock = self._locks[installation_id] = asyncio.Lock()
        return lock

    async def get(self, installation_id: int) -> InstallationToken:
        """A token with more than `margin` seconds left, minting one if needed."""
        cached = self._tokens.get(installation_id)
        if cached is not None and cached.fresh(self._clock(), self._margin):
            return cached
        async with self._lock(installation_id):
            cached = self._tokens.get(installation_id)
            if cached is not None and cached.fresh(self._clock(), self._margin):
                return cached
            token = await self._mint(installation_id)
            self.minted += 1
            self._tokens[installation_id] = token
            return token

    def invalidate(self, installation_id: int, token: str) -> None:
        """Forget `token` (GitHub refused it); a newer token minted meanwhile is kept."""
        cached = self._tokens.get(installation_id)
        if cached is not None and cached.token == token:
            del self._tokens[installation_id]
