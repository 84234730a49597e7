"""Acknowledging a command comment with reactions: `eyes` at once, then `+1` or `confused`."""

from __future__ import annotations

import logging

import gidgethub
from gidgethub.abc import GitHubAPI

log = logging.getLogger(__name__)

EYES = "eyes"
SUCCESS = "+1"
FAILURE = "confused"


async def react(api: GitHubAPI, owner: str, repo: str, comment_id: int, content: str) -> None:
    """Add a reaction to an issue or pull request comment; a comment deleted meanwhile is not an error."""
    try:
        await api.post(
            "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
            {"owner": owner, "repo": repo, "comment_id": str(comment_id)},
            data={"content": content},
        )
    except gidgethub.BadRequest as exc:
        if exc.status_code not in (404, 410):
            raise
        log.info("comment %s is gone; reaction %s not added", comment_id, content)
