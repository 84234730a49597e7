"""Where the app is installed: installation and installation_repositories events kept in tables."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import asyncpg
from gidgethub.routing import Router
from gidgethub.sansio import Event

if TYPE_CHECKING:
    from forgeguard_app.context import EventContext

router = Router()


def _timestamp(value: Any) -> dt.datetime | None:
    """GitHub sends installation times as epoch seconds or ISO 8601."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


async def upsert_installation(conn: asyncpg.Connection, installation: Mapping[str, Any]) -> None:
    account = installation.get("account") or {}
    await conn.execute(
        """
        INSERT INTO installations (id, account_login, account_id, account_type, repository_selection,
                                   permissions, suspended_at, deleted_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7, NULL, now())
        ON CONFLICT (id) DO UPDATE SET
            account_login = coalesce(excluded.account_login, installations.account_login),
            account_id = coalesce(excluded.account_id, installations.account_id),
            account_type = coalesce(excluded.account_type, installations.account_type),
            repository_selection = coalesce(excluded.repository_selection,
                                            installations.repository_selection),
            permissions = coalesce(excluded.permissions, installations.permissions),
            suspended_at = excluded.suspended_at,
            deleted_at = NULL,
            updated_at = now()
        """,
        int(installation["id"]),
        account.get("login"),
        account.get("id"),
        account.get("type"),
        installation.get("repository_selection"),
        json.dumps(installation["permissions"]) if installation.get("permissions") is not None else None,
        _timestamp(installation.get("suspended_at")),
    )


async def set_repositories(
    conn: asyncpg.Connection, installation_id: int, repositories: Iterable[Mapping[str, Any]], *, active: bool
) -> None:
    rows = [(installation_id, int(r["id"]), str(r["full_name"]), active) for r in repositories]
    if not rows:
        return
    await conn.executemany(
        """
        INSERT INTO installation_repositories (installation_id, repository_id, full_name, active, updated_at)
        VALUES ($1, $2, $3, $4, now())
        ON CONFLICT (installation_id, repository_id)
        DO UPDATE SET full_name = excluded.full_name, active = excluded.active, updated_at = now()
        """,
        rows,
    )


@router.register("installation", action="created")
@router.register("installation", action="unsuspend")
@router.register("installation", action="new_permissions_accepted")
async def on_installation_present(event: Event, ctx: EventContext) -> None:
    installation = dict(event.data["installation"])
    if event.data["action"] == "unsuspend":
        installation["suspended_at"] = None
    async with ctx.db.pool.acquire() as conn, conn.transaction():
        await upsert_installation(conn, installation)
        if event.data["action"] == "created":
            await set_repositories(
                conn, int(installation["id"]), event.data.get("repositories") or [], active=True
            )


@router.register("installation", action="suspend")
async def on_installation_suspended(event: Event, ctx: EventContext) -> None:
    installation = dict(event.data["installation"])
    installation["suspended_at"] = installation.get("suspended_at") or dt.datetime.now(dt.UTC).isoformat()
    async with ctx.db.pool.acquire() as conn, conn.transaction():
        await upsert_installation(conn, installation)


@router.register("installation", action="deleted")
async def on_installation_deleted(event: Event, ctx: EventContext) -> None:
    installation_id = int(event.data["installation"]["id"])
    async with ctx.db.pool.acquire() as conn, conn.transaction():
        await upsert_installation(conn, event.data["installation"])
        await conn.execute("UPDATE installations SET deleted_at = now() WHERE id = $1", installation_id)
        await conn.execute(
            "UPDATE installation_repositories SET active = false, updated_at = now()"
            " WHERE installation_id = $1",
            installation_id,
        )


@router.register("installation_repositories")
async def on_installation_repositories(event: Event, ctx: EventContext) -> None:
    installation = dict(event.data["installation"])
    if event.data.get("repository_selection"):
        installation["repository_selection"] = event.data["repository_selection"]
    installation_id = int(installation["id"])
    async with ctx.db.pool.acquire() as conn, conn.transaction():
        await upsert_installation(conn, installation)
        await set_repositories(conn, installation_id, event.data.get("repositories_added") or [], active=True)
        await set_repositories(
            conn, installation_id, event.data.get("repositories_removed") or [], active=False
        )
