"""The engine's `checks.source.Source` over the GitHub API, spending as few requests as it can.

The engine runs in a worker thread (`asyncio.to_thread`); every method here
is synchronous and runs its requests on the app's event loop with
`asyncio.run_coroutine_threadsafe(...).result()`. Calling one from the loop's
own thread is refused (it would deadlock). `aread_files` is the coroutine
form for code already on the loop.

Request budget of one push audit (≤ 20 changed files, any repository size)::

    change(base, head)        1  GET /repos/{o}/{r}/compare/{base}...{head}
                                 (files with status, previous_filename, patch -> added lines;
                                  commits; the merge base and the head sha)
    snapshot(head).paths()    1  GET /repos/{o}/{r}/git/trees/{head}?recursive=1
    snapshot(head).prefetch   1  POST /graphql, one `object(expression: "<sha>:<path>")` alias
                                 per file, plus the merge-base version of each changed file
                                 prefetched (so base reads are free too)
    base reads                0  an unchanged path at the merge base is the head's file
    configuration             1  (the caller's: contents or `read_files`, one GraphQL query)
    check run create, update  2
                              -
                              6  (≤ 8 promised; A6 adds 1 resolve + 1 compare + 1 per commit
                                  when several commits follow the last authorization)

Larger work stays bounded: more than `tarball_threshold` files to read (e.g.
`--full`) fetch one tarball of the commit instead (GET tarball, redirect
followed, extracted in memory, files over `max_file_bytes` skipped); a compare
listing 300 files (GitHub's cap: the compare endpoint never lists more, its
pagination pages commits only) is replaced by the two git trees
(merge base, head) plus one tarball each, diffed here — five requests for a
5,000-file change. A file GitHub gives no patch for (binary, or too large)
is inspected in one batch: binary when it is, too large (`binary=True`, no
lines) when over `max_file_bytes`, else its added lines come from a diff of
the two versions.
"""

from __future__ import annotations

import asyncio
import difflib
import http
import io
import logging
import re
import tarfile
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

import gidgethub

from checks.source import EMPTY_TREE, Change, ChangedFile, CommitInfo, Status
from forgeguard_app.github.client import RAW, InstallationAPI

log = logging.getLogger("forgeguard_app.github.source")

T = TypeVar("T")

COMPARE_FILE_CAP = 300
"""GitHub lists at most this many files in a compare; at the cap the list may be cut."""
REGULAR_MODES = frozenset({"100644", "100755", "100664"})
_HUNK = re.compile(r"^@@+ (?:-\d+(?:,\d+)? )+\+(\d+)(?:,\d+)? @@")
_SHA = re.compile(r"^[0-9a-f]{40}$")
_STATUS: dict[str, Status] = {
    "added": "added",
    "removed": "removed",
    "modified": "modified",
    "renamed": "renamed",
    "copied": "copied",
    "changed": "modified",
    "unchanged": "modified",
}
_BLOB_FIELDS = "... on Blob { oid byteSize isBinary isTruncated text }"


def added_lines(patch: str) -> list[tuple[int, str]]:
    """(line number at head, text) of every `+` line of a unified-diff patch as GitHub sends it.

    Hunk headers set the head line number; context lines advance it; `-` lines
    and `\\ No newline at end of file` do not. A trailing CR is removed, as the
    local source does.
    """
    found: list[tuple[int, str]] = []
    number = 0
    in_hunk = False
    for line in patch.split("\n"):
        match = _HUNK.match(line)
        if match:
            number = int(match.group(1))
            in_hunk = True
            continue
        if not in_hunk:
            continue
        if line.startswith("+"):
            found.append((number, line[1:].removesuffix("\r")))
            number += 1
        elif line.startswith(" ") or line == "":
            number += 1
        # "-" lines and "\ No newline at end of file" do not exist at head
    return found


def diff_added_lines(old: bytes | None, new: bytes) -> list[tuple[int, str]]:
    """Added lines of `new` against `old` (None: all of `new`), numbered at `new`."""
    new_lines = new.decode("utf-8", "replace").split("\n")
    if new_lines and new_lines[-1] == "":
        new_lines.pop()
    if old is None:
        return [(i + 1, text.removesuffix("\r")) for i, text in enumerate(new_lines)]
    old_lines = old.decode("utf-8", "replace").split("\n")
    if old_lines and old_lines[-1] == "":
        old_lines.pop()
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    found: list[tuple[int, str]] = []
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag in ("insert", "replace"):
            found.extend((j + 1, new_lines[j].removesuffix("\r")) for j in range(j1, j2))
    return found


def is_binary(data: bytes) -> bool:
    """git's test: a NUL byte in the first 8000 bytes."""
    return b"\x00" in data[:8000]


@dataclass(frozen=True)
class TreeEntry:
    path: str
    mode: str
    sha: str
    size: int


@dataclass
class _Compare:
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


@dataclass
class _Relation:
    """What a change taught us: which paths differ between the merge base and head."""

    merge_base: str
    head: str
    changed: dict[str, ChangedFile] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)
    """Every path that differs: changed paths and the previous paths of renames."""


class GitHubSnapshot:
    """The files of one commit, listed from one git tree and read in batches."""

    def __init__(self, source: GitHubSource, commit: str) -> None:
        self._source = source
        self._commit = commit
        self._entries: dict[str, TreeEntry] | None = None
        self._data: dict[str, bytes | None] = {}
        self._raw_needed: set[str] = set()
        """Paths GraphQL could not give exactly (binary, truncated, not UTF-8): read raw."""

    def __repr__(self) -> str:
        return f"GitHubSnapshot({self._source.full_name}@{self._commit[:12]})"

    @property
    def commit(self) -> str:
        return self._commit

    # -- tree

    async def aentries(self) -> dict[str, TreeEntry]:
        if self._entries is None:
            self._entries = await self._source._tree(self._commit)
        return self._entries

    def _tree(self) -> dict[str, TreeEntry]:
        if self._entries is None:
            self._source._run(self.aentries())
        assert self._entries is not None
        return self._entries

    def paths(self) -> Sequence[str]:
        return [p for p, e in self._tree().items() if e.mode in REGULAR_MODES]

    def exists(self, path: str) -> bool:
        entry = self._tree().get(path)
        return entry is not None and entry.mode in REGULAR_MODES

    def size(self, path: str) -> int | None:
        entry = self._tree().get(path)
        return None if entry is None or entry.mode not in REGULAR_MODES else entry.size

    def blob_id(self, path: str) -> str | None:
        entry = self._tree().get(path)
        return None if entry is None or entry.mode not in REGULAR_MODES else entry.sha

    # -- contents

    def read(self, path: str) -> bytes | None:
        if path in self._data and path not in self._raw_needed:
            return self._data[path]
        return self._source._run(self.aread(path))

    async def aread(self, path: str) -> bytes | None:
        if path in self._data and path not in self._raw_needed:
            return self._data[path]
        same = self._source._unchanged_at_head(self._commit, path)
        if same is not None:
            data = await same.aread(path)
            self._data[path] = data
            return data
        if self._entries is not None:
            entry = self._entries.get(path)
            if entry is None or entry.mode not in REGULAR_MODES:
                self._data[path] = None
                return None
            if entry.size > self._source.max_file_bytes:
                log.info("%s: %s is %d bytes, over the read limit; skipped", self, path, entry.size)
                self._data[path] = None
                return None
            cached = self._source._blobs.get(entry.sha)
            if cached is not None:
                self._data[path] = cached
                return cached
        data = await self._source._read_raw(self._commit, path)
        self._store(path, data)
        return data

    def _store(self, path: str, data: bytes | None, sha: str | None = None) -> None:
        self._data[path] = data
        self._raw_needed.discard(path)
        if data is not None and sha is not None:
            self._source._blobs[sha] = data

    def prefetch(self, paths: Iterable[str]) -> None:
        wanted = [p for p in dict.fromkeys(paths) if p not in self._data]
        if wanted:
            self._source._run(self.aprefetch(wanted))

    async def aprefetch(self, paths: Iterable[str]) -> None:
        """Fetch `paths` in one batch: GraphQL (plus merge-base versions of changed files), or a tarball."""
        todo: list[str] = []
        for path in dict.fromkeys(paths):
            if path in self._data:
                continue
            if self._entries is not None:
                entry = self._entries.get(path)
                if entry is None or entry.mode not in REGULAR_MODES:
                    self._data[path] = None
                    continue
                if entry.size > self._source.max_file_bytes:
                    log.info("%s: %s is %d bytes, over the read limit; skipped", self, path, entry.size)
                    self._data[path] = None
                    continue
                cached = self._source._blobs.get(entry.sha)
                if cached is not None:
                    self._data[path] = cached
                    continue
            todo.append(path)
        if not todo:
            return
        if len(todo) > self._source.tarball_threshold:
            await self._source._fetch_tarball(self, todo)
            return
        pairs: list[tuple[GitHubSnapshot, str]] = [(self, p) for p in todo]
        pairs.extend(self._source._companions(self._commit, todo))
        await self._source._fetch_graphql(pairs)


class GitHubSource:
    """`checks.source.Source` for one repository, through an `InstallationAPI`."""

    def __init__(
        self,
        api: InstallationAPI,
        owner: str,
        repo: str,
        loop: asyncio.AbstractEventLoop,
        *,
        tarball_threshold: int = 100,
        graphql_chunk: int = 100,
        max_file_bytes: int = 10 * 1024 * 1024,
        timeout: float = 600.0,
    ) -> None:
        self.api = api
        self.owner = owner
        self.repo = repo
        self.loop = loop
        self.tarball_threshold = tarball_threshold
        self.graphql_chunk = graphql_chunk
        self.max_file_bytes = max_file_bytes
        self.timeout = timeout
        self._snapshots: dict[str, GitHubSnapshot] = {}
        self._compares: dict[tuple[str, str], _Compare | None] = {}
        self._resolved: dict[str, str | None] = {}
        self._blobs: dict[str, bytes] = {}
        self._relations: dict[str, _Relation] = {}
        self._named: dict[tuple[str, str], bytes | None] = {}
        self._named_raw: set[tuple[str, str]] = set()

    def __repr__(self) -> str:
        return f"GitHubSource({self.full_name})"

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"

    @property
    def calls(self) -> int:
        """Requests made through this source's API client so far."""
        return self.api.calls

    def _repo_path(self, rest: str) -> str:
        return f"/repos/{quote(self.owner, safe='')}/{quote(self.repo, safe='')}{rest}"

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            coro.close()
            raise RuntimeError("GitHubSource blocks: call it from a worker thread (asyncio.to_thread)")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(self.timeout)

    # -- history

    def resolve(self, rev: str) -> str | None:
        if rev == EMPTY_TREE:
            return EMPTY_TREE
        if rev in self._resolved:
            return self._resolved[rev]
        return self._run(self.aresolve(rev))

    async def aresolve(self, rev: str) -> str | None:
        if rev == EMPTY_TREE:
            return EMPTY_TREE
        if rev in self._resolved:
            return self._resolved[rev]
        try:
            data = await self.api.download(
                self._repo_path(f"/commits/{quote(rev, safe='/')}"), accept="application/vnd.github.sha"
            )
        except gidgethub.BadRequest as exc:
            if int(exc.status_code) in (404, 409, 422):
                self._resolved[rev] = None
                return None
            raise
        sha = data.decode("ascii", "replace").strip()
        self._resolved[rev] = sha if _SHA.match(sha) else None
        return self._resolved[rev]

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return self._run(self.ais_ancestor(ancestor, descendant))

    async def ais_ancestor(self, ancestor: str, descendant: str) -> bool:
        if ancestor in (EMPTY_TREE, descendant):
            return True
        compare = await self._compare(ancestor, descendant)
        return compare is not None and compare.status in ("ahead", "identical")

    def snapshot(self, rev: str) -> GitHubSnapshot:
        commit = rev if _SHA.match(rev) else self.resolve(rev)
        if commit is None or commit == EMPTY_TREE:
            raise LookupError(f"unknown commit {rev!r} in {self.full_name}")
        return self._snapshot(commit)

    def _snapshot(self, commit: str) -> GitHubSnapshot:
        snap = self._snapshots.get(commit)
        if snap is None:
            snap = self._snapshots[commit] = GitHubSnapshot(self, commit)
        return snap

    def change(self, base: str, head: str) -> Change:
        return self._run(self.achange(base, head))

    def commits_between(self, base: str, head: str) -> list[CommitInfo]:
        return self._run(self.acommits_between(base, head))

    # -- reading at named revisions (configuration on the default branch)

    def read_file_at(self, ref: str, path: str) -> bytes | None:
        """A file at a branch, tag or sha (e.g. the configuration on the default branch)."""
        return self.read_files([(ref, path)])[(ref, path)]

    def read_files(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], bytes | None]:
        """Files at revisions, in one GraphQL query: {(ref, path): bytes or None}."""
        return self._run(self.aread_files(pairs))

    async def aread_files(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], bytes | None]:
        """`read_files` for code on the event loop."""
        wanted = list(dict.fromkeys(pairs))
        by_sha = [(self._snapshot(ref), path) for ref, path in wanted if _SHA.match(ref)]
        await self._fetch_graphql(
            [(s, p) for s, p in by_sha if p not in s._data],
            named=[
                (ref, path) for ref, path in wanted if not _SHA.match(ref) and (ref, path) not in self._named
            ],
        )
        result: dict[tuple[str, str], bytes | None] = {}
        for ref, path in wanted:
            if _SHA.match(ref):
                result[(ref, path)] = await self._snapshot(ref).aread(path)
            else:
                data = self._named.get((ref, path))
                if data is None and (ref, path) in self._named_raw:
                    data = await self._read_raw(ref, path)
                    self._named[(ref, path)] = data
                    self._named_raw.discard((ref, path))
                result[(ref, path)] = data
        return result

    # -- requests

    async def _compare(self, base: str, head: str) -> _Compare | None:
        key = (base, head)
        if key in self._compares:
            return self._compares[key]
        path = self._repo_path(f"/compare/{quote(base, safe='/:')}...{quote(head, safe='/:')}")
        try:
            data = await self.api.getitem(path)
        except gidgethub.BadRequest as exc:
            if int(exc.status_code) == 404:
                self._compares[key] = None
                return None
            raise
        commits = list(data.get("commits") or [])
        total = int(data.get("total_commits") or 0)
        base_sha = data["base_commit"]["sha"]
        merge_base = data["merge_base_commit"]["sha"]
        if _SHA.match(head):
            head_sha = head
        elif commits and data.get("ahead_by", 0):
            head_sha = commits[-1]["sha"]  # unpaged: the last commit is the head
        elif data.get("status") == "identical":
            head_sha = base_sha
        else:
            head_sha = merge_base
        result = _Compare(
            base=base_sha,
            head=head_sha,
            merge_base=merge_base,
            status=str(data.get("status")),
            total_commits=total,
            commits=commits,
            files=list(data.get("files") or []),
        )
        self._resolved.setdefault(base, base_sha)
        self._resolved.setdefault(head, head_sha)
        self._compares[key] = result
        return result

    async def _all_commits(self, base: str, head: str, compare: _Compare) -> list[dict[str, Any]]:
        if compare.total_commits <= len(compare.commits):
            return compare.commits
        commits: list[dict[str, Any]] = []
        page = 1
        path = self._repo_path(f"/compare/{quote(base, safe='/:')}...{quote(head, safe='/:')}")
        while len(commits) < compare.total_commits:
            data = await self.api.getitem(f"{path}?per_page=100&page={page}")
            chunk = data.get("commits") or []
            if not chunk:
                break
            commits.extend(chunk)
            page += 1
        return commits

    async def _tree(self, commit: str) -> dict[str, TreeEntry]:
        data = await self.api.getitem(self._repo_path(f"/git/trees/{commit}?recursive=1"))
        if not data.get("truncated"):
            return _entries(data["tree"], "")
        log.info("%s: the recursive tree of %s is truncated; walking it", self.full_name, commit[:12])
        return await self._walk(data["sha"], "")

    async def _walk(self, tree_sha: str, prefix: str) -> dict[str, TreeEntry]:
        """A truncated tree, listed one level at a time with each subtree fetched recursively."""
        top = await self.api.getitem(self._repo_path(f"/git/trees/{tree_sha}"))
        entries = _entries(top["tree"], prefix)
        subtrees = [e for e in top["tree"] if e["type"] == "tree"]

        async def sub(entry: dict[str, Any]) -> dict[str, TreeEntry]:
            sub_prefix = f"{prefix}{entry['path']}/"
            data = await self.api.getitem(self._repo_path(f"/git/trees/{entry['sha']}?recursive=1"))
            if data.get("truncated"):
                return await self._walk(entry["sha"], sub_prefix)
            return _entries(data["tree"], sub_prefix)

        for found in await asyncio.gather(*(sub(e) for e in subtrees)):
            entries.update(found)
        return entries

    async def _read_raw(self, rev: str, path: str) -> bytes | None:
        try:
            return await self.api.download(
                self._repo_path(f"/contents/{quote(path)}?ref={quote(rev, safe='')}"), accept=RAW
            )
        except gidgethub.BadRequest as exc:
            if int(exc.status_code) == 404:
                return None
            raise

    def _companions(self, head: str, paths: list[str]) -> list[tuple[GitHubSnapshot, str]]:
        """The merge-base versions of those of `paths` a known change modified (for base reads)."""
        found: list[tuple[GitHubSnapshot, str]] = []
        for rel in self._relations.values():
            if rel.head != head or rel.merge_base == EMPTY_TREE:
                continue
            base = self._snapshot(rel.merge_base)
            for path in paths:
                changed = rel.changed.get(path)
                if changed is None or changed.status == "added":
                    continue
                old = changed.previous_path or path
                if old not in base._data:
                    found.append((base, old))
        return found

    def _unchanged_at_head(self, commit: str, path: str) -> GitHubSnapshot | None:
        """The head snapshot when `path` is known to be the same at `commit` (a merge base) and there."""
        rel = self._relations.get(commit)
        if rel is None or rel.head == commit or path in rel.touched:
            return None
        return self._snapshot(rel.head)

    async def _fetch_graphql(
        self, pairs: list[tuple[GitHubSnapshot, str]], named: list[tuple[str, str]] | None = None
    ) -> None:
        """One query per `graphql_chunk` files: `fN: object(expression: "<rev>:<path>") { ... on Blob }`."""
        items: list[tuple[GitHubSnapshot | None, str, str]] = [(s, s.commit, p) for s, p in pairs]
        items.extend((None, ref, path) for ref, path in named or [])
        for start in range(0, len(items), self.graphql_chunk):
            chunk = items[start : start + self.graphql_chunk]
            declared = ", ".join(f"$e{i}: String!" for i in range(len(chunk)))
            fields = " ".join(
                f"f{i}: object(expression: $e{i}) {{ {_BLOB_FIELDS} }}" for i in range(len(chunk))
            )
            query = (
                f"query($owner: String!, $name: String!, {declared}) "
                f"{{ repository(owner: $owner, name: $name) {{ {fields} }} }}"
            )
            variables = {f"e{i}": f"{rev}:{path}" for i, (_, rev, path) in enumerate(chunk)}
            data = await self.api.graphql(query, owner=self.owner, name=self.repo, **variables)
            repository = data.get("repository") or {}
            for i, (snap, rev, path) in enumerate(chunk):
                blob = repository.get(f"f{i}")
                data_bytes, exact = _blob_bytes(blob)
                if snap is None:
                    self._named[(rev, path)] = data_bytes
                    if not exact:
                        self._named_raw.add((rev, path))
                    continue
                if blob is None or "oid" not in blob:
                    snap._store(path, None)
                elif exact:
                    snap._store(path, data_bytes, blob["oid"])
                elif blob.get("byteSize", 0) > self.max_file_bytes:
                    log.info("%s: %s is %d bytes, over the read limit; skipped", snap, path, blob["byteSize"])
                    snap._store(path, None)
                else:
                    snap._data[path] = None
                    snap._raw_needed.add(path)

    async def _fetch_tarball(self, snap: GitHubSnapshot, paths: list[str]) -> None:
        """The commit's tarball (one request, redirect followed), the wanted regular files kept."""
        data = await self.api.download(self._repo_path(f"/tarball/{snap.commit}"))
        wanted = set(paths)
        limit = self.max_file_bytes
        files, skipped = await asyncio.to_thread(_extract, data, wanted, limit)
        entries = snap._entries or {}
        for path in wanted:
            if path in skipped:
                log.info("%s: %s is over the read limit; skipped", snap, path)
            entry = entries.get(path)
            snap._store(path, files.get(path), entry.sha if entry else None)

    # -- change and commits

    async def achange(self, base: str, head: str) -> Change:
        if base == EMPTY_TREE:
            return await self._change_from_nothing(head)
        compare = await self._compare(base, head)
        if compare is None:
            raise _not_found(f"{self.full_name}: GitHub cannot compare {base}...{head}")
        if compare.files_complete:
            files = await self._files_from_compare(compare)
        else:
            log.info(
                "%s: %s...%s lists %d files (GitHub's cap); diffing the trees",
                self.full_name,
                base[:12],
                head[:12],
                len(compare.files),
            )
            files = await self._files_from_trees(compare.merge_base, compare.head)
        self._remember(compare.merge_base, compare.head, files)
        return Change(base=compare.base, head=compare.head, files=files, merge_base=compare.merge_base)

    def _remember(self, merge_base: str, head: str, files: list[ChangedFile]) -> None:
        rel = _Relation(merge_base, head)
        for f in files:
            rel.changed[f.path] = f
            rel.touched.add(f.path)
            if f.previous_path:
                rel.touched.add(f.previous_path)
        self._relations[merge_base] = rel

    async def _files_from_compare(self, compare: _Compare) -> list[ChangedFile]:
        head = self._snapshot(compare.head)
        base = self._snapshot(compare.merge_base)
        patchless = [f for f in compare.files if "patch" not in f and _may_have_lines(f)]
        text: dict[str, tuple[bool, list[tuple[int, str]]]] = {}
        if patchless:
            text = await self._inspect(head, base, patchless)
        files: list[ChangedFile] = []
        for f in compare.files:
            status = _STATUS.get(f["status"], "modified")
            previous = f.get("previous_filename") if status in ("renamed", "copied") else None
            similarity = 100 if status in ("renamed", "copied") and not int(f.get("changes") or 0) else None
            if "patch" in f:
                binary, lines = False, added_lines(f["patch"])
            else:
                binary, lines = text.get(f["filename"], (False, []))
            files.append(
                ChangedFile(
                    path=f["filename"],
                    status=status,
                    previous_path=previous,
                    similarity=similarity,
                    binary=binary,
                    added_lines=tuple(lines),
                )
            )
        return files

    async def _inspect(
        self, head: GitHubSnapshot, base: GitHubSnapshot, files: list[dict[str, Any]]
    ) -> dict[str, tuple[bool, list[tuple[int, str]]]]:
        """Binary or too large, else added lines, for files GitHub sent without a patch."""
        entries = await head.aentries()
        small = [
            f
            for f in files
            if entries.get(f["filename"]) and entries[f["filename"]].size <= self.max_file_bytes
        ]
        pairs: list[tuple[GitHubSnapshot, str]] = [(head, f["filename"]) for f in small]
        pairs += [
            (base, f.get("previous_filename") or f["filename"])
            for f in small
            if f["status"] not in ("added",)
        ]
        await self._fetch_graphql([(s, p) for s, p in pairs if p not in s._data])
        found: dict[str, tuple[bool, list[tuple[int, str]]]] = {}
        for f in files:
            path = f["filename"]
            if f not in small:
                log.info(
                    "%s: %s has no patch and is over the read limit; treated as binary", self.full_name, path
                )
                found[path] = (True, [])
                continue
            new = await head.aread(path)
            if new is None or is_binary(new):
                found[path] = (True, [])
                continue
            old = None if f["status"] == "added" else await base.aread(f.get("previous_filename") or path)
            found[path] = (False, diff_added_lines(old, new))
        return found

    async def _files_from_trees(self, merge_base: str, head_sha: str) -> list[ChangedFile]:
        head = self._snapshot(head_sha)
        base = self._snapshot(merge_base)
        new, old = await asyncio.gather(head.aentries(), base.aentries())
        new_files = {p: e for p, e in new.items() if e.mode in REGULAR_MODES or e.mode == "120000"}
        old_files = {p: e for p, e in old.items() if e.mode in REGULAR_MODES or e.mode == "120000"}
        added = [p for p in new_files if p not in old_files]
        removed = [p for p in old_files if p not in new_files]
        modified = [
            p
            for p in new_files
            if p in old_files
            and (new_files[p].sha != old_files[p].sha or new_files[p].mode != old_files[p].mode)
        ]
        gone_by_sha: dict[str, list[str]] = {}
        for p in removed:
            gone_by_sha.setdefault(old_files[p].sha, []).append(p)
        renamed: dict[str, str] = {}
        for p in added:
            candidates = gone_by_sha.get(new_files[p].sha)
            if candidates and new_files[p].size > 0:
                renamed[p] = candidates.pop(0)
        renamed_from = set(renamed.values())
        await asyncio.gather(
            head.aprefetch([p for p in [*added, *modified] if p not in renamed]),
            base.aprefetch(modified),
        )
        files: list[ChangedFile] = []
        for p in sorted({*added, *modified, *(r for r in removed if r not in renamed_from)}):
            if p in renamed:
                files.append(ChangedFile(p, "renamed", previous_path=renamed[p], similarity=100))
                continue
            if p in old_files and p not in new_files:
                files.append(ChangedFile(p, "removed"))
                continue
            status: Status = "added" if p not in old_files else "modified"
            data = await head.aread(p)
            if data is None or is_binary(data):
                files.append(ChangedFile(p, status, binary=True))
                continue
            before = None if status == "added" else await base.aread(p)
            files.append(ChangedFile(p, status, added_lines=tuple(diff_added_lines(before, data))))
        return files

    async def _change_from_nothing(self, head: str) -> Change:
        head_sha = head if _SHA.match(head) else await self.aresolve(head)
        if head_sha is None:
            raise LookupError(f"unknown commit {head!r} in {self.full_name}")
        snap = self._snapshot(head_sha)
        entries = await snap.aentries()
        paths = sorted(p for p, e in entries.items() if e.mode in REGULAR_MODES)
        await snap.aprefetch(paths)
        files = []
        for p in paths:
            data = await snap.aread(p)
            if data is None or is_binary(data):
                files.append(ChangedFile(p, "added", binary=True))
            else:
                files.append(ChangedFile(p, "added", added_lines=tuple(diff_added_lines(None, data))))
        return Change(base=EMPTY_TREE, head=head_sha, files=files, merge_base=EMPTY_TREE)

    async def acommits_between(self, base: str, head: str) -> list[CommitInfo]:
        if base == EMPTY_TREE:
            commits = await self._history(head)
            single_paths: tuple[str, ...] | None = None
        else:
            compare = await self._compare(base, head)
            if compare is None:
                raise _not_found(f"{self.full_name}: GitHub cannot compare {base}...{head}")
            commits = await self._all_commits(base, head, compare)
            single_paths = None
            if (
                len(commits) == 1
                and commits[0]["parents"]
                and commits[0]["parents"][0]["sha"] == compare.merge_base
                and compare.files_complete
            ):
                single_paths = _paths_of(compare.files)
        if single_paths is not None:
            only = commits[0]
            return [CommitInfo(only["sha"], single_paths, only["commit"]["message"])]
        limit = asyncio.Semaphore(8)

        async def paths(sha: str) -> tuple[str, ...]:
            async with limit:
                return await self._commit_paths(sha)

        touched = await asyncio.gather(*(paths(c["sha"]) for c in commits))
        return [
            CommitInfo(c["sha"], p, c["commit"]["message"]) for c, p in zip(commits, touched, strict=True)
        ]

    async def _commit_paths(self, sha: str) -> tuple[str, ...]:
        files = [f async for f in self.api.getiter(self._repo_path(f"/commits/{sha}"), iterable_key="files")]
        return _paths_of(files)

    async def _history(self, head: str) -> list[dict[str, Any]]:
        found = [
            c
            async for c in self.api.getiter(
                self._repo_path(f"/commits?sha={quote(head, safe='')}&per_page=100")
            )
        ]
        return list(reversed(found))


def _not_found(message: str) -> gidgethub.BadRequest:
    """The 404 GitHub gave, as gidgethub raises it (callers explain failures by status)."""
    return gidgethub.BadRequest(http.HTTPStatus.NOT_FOUND, message)


def _may_have_lines(f: dict[str, Any]) -> bool:
    """Whether a file GitHub sent without a patch may still have added lines (or be binary)."""
    if f["status"] == "removed":
        return False
    if f["status"] in ("renamed", "copied"):
        return int(f.get("changes") or 0) > 0
    return True


def _paths_of(files: list[dict[str, Any]]) -> tuple[str, ...]:
    """Every path a commit touched; a rename touches both names (as `--no-renames` lists them)."""
    paths: list[str] = []
    for f in files:
        if f.get("previous_filename"):
            paths.append(f["previous_filename"])
        paths.append(f["filename"])
    return tuple(dict.fromkeys(paths))


def _entries(tree: list[dict[str, Any]], prefix: str) -> dict[str, TreeEntry]:
    return {
        f"{prefix}{e['path']}": TreeEntry(
            f"{prefix}{e['path']}", e["mode"], e["sha"], int(e.get("size") or 0)
        )
        for e in tree
        if e.get("type") == "blob"
    }


def _blob_bytes(blob: dict[str, Any] | None) -> tuple[bytes | None, bool]:
    """The bytes GraphQL gave for a blob, and whether they are exactly the file."""
    if blob is None or "oid" not in blob:
        return None, True
    text = blob.get("text")
    if blob.get("isBinary") or blob.get("isTruncated") or text is None:
        return None, False
    data = text.encode("utf-8")
    return data, len(data) == blob.get("byteSize")


def _extract(data: bytes, wanted: set[str], limit: int) -> tuple[dict[str, bytes], set[str]]:
    """The wanted regular files of a GitHub tarball (top folder stripped), and those over `limit`."""
    files: dict[str, bytes] = {}
    skipped: set[str] = set()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        for member in tar:
            if not member.isreg():
                continue
            parts = member.name.split("/", 1)
            if len(parts) != 2 or parts[1] not in wanted:
                continue
            if member.size > limit:
                skipped.add(parts[1])
                continue
            extracted = tar.extractfile(member)
            if extracted is not None:
                files[parts[1]] = extracted.read()
    return files, skipped
