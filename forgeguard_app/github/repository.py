"""One repository on GitHub as the engine needs it, in coroutines: history, changes, files in batches.

`GitHubRepository` is the one implementation; `forgeguard_app.github.source`
wraps it in the engine's blocking `Source` interface for the audit's worker
thread. Everything learnt is kept for the repository object's life (one
audit): compares, resolved revisions, trees, blobs by id, and which paths a
change touched, so that a file unchanged between the merge base and head is
read once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote

import gidgethub

from checks.source import EMPTY_TREE, Change, ChangedFile, CommitInfo
from forgeguard_app.github import blobs, changes, compare
from forgeguard_app.github.client import InstallationAPI
from forgeguard_app.github.compare import SHA, Compare
from forgeguard_app.github.trees import TreeEntry, fetch_tree

log = logging.getLogger(__name__)


@dataclass
class _Relation:
    """What a change taught us: which paths differ between the merge base and head."""

    merge_base: str
    head: str
    changed: dict[str, ChangedFile] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)
    """Every path that differs: changed paths and the previous paths of renames."""


class CommitFiles:
    """The files of one commit, listed from one git tree and read in batches."""

    def __init__(self, repository: GitHubRepository, commit: str) -> None:
        self._repository = repository
        self.commit = commit
        self._entries: dict[str, TreeEntry] | None = None
        self._data: dict[str, bytes | None] = {}
        self._raw_needed: set[str] = set()
        """Paths GraphQL could not give exactly (binary, truncated, not UTF-8): read raw."""

    def __repr__(self) -> str:
        return f"{self._repository.full_name}@{self.commit[:12]}"

    # -- what is known without a request (the blocking facade answers from it at once)

    @property
    def known_entries(self) -> dict[str, TreeEntry] | None:
        return self._entries

    def known(self, path: str) -> tuple[bool, bytes | None]:
        """(True, the bytes or None) when `path` was read already; (False, None) when not."""
        if path in self._data and path not in self._raw_needed:
            return True, self._data[path]
        return False, None

    def unread(self, paths: Iterable[str]) -> list[str]:
        return [p for p in dict.fromkeys(paths) if p not in self._data]

    # -- requests

    async def entries(self) -> dict[str, TreeEntry]:
        if self._entries is None:
            self._entries = await fetch_tree(self._repository.api, self._repository.path, self.commit)
        return self._entries

    def _from_entries(self, path: str) -> tuple[bool, bytes | None]:
        """What the listing already settles: no such file, over the read limit, or a blob already read."""
        if self._entries is None:
            return False, None
        entry = self._entries.get(path)
        if entry is None or not entry.regular:
            return True, None
        if entry.size > self._repository.max_file_bytes:
            log.info("%s: %s is %d bytes, over the read limit; skipped", self, path, entry.size)
            return True, None
        cached = self._repository.blobs.get(entry.sha)
        return (True, cached) if cached is not None else (False, None)

    async def read(self, path: str) -> bytes | None:
        done, data = self.known(path)
        if done:
            return data
        same = self._repository.unchanged_at_head(self.commit, path)
        if same is not None:
            data = await same.read(path)
            self._data[path] = data
            return data
        done, data = self._from_entries(path)
        if done:
            self._data[path] = data
            return data
        data = await blobs.read_raw(self._repository.api, self._repository.path, self.commit, path)
        self.store(path, data)
        return data

    def store(self, path: str, data: bytes | None, sha: str | None = None) -> None:
        self._data[path] = data
        self._raw_needed.discard(path)
        if data is not None and sha is not None:
            self._repository.blobs[sha] = data

    def read_raw_later(self, path: str) -> None:
        """GraphQL could not give the file exactly: a read fetches it raw."""
        self._data[path] = None
        self._raw_needed.add(path)

    async def prefetch(self, paths: Iterable[str]) -> None:
        """Fetch `paths` in one batch: GraphQL (plus merge-base versions of changed files), or a tarball."""
        todo: list[str] = []
        for path in dict.fromkeys(paths):
            if path in self._data:
                continue
            done, data = self._from_entries(path)
            if done:
                self._data[path] = data
                continue
            todo.append(path)
        if not todo:
            return
        if len(todo) > self._repository.tarball_threshold:
            await self._repository.fetch_tarball(self, todo)
            return
        pairs: list[tuple[CommitFiles, str]] = [(self, p) for p in todo]
        pairs.extend(self._repository.companions(self.commit, todo))
        await self._repository.fetch_blobs(pairs)


class GitHubRepository:
    """One repository through an `InstallationAPI`: what the engine's `Source` asks, as coroutines."""

    def __init__(
        self,
        api: InstallationAPI,
        owner: str,
        repo: str,
        *,
        tarball_threshold: int = 100,
        graphql_chunk: int = 100,
        max_file_bytes: int = 10 * 1024 * 1024,
    ) -> None:
        self.api = api
        self.owner = owner
        self.repo = repo
        self.path = f"/repos/{quote(owner, safe='')}/{quote(repo, safe='')}"
        self.tarball_threshold = tarball_threshold
        self.graphql_chunk = graphql_chunk
        self.max_file_bytes = max_file_bytes
        self.blobs: dict[str, bytes] = {}
        """File contents by blob id, whichever commit they were read at."""
        self._snapshots: dict[str, CommitFiles] = {}
        self._compares: dict[tuple[str, str], Compare | None] = {}
        self._resolved: dict[str, str | None] = {}
        self._relations: dict[str, _Relation] = {}

    def __repr__(self) -> str:
        return f"GitHubRepository({self.full_name})"

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"

    @property
    def calls(self) -> int:
        """Requests made through this repository's API client so far."""
        return self.api.calls

    def snapshot(self, commit: str) -> CommitFiles:
        """The files of `commit` (a full sha)."""
        snap = self._snapshots.get(commit)
        if snap is None:
            snap = self._snapshots[commit] = CommitFiles(self, commit)
        return snap

    # -- history

    async def resolve(self, rev: str) -> str | None:
        """The full sha of `rev`, or None when it does not resolve."""
        if rev == EMPTY_TREE:
            return EMPTY_TREE
        if rev in self._resolved:
            return self._resolved[rev]
        try:
            data = await self.api.download(
                f"{self.path}/commits/{quote(rev, safe='/')}", accept="application/vnd.github.sha"
            )
        except gidgethub.BadRequest as exc:
            if int(exc.status_code) in (404, 409, 422):
                self._resolved[rev] = None
                return None
            raise
        sha = data.decode("ascii", "replace").strip()
        self._resolved[rev] = sha if SHA.match(sha) else None
        return self._resolved[rev]

    async def commit_of(self, rev: str) -> str:
        """The full sha of `rev`; LookupError when it names no commit."""
        commit = rev if SHA.match(rev) else await self.resolve(rev)
        if commit is None or commit == EMPTY_TREE:
            raise LookupError(f"unknown commit {rev!r} in {self.full_name}")
        return commit

    async def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        if ancestor in (EMPTY_TREE, descendant):
            return True
        found = await self.compare(ancestor, descendant)
        return found is not None and found.status in ("ahead", "identical")

    async def compare(self, base: str, head: str) -> Compare | None:
        """`base...head` as GitHub compares it (asked once); None when GitHub cannot."""
        key = (base, head)
        if key not in self._compares:
            found = await compare.fetch_compare(self.api, self.path, base, head)
            if found is not None:
                self._resolved.setdefault(base, found.base)
                self._resolved.setdefault(head, found.head)
            self._compares[key] = found
        return self._compares[key]

    async def commits_between(self, base: str, head: str) -> list[CommitInfo]:
        """Commits reachable from head and not from base, oldest first, with the paths each touched."""
        if base == EMPTY_TREE:
            commits = await compare.history(self.api, self.path, head)
            single_paths: tuple[str, ...] | None = None
        else:
            found = await self.compare(base, head)
            if found is None:
                raise compare.not_found(f"{self.full_name}: GitHub cannot compare {base}...{head}")
            commits = await compare.all_commits(self.api, self.path, base, head, found)
            single_paths = None
            if (
                len(commits) == 1
                and commits[0]["parents"]
                and commits[0]["parents"][0]["sha"] == found.merge_base
                and found.files_complete
            ):
                single_paths = compare.paths_of(found.files)
        if single_paths is not None:
            only = commits[0]
            return [CommitInfo(only["sha"], single_paths, only["commit"]["message"])]
        limit = asyncio.Semaphore(8)

        async def paths(sha: str) -> tuple[str, ...]:
            async with limit:
                return await compare.commit_paths(self.api, self.path, sha)

        touched = await asyncio.gather(*(paths(c["sha"]) for c in commits))
        return [
            CommitInfo(c["sha"], p, c["commit"]["message"]) for c, p in zip(commits, touched, strict=True)
        ]

    # -- batches of files

    def companions(self, head: str, paths: list[str]) -> list[tuple[CommitFiles, str]]:
        """The merge-base versions of those of `paths` a known change modified (for base reads)."""
        found: list[tuple[CommitFiles, str]] = []
        for rel in self._relations.values():
            if rel.head != head or rel.merge_base == EMPTY_TREE:
                continue
            base = self.snapshot(rel.merge_base)
            for path in paths:
                changed = rel.changed.get(path)
                if changed is None or changed.status == "added":
                    continue
                old = changed.previous_path or path
                if base.unread([old]):
                    found.append((base, old))
        return found

    def unchanged_at_head(self, commit: str, path: str) -> CommitFiles | None:
        """The head's files when `path` is known to be the same at `commit` (a merge base) and there."""
        rel = self._relations.get(commit)
        if rel is None or rel.head == commit or path in rel.touched:
            return None
        return self.snapshot(rel.head)

    async def fetch_blobs(self, pairs: list[tuple[CommitFiles, str]]) -> None:
        """Files of snapshots through GraphQL, `graphql_chunk` a query."""
        if not pairs:
            return
        found = await blobs.query_blobs(
            self.api, self.owner, self.repo, [f"{s.commit}:{path}" for s, path in pairs], self.graphql_chunk
        )
        for (snap, path), blob in zip(pairs, found, strict=True):
            data, exact = blobs.blob_bytes(blob)
            if blob is None or "oid" not in blob:
                snap.store(path, None)
            elif exact:
                snap.store(path, data, blob["oid"])
            elif blob.get("byteSize", 0) > self.max_file_bytes:
                log.info("%s: %s is %d bytes, over the read limit; skipped", snap, path, blob["byteSize"])
                snap.store(path, None)
            else:
                snap.read_raw_later(path)

    async def fetch_tarball(self, snap: CommitFiles, paths: list[str]) -> None:
        """The commit's tarball, the wanted regular files kept."""
        wanted = set(paths)
        files, skipped = await blobs.tarball_files(
            self.api, self.path, snap.commit, wanted, self.max_file_bytes
        )
        entries = snap.known_entries or {}
        for path in wanted:
            if path in skipped:
                log.info("%s: %s is over the read limit; skipped", snap, path)
            entry = entries.get(path)
            snap.store(path, files.get(path), entry.sha if entry else None)

    # -- the change

    async def change(self, base: str, head: str) -> Change:
        """The change `base...head` (from their merge base), with added lines numbered at head."""
        return await changes.change(self, base, head)

    def remember(self, merge_base: str, head: str, files: list[ChangedFile]) -> None:
        """Which paths differ between `merge_base` and `head` (the others are read once, at head)."""
        rel = _Relation(merge_base, head)
        for f in files:
            rel.changed[f.path] = f
            rel.touched.add(f.path)
            if f.previous_path:
                rel.touched.add(f.previous_path)
        self._relations[merge_base] = rel
