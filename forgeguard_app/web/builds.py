"""What the `/builds/{id}` page shows, as plain data, and what the builder's store must provide.

The builder fills a `BuildView` from its tables; the page applies the access
rule (`access.may_see`) to the build's installation and repository and renders
`templates/web/build.html`. A running build's page updates live: every step the
builder saves is announced on `forgeguard_events` by a trigger (migration 045).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from forgeguard_app.db import Executor


@dataclass(frozen=True)
class AttemptView:
    number: int
    conclusion: str | None
    """success / failure / None while running."""
    commit_sha: str | None
    commit_url: str | None
    check_run_url: str | None
    started_at: datetime | None = None


@dataclass(frozen=True)
class PhaseView:
    number: int
    name: str
    status: str
    """pending, active, passed, failed, skipped."""
    attempts: list[AttemptView] = field(default_factory=list)
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class ToolCallView:
    at: datetime
    phase: int
    tool: str
    summary: str
    is_error: bool
    duration_ms: int | None


@dataclass(frozen=True)
class InterjectionView:
    at: datetime
    login: str
    text: str


@dataclass(frozen=True)
class BuildView:
    """Everything the build page shows of one build."""

    id: int
    installation_id: int
    owner: str
    repo: str
    issue_number: int
    status: str
    """queued, running, paused, passed, failed, aborted, cancelled."""
    current_phase: int | None
    branch: str | None
    pull_number: int | None
    pull_url: str | None
    started_at: datetime | None
    finished_at: datetime | None
    phases: list[PhaseView]
    plan: list[str]
    tool_log: list[ToolCallView]
    interjections: list[InterjectionView]
    last_error: str | None = None

    @property
    def total_cost_usd(self) -> float:
        return round(sum(p.cost_usd for p in self.phases), 4)

    @property
    def running(self) -> bool:
        return self.status in ("queued", "running", "paused")


@dataclass(frozen=True)
class BuildLine:
    """A build in the dashboard's list."""

    id: int
    owner: str
    repo: str
    issue_number: int
    status: str
    current_phase: int | None


class BuildSource(Protocol):
    """What the builder's store gives the status site (set on `AppState.builds`)."""

    async def build_view(self, conn: Executor, build_id: int) -> BuildView | None:
        """The build with its phases, attempts, plan, tool log, interjections and costs, or None."""
        ...

    async def active_builds(
        self, conn: Executor, repositories: list[tuple[int, str, str]]
    ) -> list[BuildLine]:
        """Unfinished builds of these (installation_id, owner, repo) repositories, newest first."""
        ...
