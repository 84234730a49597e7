"""What a build does on GitHub besides its commits' audits: branch, draft pull request, labels, the end.

Each function is one or two requests and safe to call again after a worker
died half-way (an existing branch or pull request is found and reused).
Commits go through the Git Data API (`commands.gitdata` for blobs and reads;
the tree here takes file contents inline, so a phase's commit costs one tree
and one commit request whatever the number of files).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import gidgethub
from gidgethub.abc import GitHubAPI

from forgeguard_app.commands import gitdata

log = logging.getLogger(__name__)

BUILDING_LABEL = "forge:building"
MARK_READY = """
mutation($id: ID!) {
  markPullRequestReadyForReview(input: {pullRequestId: $id}) {
    pullRequest { number isDraft }
  }
}
"""


def _vars(owner: str, repo: str, **more: str) -> dict[str, str]:
    return {"owner": owner, "repo": repo, **more}


@dataclass(frozen=True)
class PullRequest:
    number: int
    node_id: str
    html_url: str


async def ensure_branch(api: GitHubAPI, owner: str, repo: str, branch: str, sha: str) -> str:
    """The build branch made at `sha`, or the head it already has (a step run again); its head."""
    head = await gitdata.branch_head(api, owner, repo, branch)
    if head is not None:
        return head
    await api.post(
        "/repos/{owner}/{repo}/git/refs", _vars(owner, repo), data={"ref": f"refs/heads/{branch}", "sha": sha}
    )
    return sha


async def open_draft(
    api: GitHubAPI, owner: str, repo: str, *, title: str, head: str, base: str, body: str
) -> PullRequest:
    """The build's draft pull request (`POST /pulls` with `draft: true`), or the open one of `head`."""
    try:
        data = await api.post(
            "/repos/{owner}/{repo}/pulls",
            _vars(owner, repo),
            data={"title": title, "head": head, "base": base, "body": body, "draft": True},
        )
    except gidgethub.BadRequest as exc:
        if exc.status_code != 422:
            raise
        async for pull in api.getiter(
            "/repos/{owner}/{repo}/pulls{?head,state}",
            _vars(owner, repo, head=f"{owner}:{head}", state="open"),
        ):
            return PullRequest(int(pull["number"]), str(pull["node_id"]), str(pull["html_url"]))
        raise
    return PullRequest(int(data["number"]), str(data["node_id"]), str(data["html_url"]))


async def pull_node_id(api: GitHubAPI, owner: str, repo: str, number: int) -> str:
    data = await api.getitem("/repos/{owner}/{repo}/pulls/{n}", _vars(owner, repo, n=str(number)))
    return str(data["node_id"])


async def mark_ready(api: GitHubAPI, node_id: str) -> None:
    """GraphQL `markPullRequestReadyForReview` (REST cannot take a pull request out of draft)."""
    await api.graphql(MARK_READY, id=node_id)


async def add_label(api: GitHubAPI, owner: str, repo: str, number: int, label: str = BUILDING_LABEL) -> None:
    await gitdata.add_labels(api, owner, repo, number, [label])


async def remove_label(
    api: GitHubAPI, owner: str, repo: str, number: int, label: str = BUILDING_LABEL
) -> None:
    """Take a label off an issue or pull request; one that is not there is fine."""
    try:
        await api.delete(
            "/repos/{owner}/{repo}/issues/{n}/labels/{name}", _vars(owner, repo, n=str(number), name=label)
        )
    except gidgethub.BadRequest as exc:
        if exc.status_code != 404:
            raise


@dataclass(frozen=True)
class IssueState:
    open: bool
    locked: bool


async def issue_state(api: GitHubAPI, owner: str, repo: str, number: int) -> IssueState:
    data = await api.getitem("/repos/{owner}/{repo}/issues/{n}", _vars(owner, repo, n=str(number)))
    return IssueState(open=data.get("state") == "open", locked=bool(data.get("locked")))


async def find_check_run(
    api: GitHubAPI, owner: str, repo: str, sha: str, name: str, external_id: str
) -> dict[str, Any] | None:
    """The check run `name` on `sha` with this `external_id` (a build's attempt), if GitHub has one."""
    listed = await api.getitem(
        "/repos/{owner}/{repo}/commits/{ref}/check-runs{?check_name,filter,per_page}",
        _vars(owner, repo, ref=sha, check_name=name, filter="all", per_page="100"),
    )
    for run in listed.get("check_runs", []):
        if run.get("external_id") == external_id:
            return dict(run)
    return None


# --- commits -------------------------------------------------------------------------------


def tree_entries(
    files: Mapping[str, bytes | None], modes: Mapping[str, str] | None = None
) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """Tree entries for changed files: text inline, deletions as `sha: null`; binary files left for blobs.

    `modes` keeps a file's mode (an executable script stays `100755`); `100644` otherwise.
    """
    entries: list[dict[str, Any]] = []
    binary: dict[str, bytes] = {}
    for path, data in sorted(files.items()):
        mode = (modes or {}).get(path, gitdata.FILE_MODE)
        if data is None:
            entries.append({"path": path, "mode": gitdata.FILE_MODE, "type": "blob", "sha": None})
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            binary[path] = data
            continue
        if "\x00" in text:
            binary[path] = data
            continue
        entries.append({"path": path, "mode": mode, "type": "blob", "content": text})
    return entries, binary


async def create_tree(
    api: GitHubAPI,
    owner: str,
    repo: str,
    *,
    base_tree: str,
    files: Mapping[str, bytes | None],
    modes: Mapping[str, str] | None = None,
) -> str:
    """One tree on top of `base_tree` with `files` changed (one request, plus a blob per binary file)."""
    entries, binary = tree_entries(files, modes)
    for path, data in binary.items():
        blob = await api.post(
            "/repos/{owner}/{repo}/git/blobs",
            _vars(owner, repo),
            data={"content": base64.b64encode(data).decode("ascii"), "encoding": "base64"},
        )
        mode = (modes or {}).get(path, gitdata.FILE_MODE)
        entries.append({"path": path, "mode": mode, "type": "blob", "sha": str(blob["sha"])})
    if not entries:
        return base_tree
    data = await api.post(
        "/repos/{owner}/{repo}/git/trees", _vars(owner, repo), data={"base_tree": base_tree, "tree": entries}
    )
    return str(data["sha"])


async def create_commit(
    api: GitHubAPI, owner: str, repo: str, *, tree: str, parent: str, message: str
) -> str:
    """A commit with no author or committer (GitHub signs it as the app)."""
    data = await api.post(
        "/repos/{owner}/{repo}/git/commits",
        _vars(owner, repo),
        data={"message": message, "tree": tree, "parents": [parent]},
    )
    return str(data["sha"])


async def branch_head_or(api: GitHubAPI, owner: str, repo: str, branch: str, default: str) -> str:
    """The branch's head now (`default` when it does not exist)."""
    return await gitdata.branch_head(api, owner, repo, branch) or default


async def move_branch(api: GitHubAPI, owner: str, repo: str, branch: str, sha: str) -> None:
    """The branch moves forward to `sha` (never forced)."""
    await api.patch(
        "/repos/{owner}/{repo}/git/refs/{+ref}",
        _vars(owner, repo, ref=f"heads/{branch}"),
        data={"sha": sha, "force": False},
    )


async def keep_ref(api: GitHubAPI, owner: str, repo: str, ref: str, sha: str) -> None:
    """A ref of its own for a failed attempt; one that already points there (a step run again) is fine."""
    try:
        await api.post("/repos/{owner}/{repo}/git/refs", _vars(owner, repo), data={"ref": ref, "sha": sha})
    except gidgethub.BadRequest as exc:
        if exc.status_code != 422:
            raise
        log.info("attempt ref %s already exists", ref)


async def contracts_files(api: GitHubAPI, owner: str, repo: str, ref: str) -> dict[str, str]:
    """The contracts the builder reads: `Forge/Contracts/*` and `forge.json` at `ref`."""
    files = await gitdata.read_tree(api, owner, repo, "Forge/Contracts", ref)
    forge = await gitdata.read_file(api, owner, repo, "forge.json", ref)
    if forge is not None:
        files["forge.json"] = forge
    return files
