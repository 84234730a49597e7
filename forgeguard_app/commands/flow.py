"""What to do with an `issue_comment` delivery (pure): ignore it, run a command, or take it as an answer.

Decisions, documented here once:

- Comments by bots (the app's own included) are ignored before anything else.
- `created`: the first command line runs (see `grammar`); a comment without
  one is a candidate answer, which counts only in an active intake issue and
  only from a permitted person (checked by the caller, who does the I/O).
- `edited`: commands are never run from an edit (fixing a typo must not run
  `approve` twice, and an old comment edited into a command would act
  without the eyes/+1 trail). An edited answer replaces the queued answer
  when it has not been processed yet; once processed it stays as it was read
  (the conversation has moved on) and the edit is ignored.
- `deleted`: an answer not yet processed is dropped from the queue; one
  already processed stays part of the intake.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from forgeguard_app.commands.grammar import ParsedCommand, parse
from forgeguard_app.commands.permissions import is_bot


@dataclass(frozen=True)
class Ignore:
    reason: str


@dataclass(frozen=True)
class RunCommand:
    command: ParsedCommand
    others: tuple[ParsedCommand, ...]


@dataclass(frozen=True)
class Answer:
    """A comment without a command: an intake answer if the thread is an intake issue."""


@dataclass(frozen=True)
class EditAnswer:
    """An edited comment: replaces the queued answer if that was not processed yet."""


@dataclass(frozen=True)
class DropAnswer:
    """A deleted comment: its answer is dropped if not processed yet."""


Action = Ignore | RunCommand | Answer | EditAnswer | DropAnswer


def classify(payload: Mapping[str, Any], slug: str) -> Action:
    """The one decision about an `issue_comment` delivery, before any request is made."""
    action = payload.get("action")
    comment = payload.get("comment") or {}
    if is_bot(comment.get("user")):
        return Ignore("comment by a bot")
    if not payload.get("installation"):
        return Ignore("no installation in the delivery")
    if action == "deleted":
        return DropAnswer()
    commands = parse(comment.get("body"), slug)
    if action == "edited":
        return Ignore("an edited command is not run again") if commands else EditAnswer()
    if action != "created":
        return Ignore(f"action {action!r} is not handled")
    if commands:
        return RunCommand(commands[0], tuple(commands[1:]))
    return Answer()
