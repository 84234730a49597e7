"""The `commands.run` job: intake work for one issue, one at a time and in order.

Queued by the router (answers and the commands that change an intake or its
contracts). Its order key is the intake issue, so two comments posted at once
are handled in the order their deliveries came, and a `revise` never runs
beside an answer of the same intake. The job ends with `+1` or `confused` on
the comment; a failure that will be retried leaves the reaction for later.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from forgeguard_app.commands import bridge
from forgeguard_app.commands.flow import Comment, Thread
from forgeguard_app.commands.reactions import FAILURE, SUCCESS, react
from forgeguard_app.context import JobContext
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
    conn: Any,
    thread: Thread,
    comment: Comment,
    *,
    name: str,
    args: str,
    text: str,
    intake_issue: int,
    note: str = "",
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
    )
    return await enqueue(
        conn, COMMAND_JOB, work.to_payload(), order_key=order_key(thread.repository_id, intake_issue)
    )


@handler(COMMAND_JOB, max_attempts=4)
async def run(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Do one queued piece of intake work, then react on its comment."""
    work = Work.from_payload(payload)
    if ctx.github is None:
        raise RuntimeError("no GitHub client configured")
    api = await ctx.github.installation_api(work.thread.installation_id)
    owner, repo = work.thread.owner, work.thread.repo
    try:
        ok = await bridge.perform(ctx, api, work)
    except Exception:
        if ctx.final_attempt:
            await react(api, owner, repo, work.comment_id, FAILURE)
        raise
    if ok is not None:
        await react(api, owner, repo, work.comment_id, SUCCESS if ok else FAILURE)
