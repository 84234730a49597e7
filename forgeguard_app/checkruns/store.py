"""SQL for audits: audit_runs, their check runs, check_results, findings, and head sha → pull request.

Every function takes an asyncpg connection (or pool) so callers choose the
transaction; none of them talks to GitHub.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checks.model import AuditReport
from forgeguard_app.checkruns.decide import AuditRequest, PullRequestHead
from forgeguard_app.db import Executor


@dataclass(frozen=True)
class AuditRow:
    """One row of audit_runs, as the job reads it."""

    id: int
    installation_id: int
    owner: str
    repo: str
    head_sha: str
    base: str | None
    base_sha: str | None
    pull_number: int | None
    branch: str | None
    default_branch: str | None
    reason: str
    status: str
    conclusion: str | None
    title: str | None
    attempts: int
    api_calls: int | None
    error: str | None
    requeues: int = 0

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"


def _row(record: Any) -> AuditRow:
    return AuditRow(**{key: record[key] for key in AuditRow.__dataclass_fields__})


async def create_audit(conn: Executor, request: AuditRequest) -> int | None:
    """A queued audit for `request`; None when an automatic audit of the same change already exists."""
    return await conn.fetchval(  # type: ignore[no-any-return]
        """INSERT INTO audit_runs (installation_id, owner, repo, head_sha, base, pull_number, branch,
                                   default_branch, reason, dedupe_key)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (dedupe_key) DO NOTHING
           RETURNING id""",
        request.installation_id,
        request.owner,
        request.repo,
        request.head_sha,
        request.base,
        request.pull_number,
        request.branch,
        request.default_branch,
        request.reason,
        request.dedupe_key,
    )


async def load_audit(conn: Executor, audit_id: int) -> AuditRow | None:
    record = await conn.fetchrow("SELECT * FROM audit_runs WHERE id = $1", audit_id)
    return None if record is None else _row(record)


async def start_audit(conn: Executor, audit_id: int, base_sha: str | None = None) -> None:
    """Mark the audit in progress and count the attempt."""
    await conn.execute(
        """UPDATE audit_runs SET status = 'in_progress', attempts = attempts + 1,
                  started_at = coalesce(started_at, now()), base_sha = coalesce($2, base_sha)
           WHERE id = $1 AND status <> 'completed'""",
        audit_id,
        base_sha,
    )


async def check_runs_of(conn: Executor, audit_id: int) -> dict[str, int]:
    """The GitHub check runs this audit created, by name (a retried job reuses them)."""
    rows = await conn.fetch(
        "SELECT name, check_run_id FROM audit_check_runs WHERE audit_id = $1 ORDER BY created_at, name",
        audit_id,
    )
    return {r["name"]: r["check_run_id"] for r in rows}


async def open_check_runs_of(conn: Executor, audit_id: int) -> dict[str, int]:
    """The audit's check runs not yet completed."""
    rows = await conn.fetch(
        """SELECT name, check_run_id FROM audit_check_runs
           WHERE audit_id = $1 AND status = 'in_progress' ORDER BY created_at, name""",
        audit_id,
    )
    return {r["name"]: r["check_run_id"] for r in rows}


async def add_check_run(conn: Executor, audit_id: int, name: str, check_run_id: int) -> None:
    await conn.execute(
        """INSERT INTO audit_check_runs (audit_id, name, check_run_id) VALUES ($1, $2, $3)
           ON CONFLICT (audit_id, name) DO UPDATE SET check_run_id = EXCLUDED.check_run_id""",
        audit_id,
        name,
        check_run_id,
    )


async def complete_check_run(conn: Executor, audit_id: int, name: str, conclusion: str) -> None:
    await conn.execute(
        """UPDATE audit_check_runs SET status = 'completed', conclusion = $3, completed_at = now()
           WHERE audit_id = $1 AND name = $2""",
        audit_id,
        name,
        conclusion,
    )


async def audit_for_check_run(conn: Executor, check_run_id: int) -> AuditRow | None:
    """The audit that created GitHub check run `check_run_id`."""
    record = await conn.fetchrow(
        """SELECT * FROM audit_runs WHERE id = (
                SELECT audit_id FROM audit_check_runs WHERE check_run_id = $1 LIMIT 1)""",
        check_run_id,
    )
    return None if record is None else _row(record)


async def save_report(
    conn: Executor,
    audit_id: int,
    report: AuditReport,
    *,
    report_mode: str,
) -> None:
    """The results and findings of an audit (replacing those of an earlier attempt)."""
    await conn.execute("DELETE FROM check_results WHERE audit_id = $1", audit_id)
    await conn.execute("DELETE FROM findings WHERE audit_id = $1", audit_id)
    await conn.executemany(
        """INSERT INTO check_results (audit_id, position, code, name, severity, outcome, detail)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        [
            (audit_id, i, r.code, r.name, r.severity, r.outcome, r.detail)
            for i, r in enumerate(report.results)
        ],
    )
    await conn.executemany(
        """INSERT INTO findings (audit_id, code, path, start_line, end_line, level, message)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        [
            (audit_id, r.code, f.path, f.start_line, f.end_line, f.level, f.message)
            for r in report.results
            for f in r.findings
        ],
    )
    await conn.execute(
        """UPDATE audit_runs SET governed = $2, files = $3, report_mode = $4, base_sha = $5,
                  report = $6
           WHERE id = $1""",
        audit_id,
        report.governed,
        report.files,
        report_mode,
        report.base,
        report.to_json(),
    )


async def finish_audit(
    conn: Executor,
    audit_id: int,
    *,
    conclusion: str,
    title: str,
    api_calls: int | None,
    error: str | None = None,
) -> None:
    """The audit is over: its conclusion (what the status page counts), title and cost."""
    await conn.execute(
        """UPDATE audit_runs SET status = 'completed', conclusion = $2, title = $3, api_calls = $4,
                  error = $5, completed_at = now()
           WHERE id = $1""",
        audit_id,
        conclusion,
        title,
        api_calls,
        error,
    )


async def record_error(conn: Executor, audit_id: int, error: str) -> None:
    await conn.execute("UPDATE audit_runs SET error = $2 WHERE id = $1", audit_id, error)


async def stuck_audits(conn: Executor, older_than_seconds: float) -> list[AuditRow]:
    """Audits started (or queued) more than `older_than_seconds` ago and still not completed."""
    rows = await conn.fetch(
        """SELECT * FROM audit_runs
            WHERE status <> 'completed'
              AND coalesce(started_at, created_at) < now() - make_interval(secs => $1)
            ORDER BY id""",
        float(older_than_seconds),
    )
    return [_row(r) for r in rows]


async def has_live_job(conn: Executor, audit_id: int) -> bool:
    """Whether a job for this audit is still to run (queued, blocked, running or waiting to retry)."""
    return bool(
        await conn.fetchval(
            """SELECT true FROM jobs
               WHERE kind = 'audit' AND payload->>'audit_id' = $1::bigint::text
                 AND status NOT IN ('succeeded', 'failed')
               LIMIT 1""",
            audit_id,
        )
    )


async def count_requeue(conn: Executor, audit_id: int) -> None:
    await conn.execute(
        "UPDATE audit_runs SET requeues = requeues + 1, status = 'queued', started_at = now() WHERE id = $1",
        audit_id,
    )


async def troubled_audits(conn: Executor, within_seconds: float, limit: int = 50) -> list[AuditRow]:
    """Audits completed lately after trouble (errors, retries) whose head was not yet checked for orphans."""
    rows = await conn.fetch(
        """SELECT * FROM audit_runs
            WHERE status = 'completed' AND orphans_checked_at IS NULL
              AND (error IS NOT NULL OR attempts > 1 OR requeues > 0)
              AND completed_at > now() - make_interval(secs => $1)
            ORDER BY completed_at LIMIT $2""",
        float(within_seconds),
        limit,
    )
    return [_row(r) for r in rows]


async def mark_orphans_checked(conn: Executor, audit_id: int) -> None:
    await conn.execute("UPDATE audit_runs SET orphans_checked_at = now() WHERE id = $1", audit_id)


async def live_check_run_ids(conn: Executor, check_run_ids: list[int]) -> set[int]:
    """Of these GitHub runs, those an unfinished audit still owns (its job will complete them)."""
    rows = await conn.fetch(
        """SELECT c.check_run_id FROM audit_check_runs c JOIN audit_runs a ON a.id = c.audit_id
           WHERE c.check_run_id = ANY($1::bigint[]) AND c.status = 'in_progress'
             AND a.status <> 'completed'""",
        check_run_ids,
    )
    return {r["check_run_id"] for r in rows}


async def record_pull_request_head(conn: Executor, head: PullRequestHead) -> None:
    """Remember that `head.head_sha` is the head of pull request `head.pull_number`."""
    await conn.execute(
        """INSERT INTO pull_request_heads (owner, repo, head_sha, pull_number, base_sha, base_ref, head_repo)
           VALUES (lower($1), lower($2), $3, $4, $5, $6, $7)
           ON CONFLICT (owner, repo, head_sha, pull_number)
           DO UPDATE SET base_sha = EXCLUDED.base_sha, base_ref = EXCLUDED.base_ref,
                         head_repo = EXCLUDED.head_repo, updated_at = now()""",
        head.owner,
        head.repo,
        head.head_sha,
        head.pull_number,
        head.base_sha,
        head.base_ref,
        head.head_repo,
    )


async def pull_request_for_head(
    conn: Executor, owner: str, repo: str, head_sha: str, pull_number: int | None = None
) -> PullRequestHead | None:
    """The pull request whose head is `head_sha` (the most recently seen, or the one numbered)."""
    record = await conn.fetchrow(
        """SELECT owner, repo, head_sha, pull_number, base_sha, base_ref, head_repo
           FROM pull_request_heads
           WHERE owner = lower($1) AND repo = lower($2) AND head_sha = $3
             AND ($4::integer IS NULL OR pull_number = $4)
           ORDER BY updated_at DESC LIMIT 1""",
        owner,
        repo,
        head_sha,
        pull_number,
    )
    if record is None:
        return None
    return PullRequestHead(**{key: record[key] for key in PullRequestHead.__dataclass_fields__})


async def known_default_branch(conn: Executor, owner: str, repo: str) -> str | None:
    """The default branch named by the latest delivery about this repository that we audited."""
    return await conn.fetchval(  # type: ignore[no-any-return]
        """SELECT default_branch FROM audit_runs
           WHERE lower(owner) = lower($1) AND lower(repo) = lower($2) AND default_branch IS NOT NULL
           ORDER BY id DESC LIMIT 1""",
        owner,
        repo,
    )


async def pull_request_audit_of_head(conn: Executor, owner: str, repo: str, head_sha: str) -> int | None:
    """The pull request number of an audit of `head_sha` that compares with a pull request's base."""
    return await conn.fetchval(  # type: ignore[no-any-return]
        """SELECT pull_number FROM audit_runs
           WHERE lower(owner) = lower($1) AND lower(repo) = lower($2) AND head_sha = $3
             AND pull_number IS NOT NULL
           ORDER BY id DESC LIMIT 1""",
        owner,
        repo,
        head_sha,
    )


async def take_over_check_run(
    conn: Executor, audit_id: int, owner: str, repo: str, head_sha: str, name: str
) -> int | None:
    """Move a push audit's in-progress run `name` on `head_sha` to audit `audit_id`; its GitHub id.

    A pull request audit and a push audit of one head commit then share one
    run (GitHub cannot reopen a completed run, so only one still in progress
    can be shared); the push audit no longer owns it and does not publish.
    """
    return await conn.fetchval(  # type: ignore[no-any-return]
        """UPDATE audit_check_runs SET audit_id = $1
           WHERE (audit_id, name) = (
               SELECT c.audit_id, c.name FROM audit_check_runs c JOIN audit_runs a ON a.id = c.audit_id
               WHERE lower(a.owner) = lower($2) AND lower(a.repo) = lower($3) AND a.head_sha = $4
                 AND c.name = $5 AND c.status = 'in_progress' AND a.id <> $1 AND a.pull_number IS NULL
               ORDER BY c.created_at DESC LIMIT 1
               FOR UPDATE OF c)
           RETURNING check_run_id""",
        audit_id,
        owner,
        repo,
        head_sha,
        name,
    )


async def owns_check_run(conn: Executor, audit_id: int, name: str) -> bool:
    """False once a pull request audit of the same head took the run over."""
    return bool(
        await conn.fetchval(
            "SELECT true FROM audit_check_runs WHERE audit_id = $1 AND name = $2 AND status = 'in_progress'",
            audit_id,
            name,
        )
    )


async def audited_by_builder(conn: Executor, owner: str, repo: str, sha: str) -> bool:
    """The builder already created this commit's `ForgeGuard` check run (push/PR events leave it alone).

    Reads the builder's `build_commits` (migration 040) by SQL rather than through
    `builder.store`, so the audit feature does not import the builder (and, through
    it, the intake): the layers in pyproject's import-linter contracts.
    """
    return bool(
        await conn.fetchval(
            """SELECT true FROM build_commits
               WHERE lower(owner) = lower($1) AND lower(repo) = lower($2) AND commit_sha = $3
                 AND check_run_id IS NOT NULL LIMIT 1""",
            owner,
            repo,
            sha,
        )
    )
