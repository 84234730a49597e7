"""Announcing a change to every web process (`NOTIFY`, sent when the caller's transaction commits)."""

from __future__ import annotations

from forgeguard_app.db import Executor


async def notify(conn: Executor, channel: str, payload: str) -> None:
    await conn.execute("SELECT pg_notify($1, $2)", channel, payload)
