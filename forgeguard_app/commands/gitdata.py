"""Committing files to a branch through the Git Data API, and the pull request around it.

Blobs, then a tree on top of the parent's tree (`base_tree`), then a commit
with no author or committer (so GitHub attributes and signs it as the app),
then the branch ref created or moved forward (never forced). Reading goes
through the contents API at the branch, so human edits pushed there are what
the next revision starts from.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import gidgethub
from gidgethub.abc import GitHubAPI

from forgeguard_app.github.once import create_once

log = logging.getLogger(__name__)

FILE_MODE = "100644"


@dataclass(frozen=True)
class CommitResult:
    """What `commit_files` did."""

    sha: str
    """The branch head after the call (the new commit, or the old head when nothing changed)."""
    parent: str
    changed: bool
    created_branch: bool


def _repo_vars(owner: str, repo: str, **more: str) -> dict[str, str]:
    return {"owner": owner, "repo": repo, **more}


def encode_blob(content: str | bytes) -> dict[str, str]:
    """The create-blob body for a file's content (base64, so any bytes survive)."""
    raw = content.encode("utf-8") if isinstance(content, str) else content
    return {"content": base64.b64encode(raw).decode("ascii"), "encoding": "base64"}


def tree_entries(blobs: Mapping[str, str]) -> list[dict[str, str]]:
    """Tree entries (sorted by path) for files whose blobs were created: path -> blob sha."""
    return [
        {"path": path, "mode": FILE_MODE, "type": "blob", "sha": sha} for path, sha in sorted(blobs.items())
    ]


async def branch_head(api: GitHubAPI, owner: str, repo: str, branch: str) -> str | None:
    """The sha a branch points at, or None when the branch does not exist."""
    try:
        data = await api.getitem(
            "/repos/{owner}/{repo}/git/ref/{+ref}", _repo_vars(owner, repo, ref=f"heads/{branch}")
        )
    except gidgethub.BadRequest as exc:
        if exc.status_code == 404:
            return None
        raise
    return str(data["object"]["sha"])


async def commit_tree_sha(api: GitHubAPI, owner: str, repo: str, commit_sha: str) -> str:
    """The tree of a commit (`GET /repos/{owner}/{repo}/commits/{ref}` carries `commit.tree.sha`)."""
    data = await api.getitem("/repos/{owner}/{repo}/commits/{ref}", _repo_vars(owner, repo, ref=commit_sha))
    return str(data["commit"]["tree"]["sha"])


async def commit_files(
    api: GitHubAPI,
    owner: str,
    repo: str,
    *,
    branch: str,
    base_branch: str,
    files: Mapping[str, str | bytes],
    message: str,
) -> CommitResult:
    """Commit `files` on `branch` (created from `base_branch`'s head when missing).

    Files not named keep their content from the parent (`base_tree`). When the
    new tree equals the parent's, no commit is made.
    """
    head = await branch_head(api, owner, repo, branch)
    created = head is None
    parent = head or await branch_head(api, owner, repo, base_branch)
    if parent is None:
        raise LookupError(f"the base branch {base_branch!r} does not exist")
    base_tree = await commit_tree_sha(api, owner, repo, parent)
    blobs: dict[str, str] = {}
    for path, content in files.items():
        blob = await api.post(
            "/repos/{owner}/{repo}/git/blobs", _repo_vars(owner, repo), data=encode_blob(content)
        )
        blobs[path] = str(blob["sha"])
    tree = await api.post(
        "/repos/{owner}/{repo}/git/trees",
        _repo_vars(owner, repo),
        data={"base_tree": base_tree, "tree": tree_entries(blobs)},
    )
    tree_sha = str(tree["sha"])
    if tree_sha == base_tree and not created:
        return CommitResult(sha=parent, parent=parent, changed=False, created_branch=False)
    commit = await api.post(
        "/repos/{owner}/{repo}/git/commits",
        _repo_vars(owner, repo),
        data={"message": message, "tree": tree_sha, "parents": [parent]},
    )
    sha = str(commit["sha"])
    if created:
        await create_ref(api, owner, repo, branch, sha)
    else:
        await api.patch(
            "/repos/{owner}/{repo}/git/refs/{+ref}",
            _repo_vars(owner, repo, ref=f"heads/{branch}"),
            data={"sha": sha, "force": False},
        )
    log.info("committed %d file(s) to %s/%s %s as %s", len(files), owner, repo, branch, sha[:12])
    return CommitResult(sha=sha, parent=parent, changed=True, created_branch=created)


async def create_ref(api: GitHubAPI, owner: str, repo: str, branch: str, sha: str) -> None:
    """Create `branch` at `sha`; after a lost answer, a branch already at `sha` is the one made."""

    async def create() -> bool:
        await api.post(
            "/repos/{owner}/{repo}/git/refs",
            _repo_vars(owner, repo),
            data={"ref": f"refs/heads/{branch}", "sha": sha},
        )
        return True

    async def find() -> bool | None:
        return True if await branch_head(api, owner, repo, branch) == sha else None

    await create_once(api, create, find)


def _decode_content(item: Mapping[str, Any]) -> str:
    raw = base64.b64decode(str(item.get("content") or ""))
    return raw.decode("utf-8", "replace")


async def read_file(api: GitHubAPI, owner: str, repo: str, path: str, ref: str) -> str | None:
    """One text file at `ref`, or None when it does not exist."""
    try:
        data = await api.getitem(
            "/repos/{owner}/{repo}/contents/{+path}{?ref}", _repo_vars(owner, repo, path=path, ref=ref)
        )
    except gidgethub.BadRequest as exc:
        if exc.status_code == 404:
            return None
        raise
    if not isinstance(data, dict) or data.get("type") != "file":
        return None
    return _decode_content(data)


async def read_tree(api: GitHubAPI, owner: str, repo: str, folder: str, ref: str) -> dict[str, str]:
    """Every file under `folder` at `ref` (recursively), path -> text; empty when the folder is missing."""
    try:
        listing = await api.getitem(
            "/repos/{owner}/{repo}/contents/{+path}{?ref}", _repo_vars(owner, repo, path=folder, ref=ref)
        )
    except gidgethub.BadRequest as exc:
        if exc.status_code == 404:
            return {}
        raise
    if not isinstance(listing, list):
        return {}
    files: dict[str, str] = {}
    for entry in listing:
        path = str(entry["path"])
        if entry.get("type") == "dir":
            files.update(await read_tree(api, owner, repo, path, ref))
        elif entry.get("type") == "file":
            text = await read_file(api, owner, repo, path, ref)
            if text is not None:
                files[path] = text
    return files


async def open_pull_request(
    api: GitHubAPI, owner: str, repo: str, *, title: str, head: str, base: str, body: str
) -> dict[str, Any]:
    """Open a pull request from `head` into `base`; returns GitHub's pull request object."""

    async def create() -> dict[str, Any]:
        data = await api.post(
            "/repos/{owner}/{repo}/pulls",
            _repo_vars(owner, repo),
            data={"title": title, "head": head, "base": base, "body": body},
        )
        return dict(data)

    async def find() -> dict[str, Any] | None:
        number = await open_pull_number(api, owner, repo, head)
        if number is None:
            return None
        pull = await api.getitem(
            "/repos/{owner}/{repo}/pulls/{pull_number}", _repo_vars(owner, repo, pull_number=str(number))
        )
        return dict(pull)

    # After a lost answer, the open pull request from `head` is the one the first request made.
    return await create_once(api, create, find)


async def open_pull_number(api: GitHubAPI, owner: str, repo: str, branch: str) -> int | None:
    """The number of the open pull request from `branch` in this repository, if there is one."""
    async for pull in api.getiter(
        "/repos/{owner}/{repo}/pulls{?head,state}",
        _repo_vars(owner, repo, head=f"{owner}:{branch}", state="open"),
    ):
        return int(pull["number"])
    return None


async def update_pull_request(api: GitHubAPI, owner: str, repo: str, number: int, **fields: Any) -> None:
    """Change a pull request's title, body or state."""
    await api.patch(
        "/repos/{owner}/{repo}/pulls/{pull_number}",
        _repo_vars(owner, repo, pull_number=str(number)),
        data=fields,
    )


async def add_labels(api: GitHubAPI, owner: str, repo: str, number: int, labels: list[str]) -> None:
    """Add labels to an issue or pull request (GitHub creates labels it does not know)."""
    await api.post(
        "/repos/{owner}/{repo}/issues/{issue_number}/labels",
        _repo_vars(owner, repo, issue_number=str(number)),
        data={"labels": labels},
    )
