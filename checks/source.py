"""The one interface through which the engine reads a repository.

`Source` answers questions about history (resolve a revision, ancestry, the
change between two commits, the commits between two commits); `Snapshot` is
the files of one commit, read lazily. `checks.gitsource` implements both on a
local git repository; the app implements them on the GitHub API. The engine
calls `Snapshot.prefetch` with every path it will read before it reads any, so
a remote implementation can fetch them in one batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from checks.added_lines import WholeFile

Status = Literal["added", "modified", "removed", "renamed", "copied"]

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
"""git's empty tree: the base of a one-branch repository's whole history."""

WORKING_TREE = "working-tree"
"""The revision naming the uncommitted working tree: `Source.snapshot(WORKING_TREE)`
on a local repository, and the reported head of a `--working-tree` change."""


@dataclass(frozen=True, init=False, eq=False)
class ChangedFile:
    """One path changed between base and head."""

    path: str
    status: Status
    previous_path: str | None
    similarity: int | None
    added_lines: Sequence[tuple[int, str]]
    """(line number at head, text without the newline) of each added line."""
    _binary: bool = field(repr=False)

    def __init__(
        self,
        path: str,
        status: Status,
        previous_path: str | None = None,
        similarity: int | None = None,
        binary: bool = False,
        added_lines: Sequence[tuple[int, str]] = (),
    ) -> None:
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "status", status)
        object.__setattr__(self, "previous_path", previous_path)
        object.__setattr__(self, "similarity", similarity)
        object.__setattr__(self, "added_lines", added_lines)
        object.__setattr__(self, "_binary", binary)

    @property
    def binary(self) -> bool:
        """Binary by git's test: it adds no lines. A file added whole whose lines are read only
        when asked for (`WholeFile.deferred`) is read to tell."""
        lines = self.added_lines
        return self._binary or (isinstance(lines, WholeFile) and lines.binary)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ChangedFile):
            return NotImplemented
        return (self.path, self.status, self.previous_path, self.similarity, self.binary) == (
            other.path,
            other.status,
            other.previous_path,
            other.similarity,
            other.binary,
        ) and self.added_lines == other.added_lines

    def __hash__(self) -> int:
        return hash((self.path, self.status, self.previous_path))

    def __repr__(self) -> str:
        return (
            f"ChangedFile(path={self.path!r}, status={self.status!r}, previous_path={self.previous_path!r}, "
            f"similarity={self.similarity!r}, binary={self.binary!r}, added_lines={self.added_lines!r})"
        )


@dataclass
class Change:
    """What is audited: base...head and the changed files."""

    base: str
    head: str
    files: list[ChangedFile] = field(default_factory=list)
    working_tree: bool = False
    """True when head is the uncommitted working tree (`--working-tree`)."""
    merge_base: str | None = None
    """The commit the files were compared from (base...head); None when not known."""

    def paths(self) -> list[str]:
        return [f.path for f in self.files]


@dataclass(frozen=True)
class CommitInfo:
    """A commit and the paths it touched (against its first parent)."""

    sha: str
    paths: tuple[str, ...]
    message: str = ""


class Snapshot(Protocol):
    """The files of the repository at one commit (or the working tree)."""

    @property
    def commit(self) -> str: ...

    def paths(self) -> Sequence[str]:
        """Every regular file path at this commit, repository-relative, `/`-separated."""
        ...

    def exists(self, path: str) -> bool: ...

    def read(self, path: str) -> bytes | None:
        """The file's bytes, or None when there is no such file."""
        ...

    def size(self, path: str) -> int | None: ...

    def blob_id(self, path: str) -> str | None:
        """git's blob id of the file, used as a cache key for per-file analysis."""
        ...

    def prefetch(self, paths: Iterable[str]) -> None:
        """Hint: these files will be read soon (fetch them in one batch)."""
        ...


class Source(Protocol):
    """History of a repository: the commits, their snapshots, the changes between them."""

    def resolve(self, rev: str) -> str | None:
        """The full commit sha of `rev`, or None when it does not resolve."""
        ...

    def is_ancestor(self, ancestor: str, descendant: str) -> bool: ...

    def snapshot(self, rev: str) -> Snapshot: ...

    def change(self, base: str, head: str) -> Change:
        """The change `base...head` (from their merge base), with added lines."""
        ...

    def commits_between(self, base: str, head: str) -> list[CommitInfo]:
        """Commits reachable from head and not from base, oldest first."""
        ...
