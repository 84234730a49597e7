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
from forgeguard_app.commands.table import Place


@dataclass(frozen=True)
class Thread:
    """The issue or pull request a comment is in."""

    installation_id: int
    repository_id: int
    owner: str
    repo: str
    default_branch: str
    number: int
    is_pull_request: bool
    title: str
    labels: frozenset[str]

    @property
    def kind(self) -> str:
        return "pull request" if self.is_pull_request else "issue"

    def base_places(self) -> frozenset[Place]:
        return frozenset({Place.PULL_REQUEST if self.is_pull_request else Place.ISSUE})


@dataclass(frozen=True)
class Comment:
    """The comment itself."""

    id: int
    body: str
    login: str
    created_at: str


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


def thread_of(payload: Mapping[str, Any]) -> Thread:
    """The thread of an `issue_comment` payload."""
    issue = payload["issue"]
    repository = payload["repository"]
    installation = payload.get("installation") or {}
    return Thread(
        installation_id=int(installation.get("id") or 0),
        repository_id=int(repository["id"]),
        owner=str(repository["owner"]["login"]),
        repo=str(repository["name"]),
        default_branch=str(repository.get("default_branch") or "main"),
        number=int(issue["number"]),
        is_pull_request=bool(issue.get("pull_request")),
        title=str(issue.get("title") or ""),
        labels=frozenset(str(label.get("name")) for label in issue.get("labels") or []),
    )


def comment_of(payload: Mapping[str, Any]) -> Comment:
    comment = payload["comment"]
    return Comment(
        id=int(comment["id"]),
        body=str(comment.get("body") or ""),
        login=str((comment.get("user") or {}).get("login") or ""),
        created_at=str(comment.get("created_at") or ""),
    )


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
