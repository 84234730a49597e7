"""The contexts every job and event handler is given: one module that every feature imports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from forgeguard_app.db import Database
    from forgeguard_app.github.client import GitHubApp
    from forgeguard_app.llm import LLM
    from forgeguard_app.settings import Settings


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

    @property
    def final_attempt(self) -> bool:
        """True when a failure now is final (no retry follows)."""
        return self.attempt >= self.max_attempts


@dataclass(frozen=True, kw_only=True)
class EventContext(JobContext):
    """A job context for one webhook delivery."""

    delivery_id: str
    installation_id: int | None
