"""The one table of comment commands: name, where each runs, what it says, and the handler that does it.

`/forge help`, the grammar's suggestions and the wrong-place replies all read
this table, and the router runs an entry's handler (in the delivery job, or
queued per intake issue when `queued`): adding a command is one entry here.
The shape of an entry and of what its handler gets and returns is in
`command.py`.

The builder's commands (`build`, `retry`, `skip`, `abort`, `say`, `cancel`) have their
handlers in `forgeguard_app/builder/commands.py`; `status` reports on a build too.
"""

from __future__ import annotations

from forgeguard_app.builder import commands as builder_commands
from forgeguard_app.commands import intake_commands, reaudit, replies, review, status
from forgeguard_app.commands.command import Command, Invocation, Outcome
from forgeguard_app.commands.contracts_publish import run_contracts
from forgeguard_app.commands.grammar import app_slug
from forgeguard_app.commands.thread import ANYWHERE, Place
from forgeguard_app.markdown import Trusted

__all__ = ["ANYWHERE", "BY_NAME", "COMMANDS", "Command", "Place"]


async def show_help(inv: Invocation) -> Outcome:
    """`/forge help`: the table of commands."""
    return Outcome(replies.help_text(Trusted(app_slug(inv.ctx.settings)), COMMANDS), ok=True)


_ISSUE = frozenset({Place.ISSUE})
_PULL_REQUEST = frozenset({Place.PULL_REQUEST})
_INTAKE = frozenset({Place.INTAKE_ISSUE})
_CONTRACTS = frozenset({Place.CONTRACTS_PR})
_BUILDER_PLACES = frozenset({Place.CONTRACTS_PR, Place.INTAKE_ISSUE, Place.BUILD_PR})

COMMANDS: tuple[Command, ...] = (
    Command("help", "help", ANYWHERE, "list the commands", show_help),
    Command("audit", "audit", _PULL_REQUEST, "audit the head commit again", reaudit.run_audit),
    Command(
        "intake",
        "intake [restart]",
        _ISSUE,
        "start (or restart) the intake questionnaire here; later comments are the answers",
        intake_commands.run_intake,
        queued=True,
    ),
    Command(
        "status", "status", ANYWHERE, "where the intake and contracts of this issue stand", status.run_status
    ),
    Command("back", "back", _INTAKE, "reopen the previous section", intake_commands.run_reopen, queued=True),
    Command(
        "edit", "edit <section>", _INTAKE, "reopen a named section", intake_commands.run_reopen, queued=True
    ),
    Command(
        "contracts",
        "contracts",
        _INTAKE,
        "generate the contracts now from the answers so far, with defaults marked",
        run_contracts,
        queued=True,
    ),
    Command(
        "revise",
        "revise <instructions>",
        _CONTRACTS,
        "revise the contracts as instructed, as a new commit",
        review.run_revise,
        queued=True,
    ),
    Command(
        "approve", "approve", _CONTRACTS, "accept the contracts for building", review.run_approve, queued=True
    ),
    Command(
        "reject",
        "reject [reason]",
        _CONTRACTS,
        "close the contracts pull request, keeping the reason",
        review.run_reject,
        queued=True,
    ),
    Command(
        "build",
        "build",
        _BUILDER_PLACES,
        "start a build of the approved contracts",
        builder_commands.run_build,
    ),
    Command(
        "retry",
        "retry [message]",
        _BUILDER_PLACES,
        "try a paused build's phase again, with your message to the builder",
        builder_commands.run_retry,
    ),
    Command(
        "skip",
        "skip",
        _BUILDER_PLACES,
        "accept a paused build's phase as it stands and go on",
        builder_commands.run_skip,
    ),
    Command("abort", "abort", _BUILDER_PLACES, "stop a build for good", builder_commands.run_abort),
    Command(
        "say",
        "say <message>",
        _BUILDER_PLACES,
        "guidance for the builder, read before its next turn",
        builder_commands.run_say,
    ),
    Command(
        "cancel",
        "cancel",
        _BUILDER_PLACES,
        "stop a running build at the next safe point",
        builder_commands.run_cancel,
    ),
)

BY_NAME: dict[str, Command] = {c.name: c for c in COMMANDS}
