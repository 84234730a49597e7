"""SQL for builds: the `builds` row and its state, the tool log, uncommitted files, commits, interjections.

Every function takes an `Executor` (a connection or the pool); the caller owns
the transaction. None of them talks to GitHub.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import asyncpg

from forgeguard_app.builder.state import ACTIVE, BuilderConfig, BuildState
from forgeguard_app.db import Executor


@dataclass
class BuildRow:
    """One build as a step reads it."""

    id: int
    installation_id: int
    repository_id: int
    owner: str
    repo: str
    default_branch: str
    issue_number: int
    contracts_pull: int
    contracts_branch: str
    branch: str
    pull_number: int | None
    started_by: str
    status: str
    seq: int
    state: BuildState
    config: BuilderConfig
    cancel_reason: str | None
    """Why the running build stops at its next step (`/forge cancel`, a closed issue or pull request)."""
    abort_requested: str | None
    end_reason: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    stepped_at: dt.datetime
    paused_at: dt.datetime | None
    finished_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def order_key(self) -> str:
        return order_key(self.id)


def order_key(build_id: int) -> str:
    """The steps of one build run one at a time, in order."""
    return f"build:{build_id}"


_COLUMNS = (
    "id, installation_id, repository_id, owner, repo, default_branch, issue_number, contracts_pull, "
    "contracts_branch, branch, pull_number, started_by, status, seq, state, config, cancel_reason, "
    "abort_requested, end_reason, created_at, updated_at, stepped_at, paused_at, finished_at"
)


def _row(record: Any) -> BuildRow | None:
    if record is None:
        return None
    data = dict(record)
    data["state"] = BuildState.from_json(data["state"])
    data["config"] = BuilderConfig.from_json(data["config"])
    return BuildRow(**data)


async def create_build(
    conn: Executor,
    *,
    installation_id: int,
    repository_id: int,
    owner: str,
    repo: str,
    default_branch: str,
    issue_number: int,
    contracts_pull: int,
    contracts_branch: str,
    branch: str,
    started_by: str,
    state: BuildState,
    config: BuilderConfig,
) -> int | None:
    """A new running build; None when this issue already has an active build."""
    try:
        return await conn.fetchval(  # type: ignore[no-any-return]
            """INSERT INTO builds (installation_id, repository_id, owner, repo, default_branch, issue_number,
                                   contracts_pull, contracts_branch, branch, started_by, state, config)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
               RETURNING id""",
            installation_id,
            repository_id,
            owner,
            repo,
            default_branch,
            issue_number,
            contracts_pull,
            contracts_branch,
            branch,
            started_by,
            state.to_json(),
            config.to_json(),
        )
    except asyncpg.UniqueViolationError:
        return None


async def load(conn: Executor, build_id: int, *, for_update: bool = False) -> BuildRow | None:
    lock = " FOR UPDATE" if for_update else ""
    record = await conn.fetchrow(f"SELECT {_COLUMNS} FROM builds WHERE id = $1{lock}", build_id)  # noqa: S608
    return _row(record)


async def save(
    conn: Executor,
    build: BuildRow,
    *,
    status: str | None = None,
    end_reason: str | None = None,
) -> bool:
    """Store the build's state as step `build.seq + 1`; False when another step already saved that seq."""
    new_status = status or build.status
    done = await conn.fetchval(
        """UPDATE builds SET state = $3, seq = seq + 1, status = $4, updated_at = now(), stepped_at = now(),
                  end_reason = coalesce($5, end_reason),
                  paused_at = CASE WHEN $4 = 'paused' THEN coalesce(paused_at, now()) ELSE NULL END,
                  finished_at = CASE WHEN $4 IN ('running', 'paused') THEN NULL
                                     ELSE coalesce(finished_at, now()) END
           WHERE id = $1 AND seq = $2
           RETURNING seq""",
        build.id,
        build.seq,
        build.state.to_json(),
        new_status,
        end_reason,
    )
    if done is None:
        return False
    build.seq = int(done)
    build.status = new_status
    return True


async def set_pull(conn: Executor, build_id: int, pull_number: int) -> None:
    await conn.execute("UPDATE builds SET pull_number = $2 WHERE id = $1", build_id, pull_number)


async def active_for_issue(conn: Executor, repository_id: int, issue_number: int) -> BuildRow | None:
    record = await conn.fetchrow(
        f"""SELECT {_COLUMNS} FROM builds
            WHERE repository_id = $1 AND issue_number = $2 AND status IN ('running', 'paused')""",  # noqa: S608
        repository_id,
        issue_number,
    )
    return _row(record)


async def latest_for_issue(conn: Executor, repository_id: int, issue_number: int) -> BuildRow | None:
    record = await conn.fetchrow(
        f"""SELECT {_COLUMNS} FROM builds WHERE repository_id = $1 AND issue_number = $2
            ORDER BY id DESC LIMIT 1""",  # noqa: S608
        repository_id,
        issue_number,
    )
    return _row(record)


async def by_pull(conn: Executor, repository_id: int, pull_number: int) -> BuildRow | None:
    """The build whose pull request this is."""
    record = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM builds WHERE repository_id = $1 AND pull_number = $2",  # noqa: S608
        repository_id,
        pull_number,
    )
    return _row(record)


async def running_in_repository(conn: Executor, repository_id: int) -> BuildRow | None:
    """The repository's running build (at most one runs at a time), if any."""
    record = await conn.fetchrow(
        f"""SELECT {_COLUMNS} FROM builds WHERE repository_id = $1 AND status = 'running'
            ORDER BY id LIMIT 1""",  # noqa: S608
        repository_id,
    )
    return _row(record)


async def started_in_last_hour(conn: Executor, installation_id: int) -> int:
    return int(
        await conn.fetchval(
            """SELECT count(*) FROM builds
               WHERE installation_id = $1 AND created_at > now() - interval '1 hour'""",
            installation_id,
        )
    )


async def request_cancel(conn: Executor, build_id: int, reason: str) -> None:
    """The build stops at its next step, `cancelled` with `reason` (the first reason asked for stays)."""
    await conn.execute(
        "UPDATE builds SET cancel_reason = coalesce(cancel_reason, $2) WHERE id = $1",
        build_id,
        reason,
    )


async def request_abort(conn: Executor, build_id: int, login: str) -> None:
    await conn.execute("UPDATE builds SET abort_requested = $2 WHERE id = $1", build_id, login)


# --- interjections ------------------------------------------------------------------------


@dataclass(frozen=True)
class Interjection:
    id: int
    login: str
    message: str
    comment_id: int


async def add_interjection(conn: Executor, build_id: int, login: str, comment_id: int, message: str) -> int:
    return int(
        await conn.fetchval(
            """INSERT INTO build_interjections (build_id, login, comment_id, message) VALUES ($1, $2, $3, $4)
               RETURNING id""",
            build_id,
            login,
            comment_id,
            message,
        )
    )


async def pending_interjections(conn: Executor, build_id: int) -> list[Interjection]:
    rows = await conn.fetch(
        """SELECT id, login, message, comment_id FROM build_interjections
           WHERE build_id = $1 AND delivered_at IS NULL ORDER BY id""",
        build_id,
    )
    return [Interjection(r["id"], r["login"], r["message"], r["comment_id"]) for r in rows]


async def mark_delivered(conn: Executor, ids: list[int], phase: int | None) -> None:
    await conn.execute(
        "UPDATE build_interjections SET delivered_at = now(), phase = $2 WHERE id = ANY($1::bigint[])",
        ids,
        phase,
    )


# --- the tool log -------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolCall:
    phase: int
    attempt: int
    tool: str
    input_summary: str
    result_summary: str
    duration_ms: int
    error: str | None


async def log_tool_call(conn: Executor, build_id: int, call: ToolCall) -> None:
    await conn.execute(
        """INSERT INTO build_tool_calls (build_id, phase, attempt, tool, input_summary, result_summary,
                                         duration_ms, error)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        build_id,
        call.phase,
        call.attempt,
        call.tool,
        call.input_summary[:500],
        call.result_summary[:500],
        call.duration_ms,
        None if call.error is None else call.error[:500],
    )


async def recent_tool_calls(conn: Executor, build_id: int, limit: int = 8) -> list[ToolCall]:
    rows = await conn.fetch(
        """SELECT phase, attempt, tool, input_summary, result_summary, duration_ms, error
           FROM build_tool_calls WHERE build_id = $1 ORDER BY id DESC LIMIT $2""",
        build_id,
        limit,
    )
    return [ToolCall(**dict(r)) for r in reversed(rows)]


async def tool_counts(conn: Executor, build_id: int) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT tool, count(*) AS n FROM build_tool_calls WHERE build_id = $1 GROUP BY tool ORDER BY tool",
        build_id,
    )
    return {r["tool"]: int(r["n"]) for r in rows}


# --- uncommitted files --------------------------------------------------------------------


async def save_files(conn: Executor, build_id: int, pending: dict[str, bytes | None]) -> None:
    """The files written or deleted since the branch head, replacing what was saved before."""
    await conn.execute("DELETE FROM build_files WHERE build_id = $1", build_id)
    if pending:
        await conn.executemany(
            "INSERT INTO build_files (build_id, path, content, deleted) VALUES ($1, $2, $3, $4)",
            [(build_id, path, data, data is None) for path, data in sorted(pending.items())],
        )


async def load_files(conn: Executor, build_id: int) -> dict[str, bytes | None]:
    rows = await conn.fetch("SELECT path, content, deleted FROM build_files WHERE build_id = $1", build_id)
    return {r["path"]: None if r["deleted"] else bytes(r["content"]) for r in rows}


# --- commits ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildCommit:
    phase: int
    attempt: int
    kind: str
    parent_sha: str
    tree_sha: str
    commit_sha: str | None
    check_run_id: int | None
    audit_id: int | None
    conclusion: str | None
    ref: str | None


_COMMIT_COLUMNS = (
    "phase, attempt, kind, parent_sha, tree_sha, commit_sha, check_run_id, audit_id, conclusion, ref"
)


async def find_commit(
    conn: Executor, build_id: int, phase: int, attempt: int, kind: str
) -> BuildCommit | None:
    record = await conn.fetchrow(
        f"""SELECT {_COMMIT_COLUMNS}
           FROM build_commits WHERE build_id = $1 AND phase = $2 AND attempt = $3 AND kind = $4""",  # noqa: S608
        build_id,
        phase,
        attempt,
        kind,
    )
    return None if record is None else BuildCommit(**dict(record))


async def record_tree(
    conn: Executor,
    build_id: int,
    *,
    phase: int,
    attempt: int,
    kind: str,
    owner: str,
    repo: str,
    parent_sha: str,
    tree_sha: str,
) -> None:
    """The tree of a commit about to be made (a tree made again replaces it while no commit exists)."""
    await conn.execute(
        """INSERT INTO build_commits (build_id, phase, attempt, kind, owner, repo, parent_sha, tree_sha)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (build_id, phase, attempt, kind) DO UPDATE
               SET tree_sha = EXCLUDED.tree_sha, parent_sha = EXCLUDED.parent_sha
               WHERE build_commits.commit_sha IS NULL""",
        build_id,
        phase,
        attempt,
        kind,
        owner,
        repo,
        parent_sha,
        tree_sha,
    )


async def record_commit(conn: Executor, build_id: int, phase: int, attempt: int, kind: str, sha: str) -> None:
    """The commit is made: recorded before any ref points at it."""
    await conn.execute(
        """UPDATE build_commits SET commit_sha = $5
           WHERE build_id = $1 AND phase = $2 AND attempt = $3 AND kind = $4""",
        build_id,
        phase,
        attempt,
        kind,
        sha,
    )


async def record_check_run(
    conn: Executor,
    build_id: int,
    phase: int,
    attempt: int,
    *,
    check_run_id: int,
    conclusion: str,
    audit_id: int | None,
) -> None:
    await conn.execute(
        """UPDATE build_commits SET check_run_id = $4, conclusion = $5, audit_id = $6
           WHERE build_id = $1 AND phase = $2 AND attempt = $3 AND kind = 'attempt'""",
        build_id,
        phase,
        attempt,
        check_run_id,
        conclusion,
        audit_id,
    )


async def record_ref(conn: Executor, build_id: int, phase: int, attempt: int, kind: str, ref: str) -> None:
    await conn.execute(
        """UPDATE build_commits SET ref = $5
           WHERE build_id = $1 AND phase = $2 AND attempt = $3 AND kind = $4""",
        build_id,
        phase,
        attempt,
        kind,
        ref,
    )


async def commits_of(conn: Executor, build_id: int) -> list[BuildCommit]:
    rows = await conn.fetch(
        f"""SELECT {_COMMIT_COLUMNS}
           FROM build_commits WHERE build_id = $1 ORDER BY created_at, phase, attempt, kind""",  # noqa: S608
        build_id,
    )
    return [BuildCommit(**dict(r)) for r in rows]


# --- the watchdog -------------------------------------------------------------------------


async def stalled_running(conn: Executor, older_than_seconds: float) -> list[int]:
    """Running builds with no unfinished step job whose last step is older than the limit."""
    rows = await conn.fetch(
        """SELECT b.id FROM builds b
           WHERE b.status = 'running' AND b.stepped_at < now() - make_interval(secs => $1)
             AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.order_key = 'build:' || b.id
                             AND j.status NOT IN ('succeeded', 'failed'))
           ORDER BY b.id""",
        float(older_than_seconds),
    )
    return [int(r["id"]) for r in rows]


async def paused_builds(conn: Executor) -> list[int]:
    rows = await conn.fetch("SELECT id FROM builds WHERE status = 'paused' ORDER BY id")
    return [int(r["id"]) for r in rows]


async def build_cost(conn: Executor, build_id: int) -> float:
    """Everything the build's model calls cost so far (builder and planner)."""
    value = await conn.fetchval(
        "SELECT coalesce(sum(cost_usd), 0) FROM llm_calls WHERE build_id = $1", build_id
    )
    return float(value or 0)
