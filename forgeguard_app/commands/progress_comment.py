"""The progress comment: one comment of the app's per piece of long work, edited in place.

Its first line is a hidden marker `<!-- forgeguard:progress:<kind>:<key> -->`;
its comment id is kept in `progress_comments`. An update edits the stored
comment; when there is no stored id (or the comment was deleted) the issue's
comments are searched for the marker before a new comment is posted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import gidgethub
from gidgethub.abc import GitHubAPI

from forgeguard_app.db import Executor
from forgeguard_app.github.once import create_once

log = logging.getLogger(__name__)

MAX_BODY = 65_000
"""GitHub refuses comments over 65,536 characters; leave room for the marker and the note."""
_MARKER = re.compile(r"<!-- forgeguard:progress:([a-z0-9_-]+):([A-Za-z0-9_./-]+) -->")


def marker(kind: str, key: str) -> str:
    """The hidden marker of one progress comment."""
    return f"<!-- forgeguard:progress:{kind}:{key} -->"


def parse_marker(body: str | None) -> tuple[str, str] | None:
    """(kind, key) of the progress marker in a comment body, if any."""
    match = _MARKER.search(body or "")
    return (match.group(1), match.group(2)) if match else None


def compose(kind: str, key: str, text: str) -> str:
    """The full comment body: the marker then the text, cut to GitHub's limit with a note."""
    if len(text) > MAX_BODY:
        text = text[:MAX_BODY].rstrip() + "\n\n_(cut to GitHub's comment size limit)_"
    return f"{marker(kind, key)}\n{text}"


async def _stored_id(conn: Executor, repository_id: int, kind: str, key: str) -> int | None:
    row = await conn.fetchrow(
        "SELECT comment_id FROM progress_comments WHERE repository_id = $1 AND kind = $2 AND key = $3",
        repository_id,
        kind,
        key,
    )
    return int(row["comment_id"]) if row else None


async def _store(
    conn: Executor, repository_id: int, kind: str, key: str, issue_number: int, comment_id: int
) -> None:
    await conn.execute(
        """
        INSERT INTO progress_comments (repository_id, kind, key, issue_number, comment_id)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (repository_id, kind, key)
        DO UPDATE SET comment_id = EXCLUDED.comment_id, issue_number = EXCLUDED.issue_number,
                      updated_at = now()
        """,
        repository_id,
        kind,
        key,
        issue_number,
        comment_id,
    )


async def _find_by_marker(
    api: GitHubAPI, owner: str, repo: str, issue_number: int, wanted: str
) -> int | None:
    async for comment in api.getiter(
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
        {"owner": owner, "repo": repo, "issue_number": str(issue_number)},
    ):
        if wanted in (comment.get("body") or ""):
            return int(comment["id"])
    return None


async def show(
    api: GitHubAPI,
    conn: Executor,
    *,
    repository_id: int,
    owner: str,
    repo: str,
    issue_number: int,
    kind: str,
    key: str,
    text: str,
) -> int:
    """Create or edit the progress comment (kind, key) in an issue; returns its comment id."""
    body = compose(kind, key, text)
    comment_id = await _stored_id(conn, repository_id, kind, key)
    if comment_id is None:
        comment_id = await _find_by_marker(api, owner, repo, issue_number, marker(kind, key))
    if comment_id is not None:
        try:
            await api.patch(
                "/repos/{owner}/{repo}/issues/comments/{comment_id}",
                {"owner": owner, "repo": repo, "comment_id": str(comment_id)},
                data={"body": body},
            )
        except gidgethub.BadRequest as exc:
            if exc.status_code != 404:
                raise
            log.info("progress comment %s was deleted; posting a new one", comment_id)
            comment_id = None
    if comment_id is None:
        comment_id = await _post_comment(
            api,
            owner,
            repo,
            issue_number,
            body,
            find=lambda: _find_by_marker(api, owner, repo, issue_number, marker(kind, key)),
        )
    await _store(conn, repository_id, kind, key, issue_number, comment_id)
    return comment_id


async def reply(api: GitHubAPI, owner: str, repo: str, issue_number: int, text: str) -> int:
    """A short one-off reply (refusals, help, wrong place); returns the comment id."""
    if len(text) > MAX_BODY:
        text = text[:MAX_BODY]
    since = (datetime.now(UTC) - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return await _post_comment(
        api,
        owner,
        repo,
        issue_number,
        text,
        find=lambda: _find_by_text(api, owner, repo, issue_number, text, since),
    )


async def _post_comment(
    api: GitHubAPI,
    owner: str,
    repo: str,
    issue_number: int,
    body: str,
    *,
    find: Callable[[], Awaitable[int | None]],
) -> int:
    """Post a comment once: after a lost answer, the comment found by `find` (marker or text) is it."""

    async def create() -> int:
        created = await api.post(
            "/repos/{owner}/{repo}/issues/{issue_number}/comments",
            {"owner": owner, "repo": repo, "issue_number": str(issue_number)},
            data={"body": body},
        )
        return int(created["id"])

    return await create_once(api, create, find)


async def _find_by_text(
    api: GitHubAPI, owner: str, repo: str, issue_number: int, text: str, since: str
) -> int | None:
    """The latest comment of exactly `text` in the issue since `since` (a reply whose answer was lost)."""
    found = None
    async for comment in api.getiter(
        "/repos/{owner}/{repo}/issues/{issue_number}/comments{?since}",
        {"owner": owner, "repo": repo, "issue_number": str(issue_number), "since": since},
    ):
        if (comment.get("body") or "") == text:
            found = int(comment["id"])
    return found
