"""What a command is: where it may run, what its handler gets (`Invocation`) and returns (`Outcome`).

The table of commands (`table.py`) is made of `Command`s; the handlers live in
modules named for what they do. This module imports none of them, so every
handler module can import it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gidgethub.abc import GitHubAPI

from forgeguard_app.commands.thread import ANYWHERE, Comment, Place, Thread
from forgeguard_app.context import JobContext


@dataclass(frozen=True)
class Invocation:
    """What a command handler gets."""

    ctx: JobContext
    """The job's context; an `EventContext` when the command runs in the delivery job."""
    api: GitHubAPI
    """The installation's API."""
    thread: Thread
    comment: Comment
    name: str
    """The command word as written (lower case)."""
    args: str
    """The words after the command name, on its line."""
    text: str
    """The rest of the comment from the command's arguments on (multi-line arguments)."""
    places: frozenset[Place]
    note: str = ""
    """A note for people (e.g. other command lines ignored); a handler that reports elsewhere than in
    `Outcome.reply` (an edited progress comment) adds it there."""


@dataclass(frozen=True)
class Outcome:
    """What a handler did: the reply to post, and the final reaction on the command's comment."""

    reply: str | None
    """Posted as a reply comment (with `Invocation.note` added); None when the handler reported elsewhere."""
    ok: bool | None
    """`+1` (True) or `confused` (False); None leaves the comment without a final reaction (the work is
    left for later, e.g. the model stayed unavailable)."""


Handler = Callable[[Invocation], Awaitable[Outcome]]


async def not_available(inv: Invocation) -> Outcome:
    """The handler of a command whose feature is not in this release: recognised, nothing done."""
    return Outcome(
        f"`/forge {inv.name}` belongs to the builder, which is not available in this release "
        "of ForgeGuard yet; nothing was done.",
        ok=False,
    )


@dataclass(frozen=True)
class Command:
    """One command of the table: its name, where it runs, what it does, and how."""

    name: str
    usage: str
    places: frozenset[Place]
    summary: str
    run: Handler
    queued: bool = False
    """True: run in a `commands.run` job ordered per intake issue, not in the delivery job."""

    @property
    def available(self) -> bool:
        """False for a recognised command whose feature is not in this release (answered anywhere)."""
        return self.run is not not_available

    @property
    def where(self) -> str:
        """The places in words, for help and wrong-place replies."""
        if self.places == ANYWHERE:
            return "anywhere"
        order = [Place.ISSUE, Place.PULL_REQUEST, Place.INTAKE_ISSUE, Place.CONTRACTS_PR, Place.BUILD_PR]
        return " or ".join(p.value for p in order if p in self.places)
