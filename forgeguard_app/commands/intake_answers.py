"""Comments as answers to an intake's questions: queued, edited, withdrawn, then answered in order.

A comment without a command, by a permitted person, in an intake that is
asking questions, is queued through `IntakeService.submit_answer`; the
`commands.run` job of the issue then answers the queue, oldest first
(`process_answers`). See `flow` for how edits and deletions are treated.
"""

from __future__ import annotations

import logging

from forgeguard_app.commands.command import Invocation, Outcome
from forgeguard_app.commands.contracts_publish import after_turn
from forgeguard_app.commands.intake_commands import issue_body
from forgeguard_app.commands.intake_comment import (
    ANSWERING,
    gave_up,
    service_for,
    show_intake,
    wait_for_model,
)
from forgeguard_app.commands.thread import Comment, Thread
from forgeguard_app.db import Database
from forgeguard_app.intake.service import IntakeService

log = logging.getLogger(__name__)

ANSWER = "answer"
"""The name of the queued work that answers an intake's queued comments (not a command)."""


def _service(db: Database) -> IntakeService:
    return IntakeService(db, None, "")


async def intake_exists(db: Database, thread: Thread) -> bool:
    """True when the issue has an intake (it is an intake issue)."""
    return await _service(db).find(thread.repository_id, thread.number) is not None


async def accepts_answers(db: Database, thread: Thread) -> bool:
    """True while the issue's intake is asking questions (so a plain comment is an answer)."""
    record = await _service(db).find(thread.repository_id, thread.number)
    return record is not None and record.status in ANSWERING and not record.state.finished


async def queue_answer(db: Database, thread: Thread, comment: Comment) -> bool:
    """Put a comment in the intake's answer queue (once per comment id)."""
    service = _service(db)
    record = await service.find(thread.repository_id, thread.number)
    if record is None:
        return False
    return await service.submit_answer(
        record.id, comment_id=comment.id, author=comment.login, body=comment.body
    )


async def edit_answer(db: Database, thread: Thread, comment: Comment) -> bool:
    """An edited comment replaces its answer while that is still queued (see `flow`)."""
    service = _service(db)
    record = await service.find(thread.repository_id, thread.number)
    if record is None:
        return False
    changed = await service.edit_answer(record.id, comment.id, comment.body)
    log.info("edited comment %s %s", comment.id, "replaced its queued answer" if changed else "ignored")
    return changed


async def drop_answer(db: Database, thread: Thread, comment: Comment) -> bool:
    """A deleted comment withdraws its answer while that is still queued (see `flow`)."""
    service = _service(db)
    record = await service.find(thread.repository_id, thread.number)
    if record is None:
        return False
    dropped = await service.drop_answer(record.id, comment.id)
    log.info("deleted comment %s %s", comment.id, "dropped its queued answer" if dropped else "ignored")
    return dropped


async def run_answers(inv: Invocation) -> Outcome:
    """The queued answers of the intake, oldest first (the queued work `answer`)."""
    thread, ctx = inv.thread, inv.ctx
    service = service_for(ctx)
    record = await service.find(thread.repository_id, thread.number)
    if record is None or record.status not in ANSWERING:
        return Outcome(None, ok=None)
    never_asked = (
        record.status == "waiting_model" and not record.state.transcript and not record.state.questions
    )
    if never_asked and await service.pending_count(record.id) == 0:
        # the model was down at `/forge intake` and nothing is queued: ask the first questions now
        result = await service.start(
            installation_id=thread.installation_id,
            repository_id=thread.repository_id,
            repository_full_name=f"{thread.owner}/{thread.repo}",
            issue_number=thread.number,
            title=thread.title,
            description=await issue_body(inv.api, thread, thread.number),
            restart=True,
        )
    else:
        result = await service.process_answers(record.id)
    await show_intake(inv.api, ctx.db, thread, thread.number, result.progress + gave_up(ctx, result))
    if result.unavailable:
        return wait_for_model(inv)
    return await after_turn(inv, service, result)
