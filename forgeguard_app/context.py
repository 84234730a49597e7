"""The contexts every job and event handler is given: one module that every feature imports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from checks.cache import BoundedCache
from checks.context import AnalysisCache

if TYPE_CHECKING:
    from forgeguard_app.db import Database
    from forgeguard_app.github.client import GitHubApp
    from forgeguard_app.llm import LLM
    from forgeguard_app.settings import Settings


@dataclass
class WorkerState:
    """What a worker keeps from one job to the next: owned by the `jobs.Worker`, carried by every context."""

    analysis_cache: AnalysisCache = field(default_factory=BoundedCache)
    """Per-file analysis results (imports, manifests) by blob id, shared by this worker's audits."""
    last_sweep: float | None = None
    """When (`time.monotonic()`) one of this worker's audit jobs last ran the watchdog's sweep."""


@dataclass(frozen=True, kw_only=True)
class JobContext:
    """What a job handler gets besides its payload."""

    db: Database
    settings: Settings
    github: GitHubApp | None
    llm: LLM | None
    job_id: int
    attempt: int
    max_attempts: int
    worker: WorkerState = field(default_factory=WorkerState)

    @property
    def final_attempt(self) -> bool:
        """True when a failure now is final (no retry follows)."""
        return self.attempt >= self.max_attempts


@dataclass(frozen=True, kw_only=True)
class EventContext(JobContext):
    """A job context for one webhook delivery."""

    delivery_id: str
    installation_id: int | None
