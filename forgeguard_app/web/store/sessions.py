"""Sign-in states and browser sessions (values hashed; the user token already encrypted by the caller)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from forgeguard_app.db import Executor


@dataclass(frozen=True)
class SessionRow:
    id_hash: bytes
    user_id: int
    login: str
    token: bytes
    csrf: str


async def insert(
    conn: Executor,
    id_hash: bytes,
    user_id: int,
    login: str,
    token: bytes,
    csrf: str,
    lifetime: datetime.timedelta,
) -> None:
    await conn.execute(
        """INSERT INTO web_sessions (id_hash, user_id, login, token, csrf, expires_at)
           VALUES ($1, $2, $3, $4, $5, now() + $6::interval)""",
        id_hash,
        user_id,
        login,
        token,
        csrf,
        lifetime,
    )


async def find(conn: Executor, id_hash: bytes) -> SessionRow | None:
    row = await conn.fetchrow(
        "SELECT id_hash, user_id, login, token, csrf FROM web_sessions"
        " WHERE id_hash = $1 AND expires_at > now()",
        id_hash,
    )
    if row is None:
        return None
    return SessionRow(bytes(row["id_hash"]), row["user_id"], row["login"], bytes(row["token"]), row["csrf"])


async def alive(conn: Executor, id_hash: bytes) -> bool:
    found = await conn.fetchval(
        "SELECT true FROM web_sessions WHERE id_hash = $1 AND expires_at > now()", id_hash
    )
    return bool(found)


async def delete(conn: Executor, id_hash: bytes) -> None:
    await conn.execute("DELETE FROM web_sessions WHERE id_hash = $1", id_hash)


async def delete_expired(conn: Executor) -> None:
    await conn.execute("DELETE FROM web_sessions WHERE expires_at < now()")


async def open_states(conn: Executor, lifetime: datetime.timedelta) -> int:
    """Sign-in states still open, after dropping those older than `lifetime`."""
    await conn.execute("DELETE FROM web_signin_states WHERE created_at < now() - $1::interval", lifetime)
    return int(await conn.fetchval("SELECT count(*) FROM web_signin_states WHERE used_at IS NULL"))


async def insert_state(conn: Executor, state_hash: bytes, next_path: str) -> None:
    await conn.execute(
        "INSERT INTO web_signin_states (state_hash, next_path) VALUES ($1, $2)", state_hash, next_path
    )


async def use_state(conn: Executor, state_hash: bytes, lifetime: datetime.timedelta) -> str | None:
    found = await conn.fetchval(
        """UPDATE web_signin_states SET used_at = now()
           WHERE state_hash = $1 AND used_at IS NULL AND created_at > now() - $2::interval
           RETURNING next_path""",
        state_hash,
        lifetime,
    )
    return str(found) if found is not None else None
