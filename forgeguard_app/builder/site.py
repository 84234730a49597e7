"""The builder's `BuildSource` for the status site: what `/builds/{id}` and the dashboard show of builds.

The site applies its access rule (sign-in, `access.may_see`) and renders; this
module only reads the builder's tables into the site's plain views.
"""

from __future__ import annotations

from forgeguard_app.builder import store
from forgeguard_app.builder.costs import build_costs
from forgeguard_app.db import Executor
from forgeguard_app.web.builds import (
    AttemptView,
    BuildLine,
    BuildView,
    InterjectionView,
    PhaseView,
    ToolCallView,
)

STATUS = {"succeeded": "passed", "draft": "passed", "timed_out": "failed"}
PHASE_STATUS = {"running": "active", "paused": "active"}


class BuilderSource:
    """`web.builds.BuildSource` over the builder's store."""

    def __init__(self, github_url: str = "https://github.com") -> None:
        self.github_url = github_url.rstrip("/")

    async def build_view(self, conn: Executor, build_id: int) -> BuildView | None:
        build = await store.load(conn, build_id)
        if build is None:
            return None
        costs = await build_costs(conn, build_id)
        repo_url = f"{self.github_url}/{build.owner}/{build.repo}"
        state = build.state
        phases = []
        for phase in state.phases:
            cost = costs.phase(phase.number)
            phases.append(
                PhaseView(
                    number=phase.number,
                    name=phase.name,
                    status=PHASE_STATUS.get(phase.status, phase.status),
                    attempts=[
                        AttemptView(
                            number=a.number,
                            conclusion=a.conclusion,
                            commit_sha=a.sha,
                            commit_url=f"{repo_url}/commit/{a.sha}",
                            check_run_url=f"{repo_url}/runs/{a.check_run_id}" if a.check_run_id else None,
                        )
                        for a in phase.attempts
                    ],
                    cost_usd=float(cost.total_usd),
                    input_tokens=cost.usage.total_input_tokens,
                    output_tokens=cost.usage.output_tokens,
                )
            )
        rows = await conn.fetch(
            """SELECT created_at, phase, tool, input_summary, result_summary, duration_ms, error
               FROM build_tool_calls WHERE build_id = $1 ORDER BY id DESC LIMIT 200""",
            build_id,
        )
        said = await conn.fetch(
            "SELECT created_at, login, message FROM build_interjections WHERE build_id = $1 ORDER BY id",
            build_id,
        )
        current = state.phase
        return BuildView(
            id=build.id,
            installation_id=build.installation_id,
            owner=build.owner,
            repo=build.repo,
            issue_number=build.issue_number,
            status=STATUS.get(build.status, build.status),
            current_phase=current.number if current else None,
            branch=build.branch,
            pull_number=build.pull_number,
            pull_url=f"{repo_url}/pull/{build.pull_number}" if build.pull_number else None,
            started_at=build.created_at,
            finished_at=build.finished_at,
            phases=phases,
            plan=[t.text for t in current.plan] if current else [],
            tool_log=[
                ToolCallView(
                    at=r["created_at"],
                    phase=r["phase"],
                    tool=r["tool"],
                    summary=f"{r['input_summary']} → {r['error'] or r['result_summary']}",
                    is_error=r["error"] is not None,
                    duration_ms=r["duration_ms"],
                )
                for r in reversed(rows)
            ],
            interjections=[InterjectionView(r["created_at"], r["login"], r["message"]) for r in said],
            last_error=build.end_reason if build.status == "failed" else None,
        )

    async def active_builds(
        self, conn: Executor, repositories: list[tuple[int, str, str]]
    ) -> list[BuildLine]:
        if not repositories:
            return []
        rows = await conn.fetch(
            """SELECT id, installation_id, owner, repo, issue_number, status, state
               FROM builds WHERE status IN ('running', 'paused') ORDER BY id DESC"""
        )
        wanted = {(i, o.lower(), r.lower()) for i, o, r in repositories}
        lines = []
        for row in rows:
            if (row["installation_id"], row["owner"].lower(), row["repo"].lower()) not in wanted:
                continue
            phases = row["state"].get("phases", [])
            current = row["state"].get("current", 0)
            number = phases[current]["number"] if 0 <= current < len(phases) else None
            lines.append(
                BuildLine(row["id"], row["owner"], row["repo"], row["issue_number"], row["status"], number)
            )
        return lines
