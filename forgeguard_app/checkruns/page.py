"""`GET /audits/{id}`: the page a check run's "Details" link opens.

People who signed in and may see the repository get the full report
(`web.pages.full_audit_report`); everyone else sees nothing private: no
repository name, no paths, no finding text; only the audit's state,
conclusion, title (check codes) and the outcome of each of the twelve checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from forgeguard_app.db import parse_id
from forgeguard_app.web import pages
from forgeguard_app.web.state import state_of
from forgeguard_app.web.templating import render


@dataclass(frozen=True)
class CheckRow:
    code: str
    name: str
    severity: str
    outcome: str


@dataclass(frozen=True)
class AuditPage:
    """What the page shows of one audit."""

    id: int
    status: str
    conclusion: str | None
    title: str | None
    reason: str
    created_at: datetime
    completed_at: datetime | None
    files: int | None
    api_calls: int | None
    checks: list[CheckRow]

    @property
    def seconds(self) -> float | None:
        if self.completed_at is None:
            return None
        return round((self.completed_at - self.created_at).total_seconds(), 2)


def audit_page(row: Any, checks: list[Any]) -> AuditPage:
    """The page's content from an audit_runs row and its check_results rows."""
    return AuditPage(
        id=row["id"],
        status=row["status"],
        conclusion=row["conclusion"],
        title=row["title"],
        reason=row["reason"],
        created_at=row["created_at"],
        completed_at=row["completed_at"],
        files=row["files"],
        api_calls=row["api_calls"],
        checks=[CheckRow(c["code"], c["name"], c["severity"], c["outcome"]) for c in checks],
    )


async def audit_handler(request: web.Request) -> web.StreamResponse:
    audit_id = parse_id(request.match_info["id"])
    if audit_id is None:
        raise web.HTTPNotFound(text="no such audit")
    # People GitHub lets see the repository get the whole report (the status site's rule).
    full = await pages.full_audit_report(request, audit_id)
    if full is not None:
        return full
    pool = state_of(request).db.pool
    row = await pool.fetchrow(
        """SELECT id, status, conclusion, title, reason, created_at, completed_at, files, api_calls
           FROM audit_runs WHERE id = $1""",
        audit_id,
    )
    if row is None:
        return render("checkruns/audit.html", status=404, audit=None, audit_id=audit_id)
    checks = await pool.fetch(
        "SELECT code, name, severity, outcome FROM check_results WHERE audit_id = $1 ORDER BY position",
        audit_id,
    )
    return render("checkruns/audit.html", audit=audit_page(row, list(checks)), audit_id=audit_id)


def add_routes(app: web.Application) -> None:
    app.router.add_get(r"/audits/{id:\d+}", audit_handler)
