"""A commit's file listing from the git trees API: one recursive tree, walked when GitHub truncates it."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from forgeguard_app.github.client import InstallationAPI

log = logging.getLogger(__name__)

REGULAR_MODES = frozenset({"100644", "100755", "100664"})
"""The modes of regular files (a symlink is 120000, a submodule 160000)."""


@dataclass(frozen=True)
class TreeEntry:
    path: str
    mode: str
    sha: str
    size: int

    @property
    def regular(self) -> bool:
        return self.mode in REGULAR_MODES


async def fetch_tree(api: InstallationAPI, repo_path: str, commit: str) -> dict[str, TreeEntry]:
    """Every blob of `commit` by path: `GET {repo_path}/git/trees/{commit}?recursive=1`."""
    data = await api.getitem(f"{repo_path}/git/trees/{commit}?recursive=1")
    if not data.get("truncated"):
        return _entries(data["tree"], "")
    log.info("%s: the recursive tree of %s is truncated; walking it", repo_path, commit[:12])
    return await _walk(api, repo_path, data["sha"], "")


async def _walk(api: InstallationAPI, repo_path: str, tree_sha: str, prefix: str) -> dict[str, TreeEntry]:
    """A truncated tree, listed one level at a time with each subtree fetched recursively."""
    top = await api.getitem(f"{repo_path}/git/trees/{tree_sha}")
    entries = _entries(top["tree"], prefix)
    subtrees = [e for e in top["tree"] if e["type"] == "tree"]

    async def sub(entry: dict[str, Any]) -> dict[str, TreeEntry]:
        sub_prefix = f"{prefix}{entry['path']}/"
        data = await api.getitem(f"{repo_path}/git/trees/{entry['sha']}?recursive=1")
        if data.get("truncated"):
            return await _walk(api, repo_path, entry["sha"], sub_prefix)
        return _entries(data["tree"], sub_prefix)

    for found in await asyncio.gather(*(sub(e) for e in subtrees)):
        entries.update(found)
    return entries


def _entries(tree: list[dict[str, Any]], prefix: str) -> dict[str, TreeEntry]:
    return {
        f"{prefix}{e['path']}": TreeEntry(
            f"{prefix}{e['path']}", e["mode"], e["sha"], int(e.get("size") or 0)
        )
        for e in tree
        if e.get("type") == "blob"
    }
