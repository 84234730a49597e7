"""Real `issue_comment` payloads from the corpus, patched to the test's repository, issue and comment."""

from __future__ import annotations

import copy
import json
import pathlib
from typing import Any

CORPUS = pathlib.Path(__file__).resolve().parents[2].parent / "shared/github-corpus/webhooks/issue_comment"


def load(name: str) -> dict[str, Any]:
    """One corpus example as it was published."""
    data: dict[str, Any] = json.loads((CORPUS / name).read_text())
    return data


def comment_payload(
    action: str = "created",
    *,
    body: str,
    login: str = "octocat",
    user_type: str = "User",
    comment_id: int = 1001,
    issue_number: int = 7,
    pull_request: bool = False,
    installation_id: int | None = 1,
    owner: str = "octo-org",
    repo: str = "hello",
    repository_id: int = 4242,
    labels: tuple[str, ...] = (),
    title: str | None = None,
) -> dict[str, Any]:
    """The corpus example for `action` (with an installation), patched to our fake repository and comment."""
    source = {
        "created": "created.with-installation.payload.json",
        "edited": "edited.payload.json",
        "deleted": "deleted.payload.json",
    }[action]
    payload = copy.deepcopy(load(source))
    payload["action"] = action
    payload["comment"]["id"] = comment_id
    payload["comment"]["body"] = body
    payload["comment"]["user"] = {**payload["comment"]["user"], "login": login, "type": user_type}
    payload["sender"] = dict(payload["comment"]["user"])
    issue = payload["issue"]
    issue["number"] = issue_number
    issue["labels"] = [{"name": name} for name in labels]
    if title is not None:
        issue["title"] = title
    if pull_request:
        issue["pull_request"] = {
            "url": f"https://api.github.com/repos/{owner}/{repo}/pulls/{issue_number}",
            "html_url": f"https://github.com/{owner}/{repo}/pull/{issue_number}",
        }
    else:
        issue.pop("pull_request", None)
    repository = payload["repository"]
    repository.update(
        {"id": repository_id, "name": repo, "full_name": f"{owner}/{repo}", "default_branch": "main"}
    )
    repository["owner"] = {**repository["owner"], "login": owner}
    if installation_id is None:
        payload.pop("installation", None)
    else:
        payload["installation"] = {
            "id": installation_id,
            "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==",
        }
    return payload
