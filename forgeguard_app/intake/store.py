"""The intakes table and the answers queue: state saved after every turn, answers taken strictly in order.

Saving is optimistic: a save names the version it read, and fails with
`StaleIntake` when someone saved in between. Answers are queued once per
comment id (a redelivered webhook is a no-op) and come out oldest comment
first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import asyncpg

from forgeguard_app.db import Executor
from forgeguard_app.intake.state import IntakeState

Status = Literal["active", "waiting_model", "contracts_open", "approved", "rejected"]


class StaleIntake(Exception):
    """The intake changed since it was read; read it again and redo the turn."""


@dataclass(frozen=True)
class IntakeRecord:
    """One row of `intakes`, with its state decoded."""

    id: int
    installation_id: int
    repository_id: int
    repository_full_name: str
    issue_number: int
    status: Status
    state: IntakeState
    version: int
    contracts_pull_number: int | None
    contracts_branch: str | None
    reject_reason: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class PendingAnswer:
    """A comment waiting to be answered."""

    id: int
    intake_id: int
    comment_id: int
    author: str
    body: str
    commented_at: datetime


def _record(row: asyncpg.Record) -> IntakeRecord:
    state_json: dict[str, Any] = dict(row["state"])
    state_json["sections"] = row["sections"]
    state_json["transcript"] = row["transcript"]
    state_json["current"] = row["current_section"]
    state_json.setdefault("title", row["title"])
    return IntakeRecord(
        id=row["id"],
        installation_id=row["installation_id"],
        repository_id=row["repository_id"],
        repository_full_name=row["repository_full_name"],
        issue_number=row["issue_number"],
        status=row["status"],
        state=IntakeState.from_json(state_json),
        version=row["version"],
        contracts_pull_number=row["contracts_pull_number"],
        contracts_branch=row["contracts_branch"],
        reject_reason=row["reject_reason"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _columns(state: IntakeState) -> tuple[str | None, dict[str, Any], list[Any], dict[str, Any]]:
    """(current_section, sections, transcript, rest of the state) as stored."""
    data = state.to_json()
    sections = data.pop("sections")
    transcript = data.pop("transcript")
    current = data.pop("current")
    return current, sections, transcript, data


class IntakeStore:
    """Reads and writes intakes and their answer queues on an `Executor` (a connection or the pool).

    The caller owns the transaction: `open` and `save` run several statements that belong together,
    so give them a connection inside a transaction (`IntakeService` does).
    """

    def __init__(self, conn: Executor) -> None:
        self.conn = conn

    async def open(
        self,
        *,
        installation_id: int,
        repository_id: int,
        repository_full_name: str,
        issue_number: int,
        title: str,
        restart: bool = False,
    ) -> tuple[IntakeRecord, bool]:
        """The issue's intake, created when missing; `restart` resets it. Returns (record, started anew)."""
        current, sections, transcript, rest = _columns(IntakeState(title=title))
        conn = self.conn
        row = await conn.fetchrow(
            """
            INSERT INTO intakes (installation_id, repository_id, repository_full_name, issue_number,
                title, current_section, sections, transcript, state)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            ON CONFLICT (repository_id, issue_number) DO NOTHING
            RETURNING *
            """,
            installation_id,
            repository_id,
            repository_full_name,
            issue_number,
            title,
            current,
            sections,
            transcript,
            rest,
        )
        if row is not None:
            return _record(row), True
        existing = await conn.fetchrow(
            "SELECT * FROM intakes WHERE repository_id = $1 AND issue_number = $2 FOR UPDATE",
            repository_id,
            issue_number,
        )
        assert existing is not None
        if not restart and existing["status"] != "rejected":
            return _record(existing), False
        row = await conn.fetchrow(
            """
            UPDATE intakes SET status = 'active', title = $2, current_section = $3, sections = $4,
                transcript = $5, state = $6, version = version + 1, contracts_pull_number = NULL,
                contracts_branch = NULL, reject_reason = NULL, updated_at = now(),
                repository_full_name = $7
            WHERE id = $1 RETURNING *
            """,
            existing["id"],
            title,
            current,
            sections,
            transcript,
            rest,
            repository_full_name,
        )
        await conn.execute(
            "UPDATE intake_answers SET status = 'dropped', processed_at = now() "
            "WHERE intake_id = $1 AND status = 'pending'",
            existing["id"],
        )
        assert row is not None
        return _record(row), True

    async def get(self, intake_id: int) -> IntakeRecord | None:
        row = await self.conn.fetchrow("SELECT * FROM intakes WHERE id = $1", intake_id)
        return None if row is None else _record(row)

    async def find(self, repository_id: int, issue_number: int) -> IntakeRecord | None:
        row = await self.conn.fetchrow(
            "SELECT * FROM intakes WHERE repository_id = $1 AND issue_number = $2",
            repository_id,
            issue_number,
        )
        return None if row is None else _record(row)

    async def find_by_pull(self, repository_id: int, pull_number: int) -> IntakeRecord | None:
        row = await self.conn.fetchrow(
            "SELECT * FROM intakes WHERE repository_id = $1 AND contracts_pull_number = $2",
            repository_id,
            pull_number,
        )
        return None if row is None else _record(row)

    async def save(
        self,
        record: IntakeRecord,
        state: IntakeState,
        *,
        status: Status | None = None,
        answer_id: int | None = None,
    ) -> IntakeRecord:
        """Store the state of a finished turn (and mark its answer done) if nobody saved since `record`."""
        current, sections, transcript, rest = _columns(state)
        conn = self.conn
        row = await conn.fetchrow(
            """
            UPDATE intakes SET current_section = $3, sections = $4, transcript = $5, state = $6,
                status = $7, version = version + 1, updated_at = now()
            WHERE id = $1 AND version = $2 RETURNING *
            """,
            record.id,
            record.version,
            current,
            sections,
            transcript,
            rest,
            status or record.status,
        )
        if row is None:
            raise StaleIntake(f"intake {record.id} changed since version {record.version}")
        if answer_id is not None:
            await conn.execute(
                "UPDATE intake_answers SET status = 'done', processed_at = now() WHERE id = $1", answer_id
            )
        return _record(row)

    async def set_status(
        self,
        intake_id: int,
        status: Status,
        *,
        contracts_pull_number: int | None = None,
        contracts_branch: str | None = None,
        reject_reason: str | None = None,
    ) -> IntakeRecord:
        """Change the status (and the contracts pull request or reject reason when given)."""
        row = await self.conn.fetchrow(
            """
            UPDATE intakes SET status = $2,
                contracts_pull_number = coalesce($3, contracts_pull_number),
                contracts_branch = coalesce($4, contracts_branch),
                reject_reason = coalesce($5, reject_reason),
                version = version + 1, updated_at = now()
            WHERE id = $1 RETURNING *
            """,
            intake_id,
            status,
            contracts_pull_number,
            contracts_branch,
            reject_reason,
        )
        if row is None:
            raise KeyError(f"no intake {intake_id}")
        return _record(row)

    # answers ---------------------------------------------------------------------------------------

    async def enqueue_answer(
        self, intake_id: int, *, comment_id: int, author: str, body: str, commented_at: datetime | None = None
    ) -> bool:
        """Queue a comment as an answer; False when that comment was queued before."""
        status = await self.conn.execute(
            """
            INSERT INTO intake_answers (intake_id, comment_id, author, body, commented_at)
            VALUES ($1, $2, $3, $4, coalesce($5, now()))
            ON CONFLICT (intake_id, comment_id) DO NOTHING
            """,
            intake_id,
            comment_id,
            author,
            body,
            commented_at,
        )
        return bool(status == "INSERT 0 1")

    async def next_answer(self, intake_id: int) -> PendingAnswer | None:
        """The oldest pending answer (by comment time, then comment id)."""
        row = await self.conn.fetchrow(
            """
            SELECT id, intake_id, comment_id, author, body, commented_at FROM intake_answers
            WHERE intake_id = $1 AND status = 'pending' ORDER BY commented_at, comment_id LIMIT 1
            """,
            intake_id,
        )
        return None if row is None else PendingAnswer(**dict(row))

    async def pending_count(self, intake_id: int) -> int:
        value = await self.conn.fetchval(
            "SELECT count(*) FROM intake_answers WHERE intake_id = $1 AND status = 'pending'", intake_id
        )
        return int(value)

    async def edit_answer(self, intake_id: int, comment_id: int, body: str) -> bool:
        """An edited comment replaces its answer if that answer is still waiting; False when it was used."""
        status = await self.conn.execute(
            "UPDATE intake_answers SET body = $3 "
            "WHERE intake_id = $1 AND comment_id = $2 AND status = 'pending'",
            intake_id,
            comment_id,
            body,
        )
        return bool(status == "UPDATE 1")

    async def drop_answer(self, intake_id: int, comment_id: int) -> bool:
        """A deleted comment withdraws its answer if that answer is still waiting; False when it was used."""
        status = await self.conn.execute(
            "UPDATE intake_answers SET status = 'dropped', processed_at = now() "
            "WHERE intake_id = $1 AND comment_id = $2 AND status = 'pending'",
            intake_id,
            comment_id,
        )
        return bool(status == "UPDATE 1")
