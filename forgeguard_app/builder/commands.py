"""The builder's command handlers for the command table: `build`, `say`, `retry`, `skip`, `abort`, `cancel`.

Each is `Invocation -> Outcome` (SEAMS.md, "The command table"): the router
has already reacted, checked the person's permission and the place. The work
is in `service`; these only translate.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from gidgethub.abc import GitHubAPI

from forgeguard_app.builder import service
from forgeguard_app.commands.flow import Comment, Thread
from forgeguard_app.context import JobContext


class InvocationLike(Protocol):
    """What a handler reads of the table's `Invocation`."""

    @property
    def ctx(self) -> JobContext: ...

    @property
    def api(self) -> GitHubAPI: ...

    @property
    def thread(self) -> Thread: ...

    @property
    def comment(self) -> Comment: ...

    @property
    def args(self) -> str: ...

    @property
    def text(self) -> str: ...


def request_of(inv: InvocationLike) -> service.Request:
    return service.Request(
        ctx=inv.ctx,
        api=inv.api,
        thread=inv.thread,
        login=inv.comment.login,
        comment_id=inv.comment.id,
        args=inv.args,
        text=inv.text,
    )


Run = Callable[[service.Request], Awaitable[service.Answer]]

HANDLERS: dict[str, Run] = {
    "build": service.start,
    "say": service.say,
    "retry": service.retry,
    "skip": service.skip,
    "abort": service.abort,
    "cancel": service.cancel,
}


async def answer(name: str, inv: InvocationLike) -> service.Answer:
    """Run builder command `name` for this invocation."""
    return await HANDLERS[name](request_of(inv))


def handler(name: str, outcome: Callable[[str | None, bool], Any]) -> Callable[[Any], Awaitable[Any]]:
    """A table handler for command `name`, returning `outcome(reply, ok)` (the table's `Outcome`)."""

    async def run(inv: Any) -> Any:
        result = await answer(name, inv)
        return outcome(result.reply, result.ok)

    run.__name__ = f"builder_{name}"
    return run
