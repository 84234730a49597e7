"""The builder's command handlers for the command table: `build`, `say`, `retry`, `skip`, `abort`, `cancel`.

Each is `Invocation -> Outcome` (`commands.command`): the router has already
reacted, checked the person's permission and the place. The work is in
`service`; these only translate. `status_text` is the build's part of
`/forge status`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from forgeguard_app.builder import service
from forgeguard_app.commands.command import Invocation, Outcome
from forgeguard_app.commands.thread import Thread
from forgeguard_app.context import JobContext


def request_of(inv: Invocation) -> service.Request:
    return service.Request(
        ctx=inv.ctx,
        api=inv.api,
        thread=inv.thread,
        login=inv.comment.login,
        comment_id=inv.comment.id,
        args=inv.args,
        text=inv.text,
    )


def _handler(
    work: Callable[[service.Request], Awaitable[service.Answer]],
) -> Callable[[Invocation], Awaitable[Outcome]]:
    async def run(inv: Invocation) -> Outcome:
        answer = await work(request_of(inv))
        return Outcome(answer.reply, answer.ok)

    run.__doc__ = work.__doc__
    return run


run_build = _handler(service.start)
run_say = _handler(service.say)
run_retry = _handler(service.retry)
run_skip = _handler(service.skip)
run_abort = _handler(service.abort)
run_cancel = _handler(service.cancel)


async def status_text(ctx: JobContext, thread: Thread) -> str | None:
    """Where the build of this thread's issue stands; None when there is none."""
    return await service.status_text(ctx.db, thread)
