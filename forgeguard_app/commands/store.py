"""The contracts pull requests and their review decisions, in `contracts_pulls`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from forgeguard_app.db import Executor


@dataclass(frozen=True)
class ContractsPull:
    """One contracts pull request opened from an intake issue."""

    repository_id: int
    issue_number: int
    installation_id: int
    owner: str
    repo: str
    pull_number: int
    branch: str
    base_branch: str
    project: str
    head_sha: str
    state: str
    """`open`, `approved` or `rejected`."""
    decided_by: str | None
    decided_at: dt.datetime | None
    decided_sha: str | None
    reason: str | None


def _row(row: Any) -> ContractsPull | None:
    return ContractsPull(**{k: row[k] for k in ContractsPull.__dataclass_fields__}) if row else None


_COLUMNS = ", ".join(ContractsPull.__dataclass_fields__)


async def by_pull(conn: Executor, repository_id: int, pull_number: int) -> ContractsPull | None:
    """The contracts pull request with this number, if it is one."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM contracts_pulls WHERE repository_id = $1 AND pull_number = $2",  # noqa: S608
        repository_id,
        pull_number,
    )
    return _row(row)


async def by_issue(conn: Executor, repository_id: int, issue_number: int) -> ContractsPull | None:
    """The contracts pull request of an intake issue, if one was opened."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM contracts_pulls WHERE repository_id = $1 AND issue_number = $2",  # noqa: S608
        repository_id,
        issue_number,
    )
    return _row(row)


async def save_opened(
    conn: Executor,
    *,
    repository_id: int,
    issue_number: int,
    installation_id: int,
    owner: str,
    repo: str,
    pull_number: int,
    branch: str,
    base_branch: str,
    project: str,
    head_sha: str,
) -> None:
    """Record a (re)opened contracts pull request; a new one replaces a rejected one of the same issue."""
    await conn.execute(
        """
        INSERT INTO contracts_pulls (repository_id, issue_number, installation_id, owner, repo, pull_number,
                                     branch, base_branch, project, head_sha)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (repository_id, issue_number) DO UPDATE SET
            pull_number = EXCLUDED.pull_number, branch = EXCLUDED.branch, base_branch = EXCLUDED.base_branch,
            project = EXCLUDED.project, head_sha = EXCLUDED.head_sha, state = 'open', decided_by = NULL,
            decided_at = NULL, decided_sha = NULL, reason = NULL, updated_at = now()
        """,
        repository_id,
        issue_number,
        installation_id,
        owner,
        repo,
        pull_number,
        branch,
        base_branch,
        project,
        head_sha,
    )


async def set_head(conn: Executor, repository_id: int, issue_number: int, head_sha: str) -> None:
    """The app committed to the contracts branch."""
    await conn.execute(
        "UPDATE contracts_pulls SET head_sha = $3, updated_at = now()"
        " WHERE repository_id = $1 AND issue_number = $2",
        repository_id,
        issue_number,
        head_sha,
    )


async def decide(
    conn: Executor,
    repository_id: int,
    issue_number: int,
    *,
    state: str,
    by: str,
    sha: str,
    reason: str | None = None,
) -> None:
    """Record an approval or a rejection: who, when, at which commit, and why."""
    await conn.execute(
        """
        UPDATE contracts_pulls SET state = $3, decided_by = $4, decided_at = now(), decided_sha = $5,
                                   reason = $6, updated_at = now()
        WHERE repository_id = $1 AND issue_number = $2
        """,
        repository_id,
        issue_number,
        state,
        by,
        sha,
        reason,
    )
