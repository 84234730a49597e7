"""What GitHub's compare and commits APIs say about a change: its files, its commits, their paths."""

from __future__ import annotations

import http
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import gidgethub

from checks.source import Status
from forgeguard_app.github.client import InstallationAPI

COMPARE_FILE_CAP = 300
"""GitHub lists at most this many files in a compare; at the cap the list may be cut."""
SHA = re.compile(r"^[0-9a-f]{40}$")
STATUS: dict[str, Status] = {
    "added": "added",
    "removed": "removed",
    "modified": "modified",
    "renamed": "renamed",
    "copied": "copied",
    "changed": "modified",
    "unchanged": "modified",
}


@dataclass
class Compare:
    """One `GET /compare/{base}...{head}`, the revisions resolved to commits."""

    base: str
    head: str
    merge_base: str
    status: str
    total_commits: int
    commits: list[dict[str, Any]]
    files: list[dict[str, Any]]

    @property
    def files_complete(self) -> bool:
        return len(self.files) < COMPARE_FILE_CAP


def _compare_path(repo_path: str, base: str, head: str) -> str:
    return f"{repo_path}/compare/{quote(base, safe='/:')}...{quote(head, safe='/:')}"


async def fetch_compare(api: InstallationAPI, repo_path: str, base: str, head: str) -> Compare | None:
    """`base...head` as GitHub compares it; None when GitHub cannot (404)."""
    try:
        data = await api.getitem(_compare_path(repo_path, base, head))
    except gidgethub.BadRequest as exc:
        if int(exc.status_code) == 404:
            return None
        raise
    commits = list(data.get("commits") or [])
    base_sha = data["base_commit"]["sha"]
    merge_base = data["merge_base_commit"]["sha"]
    if SHA.match(head):
        head_sha = head
    elif commits and data.get("ahead_by", 0):
        head_sha = commits[-1]["sha"]  # unpaged: the last commit is the head
    elif data.get("status") == "identical":
        head_sha = base_sha
    else:
        head_sha = merge_base
    return Compare(
        base=base_sha,
        head=head_sha,
        merge_base=merge_base,
        status=str(data.get("status")),
        total_commits=int(data.get("total_commits") or 0),
        commits=commits,
        files=list(data.get("files") or []),
    )


async def all_commits(
    api: InstallationAPI, repo_path: str, base: str, head: str, compare: Compare
) -> list[dict[str, Any]]:
    """Every commit of the compare: its first answer holds 250 at most, the rest are paged."""
    if compare.total_commits <= len(compare.commits):
        return compare.commits
    commits: list[dict[str, Any]] = []
    page = 1
    path = _compare_path(repo_path, base, head)
    while len(commits) < compare.total_commits:
        data = await api.getitem(f"{path}?per_page=100&page={page}")
        chunk = data.get("commits") or []
        if not chunk:
            break
        commits.extend(chunk)
        page += 1
    return commits


async def commit_paths(api: InstallationAPI, repo_path: str, sha: str) -> tuple[str, ...]:
    """The paths one commit touched (against its first parent)."""
    files = [f async for f in api.getiter(f"{repo_path}/commits/{sha}", iterable_key="files")]
    return paths_of(files)


async def history(api: InstallationAPI, repo_path: str, head: str) -> list[dict[str, Any]]:
    """The commits reachable from `head`, oldest first."""
    found = [c async for c in api.getiter(f"{repo_path}/commits?sha={quote(head, safe='')}&per_page=100")]
    return list(reversed(found))


def not_found(message: str) -> gidgethub.BadRequest:
    """The 404 GitHub gave, as gidgethub raises it (callers explain failures by status)."""
    return gidgethub.BadRequest(http.HTTPStatus.NOT_FOUND, message)


def may_have_lines(f: dict[str, Any]) -> bool:
    """Whether a file GitHub sent without a patch may still have added lines (or be binary)."""
    if f["status"] == "removed":
        return False
    if f["status"] in ("renamed", "copied"):
        return int(f.get("changes") or 0) > 0
    return True


def paths_of(files: list[dict[str, Any]]) -> tuple[str, ...]:
    """Every path a commit touched; a rename touches both names (as `--no-renames` lists them)."""
    paths: list[str] = []
    for f in files:
        if f.get("previous_filename"):
            paths.append(f["previous_filename"])
        paths.append(f["filename"])
    return tuple(dict.fromkeys(paths))
