"""The one table of comment commands: name, where each is allowed, what it does.

`/forge help`, the grammar's suggestions and the wrong-place replies all read
this table, so a command added here is known everywhere at once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Place(enum.Enum):
    """Kinds of conversation a comment can be in.

    A thread is several at once: an intake issue is also an issue, a contracts
    pull request also a pull request. A command is allowed when its places and
    the thread's places meet.
    """

    ISSUE = "issue"
    PULL_REQUEST = "pull request"
    INTAKE_ISSUE = "intake issue"
    CONTRACTS_PR = "contracts pull request"


@dataclass(frozen=True)
class Command:
    """One command of the table."""

    name: str
    usage: str
    places: frozenset[Place]
    summary: str
    builder: bool = False
    """A builder command: recognised, answered that the builder is not in this release."""

    @property
    def where(self) -> str:
        """The places in words, for help and wrong-place replies."""
        if self.places == ANYWHERE:
            return "anywhere"
        order = [Place.ISSUE, Place.PULL_REQUEST, Place.INTAKE_ISSUE, Place.CONTRACTS_PR]
        return " or ".join(p.value for p in order if p in self.places)


ANYWHERE = frozenset(Place)
_BUILDER_PLACES = frozenset({Place.CONTRACTS_PR, Place.INTAKE_ISSUE})

COMMANDS: tuple[Command, ...] = (
    Command("help", "help", ANYWHERE, "list the commands"),
    Command("audit", "audit", frozenset({Place.PULL_REQUEST}), "audit the head commit again"),
    Command(
        "intake",
        "intake [restart]",
        frozenset({Place.ISSUE}),
        "start (or restart) the intake questionnaire here; later comments are the answers",
    ),
    Command("status", "status", ANYWHERE, "where the intake and contracts of this issue stand"),
    Command("back", "back", frozenset({Place.INTAKE_ISSUE}), "reopen the previous section"),
    Command("edit", "edit <section>", frozenset({Place.INTAKE_ISSUE}), "reopen a named section"),
    Command(
        "contracts",
        "contracts",
        frozenset({Place.INTAKE_ISSUE}),
        "generate the contracts now from the answers so far, with defaults marked",
    ),
    Command(
        "revise",
        "revise <instructions>",
        frozenset({Place.CONTRACTS_PR}),
        "revise the contracts as instructed, as a new commit",
    ),
    Command("approve", "approve", frozenset({Place.CONTRACTS_PR}), "accept the contracts for building"),
    Command(
        "reject",
        "reject [reason]",
        frozenset({Place.CONTRACTS_PR}),
        "close the contracts pull request, keeping the reason",
    ),
    Command("build", "build", _BUILDER_PLACES, "start a build of the approved contracts", builder=True),
    Command("retry", "retry [message]", _BUILDER_PLACES, "try a paused build's phase again", builder=True),
    Command("skip", "skip", _BUILDER_PLACES, "skip a paused build's phase", builder=True),
    Command("abort", "abort", _BUILDER_PLACES, "stop a build for good", builder=True),
    Command("say", "say <message>", _BUILDER_PLACES, "guidance for the running builder", builder=True),
    Command("cancel", "cancel", _BUILDER_PLACES, "stop a running build at the next safe point", builder=True),
)

BY_NAME: dict[str, Command] = {c.name: c for c in COMMANDS}
