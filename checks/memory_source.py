"""A repository held in memory: two snapshots (base and head) and the change between them.

For files that are not committed anywhere yet — the intake validates generated
contracts with the engine before committing them — and for fast unit tests of
checks. The change is computed the way git reports it: added, modified and
removed paths, and the added lines with their line numbers at head.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

from checks import added_lines
from checks.added_lines import is_binary
from checks.source import EMPTY_TREE, Change, ChangedFile, CommitInfo, Snapshot, Status

Files = Mapping[str, str | bytes]

HEAD = "c0ffee" + "0" * 34
"""The commit id the head snapshot answers to unless another is given."""


def _bytes(content: str | bytes) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


def blob_id(data: bytes) -> str:
    """git's blob id of `data` (the same as `git hash-object`)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


class MemorySnapshot:
    """`checks.source.Snapshot` over a mapping of path to content; records reads and prefetches."""

    def __init__(self, files: Files, commit: str = HEAD) -> None:
        self._files = {p: _bytes(c) for p, c in files.items()}
        self._commit = commit
        self.reads: list[str] = []
        self.prefetched: list[str] = []

    @property
    def commit(self) -> str:
        return self._commit

    def paths(self) -> Sequence[str]:
        return sorted(self._files)

    def exists(self, path: str) -> bool:
        return path in self._files

    def read(self, path: str) -> bytes | None:
        self.reads.append(path)
        return self._files.get(path)

    def size(self, path: str) -> int | None:
        data = self._files.get(path)
        return None if data is None else len(data)

    def blob_id(self, path: str) -> str | None:
        data = self._files.get(path)
        return None if data is None else blob_id(data)

    def prefetch(self, paths: Iterable[str]) -> None:
        self.prefetched.extend(paths)


def diff(base: Files, head: Files) -> list[ChangedFile]:
    """The changed files between two file maps, sorted by path."""
    b = {p: _bytes(c) for p, c in base.items()}
    h = {p: _bytes(c) for p, c in head.items()}
    files: list[ChangedFile] = []
    for path in sorted(set(b) | set(h)):
        old, new = b.get(path), h.get(path)
        if old == new:
            continue
        if new is None:
            files.append(ChangedFile(path, "removed", binary=old is not None and is_binary(old)))
            continue
        status: Status = "added" if old is None else "modified"
        binary = is_binary(new)
        lines = [] if binary else added_lines.between(old, new)
        files.append(ChangedFile(path, status, binary=binary, added_lines=lines))
    return files


class MemorySource:
    """`checks.source.Source` of two commits, `base` (git's empty tree by default) and `head`."""

    def __init__(
        self,
        head: Files,
        base: Files | None = None,
        *,
        head_commit: str = HEAD,
        base_commit: str = EMPTY_TREE,
        message: str = "",
    ) -> None:
        self.head = MemorySnapshot(head, head_commit)
        self.base = MemorySnapshot(base or {}, base_commit)
        self._change = Change(base_commit, head_commit, diff(base or {}, head))
        self._message = message

    def resolve(self, rev: str) -> str | None:
        return rev if rev in (self.head.commit, self.base.commit) else None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return ancestor == descendant or (ancestor == self.base.commit and descendant == self.head.commit)

    def snapshot(self, rev: str) -> Snapshot:
        return self.head if rev == self.head.commit else self.base

    def change(self, base: str, head: str) -> Change:
        return self._change

    def commits_between(self, base: str, head: str) -> list[CommitInfo]:
        return [CommitInfo(self.head.commit, tuple(self._change.paths()), self._message)]
