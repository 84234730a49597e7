"""An in-memory Source/Snapshot and a context builder, for fast unit tests of checks.

`make_ctx(head={...}, base={...})` diffs the two file maps the way git would
(added/modified/removed, added lines with their numbers at head) and returns
the AuditContext a check is given.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Mapping, Sequence

from checks.config import AuditConfig
from checks.context import AnalysisCache, AuditContext, decode
from checks.source import Change, ChangedFile, CommitInfo, Snapshot, Status

Files = Mapping[str, str | bytes]


def _bytes(content: str | bytes) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


def blob_id(data: bytes) -> str:
    """git's blob id of `data` (the same as `git hash-object`)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class MemSnapshot:
    """The files of one commit, held in memory; records what was read and prefetched."""

    def __init__(self, files: Files, commit: str = "head") -> None:
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


class MemSource:
    """Two snapshots, "base" and "head", and the change between them."""

    def __init__(self, head: MemSnapshot, base: MemSnapshot, change: Change) -> None:
        self._snapshots = {"head": head, "base": base}
        self._change = change

    def resolve(self, rev: str) -> str | None:
        return rev if rev in self._snapshots else None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return ancestor == "base" and descendant == "head"

    def snapshot(self, rev: str) -> Snapshot:
        return self._snapshots[rev]

    def change(self, base: str, head: str) -> Change:
        return self._change

    def commits_between(self, base: str, head: str) -> list[CommitInfo]:
        return [CommitInfo("head", tuple(self._change.paths()))]


def _added_lines(old: bytes | None, new: bytes) -> list[tuple[int, str]]:
    new_lines = decode(new).splitlines()
    if old is None:
        return list(enumerate(new_lines, start=1))
    old_lines = decode(old).splitlines()
    out: list[tuple[int, str]] = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "insert"):
            out.extend((j + 1, new_lines[j]) for j in range(j1, j2))
    return out


def _is_binary(data: bytes) -> bool:
    return b"\0" in data[:8000]


def diff(base: Files, head: Files) -> list[ChangedFile]:
    """The changed files between two file maps, sorted by path."""
    b = {p: _bytes(c) for p, c in base.items()}
    h = {p: _bytes(c) for p, c in head.items()}
    files: list[ChangedFile] = []
    for path in sorted(set(b) | set(h)):
        old, new = b.get(path), h.get(path)
        if old == new:
            continue
        status: Status
        if new is None:
            files.append(ChangedFile(path, "removed", binary=old is not None and _is_binary(old)))
            continue
        status = "added" if old is None else "modified"
        binary = _is_binary(new)
        lines = [] if binary else _added_lines(old, new)
        files.append(ChangedFile(path, status, binary=binary, added_lines=lines))
    return files


def make_ctx(
    head: Files,
    base: Files | None = None,
    *,
    full: bool = False,
    governance_dir: str | None = "auto",
    cache: AnalysisCache | None = None,
    config: AuditConfig | None = None,
) -> AuditContext:
    """The context a check gets for the change base → head (base defaults to no files).

    governance_dir "auto" finds `Forge/` (or a root `Contracts/`) as the spec says.
    """
    base = base or {}
    head_snap = MemSnapshot(head, "head")
    base_snap = MemSnapshot(base, "base")
    change = Change("base", "head", diff(base, head))
    if governance_dir == "auto":
        if any(p.startswith(("Forge/Contracts/", "Forge/evidence/")) for p in head):
            governance_dir = "Forge"
        elif any(p.startswith("Contracts/") for p in head):
            governance_dir = ""
        else:
            governance_dir = None
    return AuditContext(
        source=MemSource(head_snap, base_snap, change),
        change=change,
        head=head_snap,
        base=base_snap if base else None,
        config=config or AuditConfig(),
        governance_dir=governance_dir,
        full=full,
        cache=cache,
    )
