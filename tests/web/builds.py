"""A `BuildSource` made of `BuildView`s built in the test (the builder's store provides the real one)."""

from __future__ import annotations

import datetime
from dataclasses import replace

from forgeguard_app.db import Executor
from forgeguard_app.web.builds import (
    AttemptView,
    BuildLine,
    BuildView,
    InterjectionView,
    PhaseView,
    ToolCallView,
)

T0 = datetime.datetime(2026, 12, 1, 9, 30, tzinfo=datetime.UTC)


def build_view(
    build_id: int = 5,
    *,
    owner: str = "octo-org",
    repo: str = "visible",
    installation_id: int = 1,
    **changes: object,
) -> BuildView:
    """A running build in phase 1 with one passed phase, a failed then running attempt, a plan and a log."""
    view = BuildView(
        id=build_id,
        installation_id=installation_id,
        owner=owner,
        repo=repo,
        issue_number=12,
        status="running",
        current_phase=1,
        branch="forge/build-12",
        pull_number=13,
        pull_url=f"https://github.example/{owner}/{repo}/pull/13",
        started_at=T0,
        finished_at=None,
        phases=[
            PhaseView(
                0,
                "Genesis",
                "passed",
                [
                    AttemptView(
                        1,
                        "success",
                        "c" * 40,
                        f"https://github.example/{owner}/{repo}/commit/" + "c" * 40,
                        f"https://github.example/{owner}/{repo}/runs/71",
                    )
                ],
                cost_usd=0.4125,
                input_tokens=120_000,
                output_tokens=9_000,
            ),
            PhaseView(
                1,
                "Authentication",
                "active",
                [
                    AttemptView(
                        1,
                        "failure",
                        "d" * 40,
                        f"https://github.example/{owner}/{repo}/commit/" + "d" * 40,
                        f"https://github.example/{owner}/{repo}/runs/72",
                    ),
                    AttemptView(2, None, None, None, None),
                ],
                cost_usd=0.2,
                input_tokens=50_000,
                output_tokens=4_000,
            ),
            PhaseView(2, "Repo Management", "pending"),
        ],
        plan=["Write the login route", "Add session tests"],
        tool_log=[
            ToolCallView(T0, 1, "write_file", "wrote app/auth.py (42 lines)", False, 12),
            ToolCallView(T0, 1, "run_tests", "3 failed, 10 passed", True, 5400),
        ],
        interjections=[InterjectionView(T0, "mona", "use argon2 for the passwords")],
    )
    return replace(view, **changes)  # type: ignore[arg-type]


class Builds:
    """The builder's store as the status site sees it, holding views the test sets."""

    def __init__(self, *views: BuildView) -> None:
        self.views = {view.id: view for view in views}

    async def build_view(self, conn: Executor, build_id: int) -> BuildView | None:
        return self.views.get(build_id)

    async def active_builds(
        self, conn: Executor, repositories: list[tuple[int, str, str]]
    ) -> list[BuildLine]:
        wanted = {(i, o.lower(), r.lower()) for i, o, r in repositories}
        return [
            BuildLine(v.id, v.owner, v.repo, v.issue_number, v.status, v.current_phase)
            for v in self.views.values()
            if v.running and (v.installation_id, v.owner.lower(), v.repo.lower()) in wanted
        ]
