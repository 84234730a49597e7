"""What GitHub listed for each person: their installations and repositories, and when it was read."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from forgeguard_app.db import Executor
from forgeguard_app.web.oauth import Installation


@dataclass(frozen=True)
class VisibleRepository:
    installation_id: int
    account_login: str
    owner: str
    repo: str
    default_branch: str | None
    private: bool

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"


async def save(conn: Executor, user_id: int, login: str, found: list[Installation]) -> None:
    """Replace what the person may see with GitHub's answer (the caller holds a transaction)."""
    await conn.execute(
        """INSERT INTO web_access_refreshed (user_id, login, refreshed_at) VALUES ($1, $2, now())
           ON CONFLICT (user_id) DO UPDATE SET login = EXCLUDED.login, refreshed_at = now()""",
        user_id,
        login,
    )
    await conn.execute("DELETE FROM web_access_installations WHERE user_id = $1", user_id)
    await conn.execute("DELETE FROM web_access_repositories WHERE user_id = $1", user_id)
    await conn.executemany(
        "INSERT INTO web_access_installations (user_id, installation_id, account_login) VALUES ($1, $2, $3)",
        [(user_id, i.id, i.account_login) for i in found],
    )
    await conn.executemany(
        """INSERT INTO web_access_repositories
               (user_id, installation_id, repository_id, owner, repo, default_branch, private)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (user_id, repository_id) DO NOTHING""",
        [
            (user_id, r.installation_id, r.id, r.owner, r.name, r.default_branch, r.private)
            for i in found
            for r in i.repositories
        ],
    )


async def is_fresh(conn: Executor, user_id: int, ttl: datetime.timedelta) -> bool:
    fresh = await conn.fetchval(
        "SELECT refreshed_at > now() - $2::interval FROM web_access_refreshed WHERE user_id = $1",
        user_id,
        ttl,
    )
    return bool(fresh)


async def listed(conn: Executor, user_id: int, installation_id: int, owner: str, repo: str) -> bool:
    """GitHub listed this repository, through this installation, for this person."""
    found = await conn.fetchval(
        """SELECT true FROM web_access_repositories
           WHERE user_id = $1 AND lower(owner) = lower($3) AND lower(repo) = lower($4)
             AND installation_id = $2""",
        user_id,
        installation_id,
        owner,
        repo,
    )
    return bool(found)


async def repository(conn: Executor, user_id: int, owner: str, repo: str) -> VisibleRepository | None:
    """The repository by name when the person may see it."""
    row = await conn.fetchrow(
        """SELECT r.installation_id, i.account_login, r.owner, r.repo, r.default_branch, r.private
           FROM web_access_repositories r
           JOIN web_access_installations i USING (user_id, installation_id)
           WHERE r.user_id = $1 AND lower(r.owner) = lower($2) AND lower(r.repo) = lower($3)""",
        user_id,
        owner,
        repo,
    )
    return VisibleRepository(*row) if row is not None else None


async def repositories(conn: Executor, user_id: int) -> list[VisibleRepository]:
    rows = await conn.fetch(
        """SELECT r.installation_id, i.account_login, r.owner, r.repo, r.default_branch, r.private
           FROM web_access_repositories r
           JOIN web_access_installations i USING (user_id, installation_id)
           WHERE r.user_id = $1 ORDER BY lower(r.owner), lower(r.repo)""",
        user_id,
    )
    return [VisibleRepository(*row) for row in rows]


async def installations(conn: Executor, user_id: int) -> list[tuple[int, str]]:
    rows = await conn.fetch(
        "SELECT installation_id, account_login FROM web_access_installations WHERE user_id = $1 "
        "ORDER BY lower(account_login)",
        user_id,
    )
    return [(row["installation_id"], row["account_login"]) for row in rows]
