"""The intake's progress comment in its issue, and what a command does while the model is unavailable.

When the model is unavailable the progress comment says so and the job is
retried with backoff (the intake is `waiting_model`, its answers still
queued); if every retry fails the intake resumes with the next answer or
`/forge intake`.
"""

from __future__ import annotations

import logging

from gidgethub.abc import GitHubAPI

from forgeguard_app.commands import progress_comment
from forgeguard_app.commands.command import Invocation, Outcome
from forgeguard_app.commands.thread import Thread
from forgeguard_app.context import JobContext
from forgeguard_app.db import Database
from forgeguard_app.intake.service import IntakeService, StepResult

log = logging.getLogger(__name__)

PROGRESS_KIND = "intake"
ANSWERING = ("active", "waiting_model")


class ModelWaiting(Exception):
    """The model was unavailable: the job is retried later (the intake waits, nothing is lost)."""


def service_for(ctx: JobContext) -> IntakeService:
    """The intake service of one job."""
    return IntakeService(ctx.db, ctx.llm, ctx.settings.intake_model)


async def show_intake(api: GitHubAPI, db: Database, thread: Thread, issue: int, text: str) -> None:
    """Create or edit the intake's progress comment in its issue."""
    async with db.pool.acquire() as conn:
        await progress_comment.show(
            api,
            conn,
            repository_id=thread.repository_id,
            owner=thread.owner,
            repo=thread.repo,
            issue_number=issue,
            kind=PROGRESS_KIND,
            key=str(issue),
            text=text,
        )


def with_note(result: StepResult, note: str) -> str:
    return result.progress + (f"\n\n{note}" if note else "")


def gave_up(ctx: JobContext, result: StepResult) -> str:
    """What the progress comment adds when the last retry also found the model unavailable."""
    if result.unavailable and ctx.final_attempt:
        return (
            "\n\nThe model stayed unavailable after several tries. Nothing is lost: the intake resumes "
            "with the next comment here."
        )
    return ""


def wait_for_model(inv: Invocation) -> Outcome:
    """The model is unavailable: retry the job later, or (last attempt) leave it for the next answer."""
    if inv.ctx.final_attempt:
        log.warning(
            "model still unavailable after %d attempts; the intake resumes on the next answer",
            inv.ctx.attempt,
        )
        return Outcome(None, ok=None)
    raise ModelWaiting("the model is unavailable; retrying later")
