"""Where a comment is: its `Thread` and the kinds of conversation (`Place`); the comment itself."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


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
    BUILD_PR = "build pull request"


ANYWHERE = frozenset(Place)


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
