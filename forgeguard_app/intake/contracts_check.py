"""Our own audit engine run on contracts before they are committed: an in-memory one-commit repository.

The contracts pull request adds files to a repository; here those files are
the whole repository (base: git's empty tree), and `checks.engine.run_audit`
runs on it exactly as it will on the pull request. A4 and W3 must accept
`boundaries.json` and `physics.yaml` (no `error`, no boundary failure), and no
blocking check may fail, so a freshly opened contracts pull request passes its
own audit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

from checks.config import AuditConfig
from checks.engine import run_audit
from checks.model import AuditReport
from checks.source import EMPTY_TREE, Change, ChangedFile, CommitInfo, Snapshot

HEAD = "c0ffee" + "0" * 34


class MemorySnapshot:
    """`checks.source.Snapshot` over a dict of path → text."""

    def __init__(self, files: Mapping[str, str], commit: str = HEAD) -> None:
        self._files = {path: text.encode() for path, text in files.items()}
        self._commit = commit

    @property
    def commit(self) -> str:
        return self._commit

    def paths(self) -> Sequence[str]:
        return sorted(self._files)

    def exists(self, path: str) -> bool:
        return path in self._files

    def read(self, path: str) -> bytes | None:
        return self._files.get(path)

    def size(self, path: str) -> int | None:
        data = self._files.get(path)
        return None if data is None else len(data)

    def blob_id(self, path: str) -> str | None:
        data = self._files.get(path)
        if data is None:
            return None
        return hashlib.sha1(b"blob %d\x00" % len(data) + data, usedforsecurity=False).hexdigest()

    def prefetch(self, paths: Iterable[str]) -> None:
        """Everything is in memory already."""


class EmptySnapshot(MemorySnapshot):
    def __init__(self) -> None:
        super().__init__({}, EMPTY_TREE)


class MemorySource:
    """`checks.source.Source` of a repository with one commit holding `files`."""

    def __init__(self, files: Mapping[str, str]) -> None:
        self.head = MemorySnapshot(files)

    def resolve(self, rev: str) -> str | None:
        return rev if rev in (HEAD, EMPTY_TREE) else None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return ancestor in (EMPTY_TREE, descendant)

    def snapshot(self, rev: str) -> Snapshot:
        return self.head if rev == HEAD else EmptySnapshot()

    def change(self, base: str, head: str) -> Change:
        files = []
        for path in self.head.paths():
            data = self.head.read(path) or b""
            lines = data.decode("utf-8", errors="replace").splitlines()
            files.append(
                ChangedFile(path, "added", added_lines=[(i, line) for i, line in enumerate(lines, 1)])
            )
        return Change(base=EMPTY_TREE, head=HEAD, files=files)

    def commits_between(self, base: str, head: str) -> list[CommitInfo]:
        return [CommitInfo(HEAD, tuple(self.head.paths()), "Forge contracts")]


def audit_files(files: Mapping[str, str]) -> AuditReport:
    """The engine's report on a repository made of exactly `files`."""
    source = MemorySource(files)
    return run_audit(source, source.change(EMPTY_TREE, HEAD), AuditConfig(), full=True)


def engine_problems(files: Mapping[str, str]) -> list[str]:
    """What our own engine objects to in the contracts (empty when the audit passes)."""
    report = audit_files(files)
    problems = []
    for result in report.results:
        if result.outcome == "error" or (result.code in ("A4", "W3") and result.outcome == "fail"):
            problems.append(f"{result.code} {result.name} cannot use the contracts: {result.detail}")
        elif result.blocks:
            problems.append(f"{result.code} {result.name} fails on the contracts: {result.detail}")
    return problems
