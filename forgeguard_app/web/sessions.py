"""Browser sessions of the status site, kept in PostgreSQL.

The cookie holds 32 random bytes; the table keeps their SHA-256, so a copy of
the database opens no session. The user's GitHub token is stored encrypted with
Fernet under a key derived (HKDF) from the app's private key and OAuth secret,
which live only in the server's configuration. Each session has a CSRF token
that every form changing something must send back.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from forgeguard_app.db import Executor
from forgeguard_app.settings import Settings
from forgeguard_app.web.store import sessions as store

COOKIE = "forgeguard_session"
SIGNIN_COOKIE = "forgeguard_signin"
LIFETIME = datetime.timedelta(hours=8)
"""At most GitHub's user-token lifetime: a session never outlives its token."""
STATE_LIFETIME = datetime.timedelta(minutes=10)
MAX_OPEN_STATES = 10_000


@dataclass(frozen=True)
class Viewer:
    """The signed-in person looking at a page."""

    user_id: int
    login: str
    csrf: str
    session_hash: bytes
    token: str


def digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def cipher(settings: Settings) -> Fernet:
    """The Fernet key for user tokens, derived from the app's secrets (never stored)."""
    # stripped: the key reads the same from a file, from .env, or from the environment
    material = (settings.private_key or "").strip().encode() + b"\0" + (settings.client_secret or "").encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"forgeguard web user token").derive(
        material
    )
    return Fernet(base64.urlsafe_b64encode(key))


def cookie_flags(settings: Settings) -> dict[str, object]:
    """HttpOnly and SameSite=Lax always; Secure when the public URL is https."""
    return {
        "httponly": True,
        "samesite": "Lax",
        "secure": settings.public_url.startswith("https://"),
        "path": "/",
    }


async def create(
    conn: Executor, settings: Settings, user_id: int, login: str, token: str, lifetime: datetime.timedelta
) -> str:
    """A new session; returns the cookie value."""
    value = secrets.token_urlsafe(32)
    encrypted = cipher(settings).encrypt(token.encode())
    csrf = secrets.token_urlsafe(24)
    await store.insert(conn, digest(value), user_id, login, encrypted, csrf, min(lifetime, LIFETIME))
    return value


async def load(conn: Executor, settings: Settings, cookie: str) -> Viewer | None:
    """The session behind a cookie value, or None (unknown, expired, or its token unreadable)."""
    if not cookie or len(cookie) > 100:
        return None
    row = await store.find(conn, digest(cookie))
    if row is None:
        return None
    try:
        token = cipher(settings).decrypt(row.token).decode()
    except InvalidToken:
        return None
    return Viewer(row.user_id, row.login, row.csrf, row.id_hash, token)


def csrf_ok(viewer: Viewer, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(viewer.csrf.encode(), (sent or "").encode())


async def new_state(conn: Executor, next_path: str) -> str | None:
    """A one-time sign-in state, or None when too many are open (anonymous requests cannot fill the table)."""
    if await store.open_states(conn, STATE_LIFETIME) >= MAX_OPEN_STATES:
        return None
    state = secrets.token_urlsafe(24)
    await store.insert_state(conn, digest(state), next_path)
    return state


async def use_state(conn: Executor, state: str) -> str | None:
    """The path to return to, once, for a state issued in the last ten minutes; else None."""
    return await store.use_state(conn, digest(state), STATE_LIFETIME)


def safe_next(path: str | None) -> str:
    """A local path to return to after signing in ("/" for anything else)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    if any(ord(c) < 0x20 for c in path) or len(path) > 500:
        return "/"
    return path
