"""The `commands.run` job: a queued command (or the intake's queued answers) for one issue, in order.

Queued by the router for the table's `queued` commands and for answers. Its
order key is the intake issue, so two comments posted at once
are handled in the order their deliveries came, and a `revise` never runs
beside an answer of the same intake. The job ends with `+1` or `confused` on
the comment; a failure that will be retried leaves the reaction for later.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from forgeguard_app.commands import progress_comment
from forgeguard_app.commands.command import Handler, Invocation, Outcome
from forgeguard_app.commands.intake_answers import ANSWER, run_answers
from forgeguard_app.commands.reactions import FAILURE, SUCCESS, react
from forgeguard_app.commands.table import BY_NAME
from forgeguard_app.commands.thread import Comment, Place, Thread
from forgeguard_app.context import JobContext
from forgeguard_app.db import Executor
from forgeguard_app.jobs import enqueue, handler

log = logging.getLogger(__name__)

COMMAND_JOB = "commands.run"


@dataclass(frozen=True)
class Work:
    """One queued command or answer: where it came from and what to do."""

    thread: Thread
    comment_id: int
    login: str
    name: str
    """A command name, or `answer` for queued intake answers."""
    args: str
    text: str
    intake_issue: int
    note: str = ""
    places: tuple[str, ...] = ()
    """The thread's places (`Place` values) when the command was queued."""

    def to_payload(self) -> dict[str, Any]:
        data = asdict(self)
        data["thread"]["labels"] = sorted(self.thread.labels)
        return data

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Work:
        thread = dict(data["thread"])
        thread["labels"] = frozenset(thread.get("labels") or ())
        return cls(**{**data, "thread": Thread(**thread)})


def order_key(repository_id: int, issue_number: int) -> str:
    """One queue per intake issue."""
    return f"intake:repo:{repository_id}:issue:{issue_number}"


async def enqueue_command(
    conn: Executor,
    thread: Thread,
    comment: Comment,
    *,
    name: str,
    args: str,
    text: str,
    intake_issue: int,
    note: str = "",
    places: frozenset[Place] = frozenset(),
) -> int:
    """Queue the work of one comment (in the caller's transaction, if any)."""
    work = Work(
        thread=thread,
        comment_id=comment.id,
        login=comment.login,
        name=name,
        args=args,
        text=text,
        intake_issue=intake_issue,
        note=note,
        places=tuple(sorted(p.value for p in places)),
    )
    return await enqueue(
        conn, COMMAND_JOB, work.to_payload(), order_key=order_key(thread.repository_id, intake_issue)
    )


def _handler(name: str) -> Handler:
    return run_answers if name == ANSWER else BY_NAME[name].run


@handler(COMMAND_JOB, max_attempts=4)
async def run(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Run one queued command's handler (or answer the queued answers), then reply and react."""
    work = Work.from_payload(payload)
    if ctx.github is None:
        raise RuntimeError("no GitHub client configured")
    api = await ctx.github.installation_api(work.thread.installation_id)
    thread = work.thread
    inv = Invocation(
        ctx=ctx,
        api=api,
        thread=thread,
        comment=Comment(id=work.comment_id, body="", login=work.login, created_at=""),
        name=work.name,
        args=work.args,
        text=work.text,
        places=frozenset(Place(p) for p in work.places),
        note=work.note,
    )
    try:
        outcome = await _handler(work.name)(inv)
    except Exception:
        if ctx.final_attempt:
            await react(api, thread.owner, thread.repo, work.comment_id, FAILURE)
        raise
    await finish(inv, outcome)


async def finish(inv: Invocation, outcome: Outcome) -> None:
    """The outcome on GitHub: the reply (with the invocation's note), then the final reaction."""
    thread = inv.thread
    if outcome.reply is not None:
        note = f"\n\n{inv.note}" if inv.note else ""
        await progress_comment.reply(inv.api, thread.owner, thread.repo, thread.number, outcome.reply + note)
    if outcome.ok is not None:
        await react(inv.api, thread.owner, thread.repo, inv.comment.id, SUCCESS if outcome.ok else FAILURE)
