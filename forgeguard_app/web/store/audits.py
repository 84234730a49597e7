"""What the status site's pages read, as plain data: one query per list (no query per row).

Every read that returns private rows is joined with `web_access_repositories`
for the viewer, so a page can only list what GitHub said the viewer may see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from forgeguard_app.db import MAX_ID, Executor

PAGE_SIZE = 50
RECENT = 10


@dataclass(frozen=True)
class AuditLine:
    """One audit in a list."""

    id: int
    owner: str
    repo: str
    head_sha: str
    branch: str | None
    pull_number: int | None
    status: str
    conclusion: str | None
    title: str | None
    error: str | None
    created_at: datetime

    @property
    def state(self) -> str:
        """What the audit came to: its conclusion, `failed` when it ended in an error, else its status."""
        return audit_state(self.status, self.conclusion, self.error)

    @property
    def short_sha(self) -> str:
        return self.head_sha[:7]


def audit_state(status: str, conclusion: str | None, error: str | None) -> str:
    if status == "completed":
        return conclusion or "completed"
    if error:
        return "failed"
    return status.replace("_", " ")


def badge(conclusion: str | None, title: str | None) -> str:
    """The health badge of a repository from its default branch's last completed audit."""
    if conclusion is None:
        return "none"
    if conclusion == "failure":
        return "red"
    if conclusion == "success":
        return "yellow" if title and "warning" in title else "green"
    return "grey"


@dataclass(frozen=True)
class RepositoryLine:
    installation_id: int
    account_login: str
    owner: str
    repo: str
    default_branch: str | None
    private: bool
    last_audit_id: int | None
    conclusion: str | None
    title: str | None

    @property
    def badge(self) -> str:
        return badge(self.conclusion, self.title)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"


@dataclass(frozen=True)
class IntakeLine:
    id: int
    owner: str
    repo: str
    issue_number: int
    title: str
    status: str


def _audit(row: Any) -> AuditLine:
    return AuditLine(*row)


async def repositories(conn: Executor, user_id: int) -> list[RepositoryLine]:
    """The viewer's repositories, each with the last completed audit of its default branch."""
    rows = await conn.fetch(
        """SELECT r.installation_id, i.account_login, r.owner, r.repo, r.default_branch, r.private,
                  last.id, last.conclusion, last.title
           FROM web_access_repositories r
           JOIN web_access_installations i USING (user_id, installation_id)
           LEFT JOIN LATERAL (
               SELECT a.id, a.conclusion, a.title FROM audit_runs a
               WHERE lower(a.owner) = lower(r.owner) AND lower(a.repo) = lower(r.repo)
                 AND a.branch = r.default_branch AND a.pull_number IS NULL
                 AND a.installation_id = r.installation_id AND a.status = 'completed'
               ORDER BY a.id DESC LIMIT 1
           ) last ON true
           WHERE r.user_id = $1
           ORDER BY lower(i.account_login), lower(r.owner), lower(r.repo)""",
        user_id,
    )
    return [RepositoryLine(*row) for row in rows]


async def recent_audits(conn: Executor, user_id: int, limit: int = RECENT) -> list[AuditLine]:
    """The newest audits across the viewer's repositories."""
    rows = await conn.fetch(
        """SELECT a.* FROM web_access_repositories r
            CROSS JOIN LATERAL (
                SELECT a.id, a.owner, a.repo, a.head_sha, a.branch, a.pull_number, a.status, a.conclusion,
                       a.title, a.error, a.created_at
                FROM audit_runs a
                WHERE lower(a.owner) = lower(r.owner) AND lower(a.repo) = lower(r.repo)
                  AND a.installation_id = r.installation_id
                ORDER BY a.id DESC LIMIT $2
            ) a
            WHERE r.user_id = $1
            ORDER BY a.id DESC LIMIT $2""",
        user_id,
        limit,
    )
    return [_audit(row) for row in rows]


async def active_intakes(conn: Executor, user_id: int) -> list[IntakeLine]:
    rows = await conn.fetch(
        """SELECT n.id, r.owner, r.repo, n.issue_number, n.title, n.status
           FROM intakes n
           JOIN web_access_repositories r
             ON r.user_id = $1 AND r.repository_id = n.repository_id AND r.installation_id = n.installation_id
           WHERE n.status IN ('active', 'waiting_model', 'contracts_open')
           ORDER BY n.updated_at DESC LIMIT 20""",
        user_id,
    )
    return [IntakeLine(*row) for row in rows]


async def timeline(
    conn: Executor, installation_id: int, owner: str, repo: str, before: int | None, size: int = PAGE_SIZE
) -> tuple[list[AuditLine], int | None]:
    """One page of a repository's audits, newest first, and the id to continue before (or None)."""
    rows = await conn.fetch(
        """SELECT a.id, a.owner, a.repo, a.head_sha, a.branch, a.pull_number, a.status, a.conclusion,
                  a.title, a.error, a.created_at
           FROM audit_runs a
           WHERE lower(a.owner) = lower($1) AND lower(a.repo) = lower($2) AND a.installation_id = $3
              AND a.id < $4
            ORDER BY a.id DESC LIMIT $5""",
        owner,
        repo,
        installation_id,
        min(before or MAX_ID, MAX_ID),
        size + 1,
    )
    lines = [_audit(row) for row in rows[:size]]
    return lines, (lines[-1].id if len(rows) > size else None)


@dataclass(frozen=True)
class FindingLine:
    path: str
    start_line: int | None
    end_line: int | None
    level: str
    message: str
    url: str


@dataclass(frozen=True)
class CheckDetail:
    code: str
    name: str
    severity: str
    outcome: str
    detail: str
    findings: list[FindingLine]


@dataclass(frozen=True)
class AuditDetail:
    line: AuditLine
    installation_id: int
    base_sha: str | None
    reason: str
    files: int | None
    api_calls: int | None
    completed_at: datetime | None
    checks: list[CheckDetail]


def line_url(
    github_url: str, owner: str, repo: str, sha: str, path: str, start: int | None, end: int | None
) -> str:
    """The file (and lines) at the audited commit on GitHub."""
    url = f"{github_url.rstrip('/')}/{quote(owner)}/{quote(repo)}/blob/{sha}/{quote(path)}"
    if start is not None:
        url += f"#L{start}" + (f"-L{end}" if end is not None and end != start else "")
    return url


async def audit_owner(conn: Executor, audit_id: int) -> tuple[int, str, str] | None:
    """(installation_id, owner, repo) of an audit: what the access rule is applied to."""
    if not 0 < audit_id <= MAX_ID:
        return None
    row = await conn.fetchrow("SELECT installation_id, owner, repo FROM audit_runs WHERE id = $1", audit_id)
    return (row[0], row[1], row[2]) if row is not None else None


async def audit_detail(conn: Executor, github_url: str, audit_id: int) -> AuditDetail | None:
    row = await conn.fetchrow(
        """SELECT a.id, a.owner, a.repo, a.head_sha, a.branch, a.pull_number, a.status, a.conclusion,
                  a.title, a.error, a.created_at, a.installation_id, a.base_sha, a.reason, a.files,
                  a.api_calls, a.completed_at
            FROM audit_runs a WHERE a.id = $1""",
        audit_id,
    )
    if row is None:
        return None
    line = _audit(list(row)[:11])
    checks = await conn.fetch(
        "SELECT code, name, severity, outcome, detail FROM check_results"
        " WHERE audit_id = $1 ORDER BY position",
        audit_id,
    )
    findings = await conn.fetch(
        "SELECT code, path, start_line, end_line, level, message FROM findings"
        " WHERE audit_id = $1 ORDER BY id",
        audit_id,
    )
    by_code: dict[str, list[FindingLine]] = {}
    for f in findings:
        url = line_url(
            github_url, line.owner, line.repo, line.head_sha, f["path"], f["start_line"], f["end_line"]
        )
        by_code.setdefault(f["code"], []).append(
            FindingLine(f["path"], f["start_line"], f["end_line"], f["level"], f["message"], url)
        )
    return AuditDetail(
        line=line,
        installation_id=row["installation_id"],
        base_sha=row["base_sha"],
        reason=row["reason"],
        files=row["files"],
        api_calls=row["api_calls"],
        completed_at=row["completed_at"],
        checks=[
            CheckDetail(
                code=c["code"],
                name=c["name"],
                severity=c["severity"],
                outcome=c["outcome"],
                detail=c["detail"],
                findings=by_code.get(c["code"], []),
            )
            for c in checks
        ],
    )
