"""The engine's `checks.source.Source` over the GitHub API, spending as few requests as it can.

The work is done by `forgeguard_app.github.repository.GitHubRepository` in
coroutines (compare and commits in `compare.py`, git trees in `trees.py`,
GraphQL, tarball and raw reads in `blobs.py`). The engine runs in a worker
thread (`asyncio.to_thread`) and its interface is synchronous: this module is
the thin blocking facade, running each coroutine on the app's event loop with
`asyncio.run_coroutine_threadsafe(...).result()` and answering at once what
is already known. Calling it from the loop's own thread is refused (it would
deadlock); code on the loop uses `GitHubSource.repository` directly.

Request budget of one push audit (≤ 20 changed files, any repository size)::

    change(base, head)        1  GET /repos/{o}/{r}/compare/{base}...{head}
                                 (files with status, previous_filename, patch -> added lines;
                                  commits; the merge base and the head sha)
    snapshot(head).paths()    1  GET /repos/{o}/{r}/git/trees/{head}?recursive=1
    snapshot(head).prefetch   1  POST /graphql, one `object(expression: "<sha>:<path>")` alias
                                 per file, plus the merge-base version of each changed file
                                 prefetched (so base reads are free too)
    base reads                0  an unchanged path at the merge base is the head's file
    configuration             1  (the caller's: the contents API on the default branch)
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
from collections.abc import Coroutine, Iterable, Sequence
from typing import Any, TypeVar

from checks.source import Change, CommitInfo
from forgeguard_app.github.compare import SHA
from forgeguard_app.github.repository import CommitFiles, GitHubRepository
from forgeguard_app.github.trees import TreeEntry

T = TypeVar("T")


class GitHubSnapshot:
    """`checks.source.Snapshot`: one commit's files, blocking on the loop only for what is not known yet."""

    def __init__(self, source: GitHubSource, files: CommitFiles) -> None:
        self._source = source
        self.files = files

    def __repr__(self) -> str:
        return f"GitHubSnapshot({self.files!r})"

    @property
    def commit(self) -> str:
        return self.files.commit

    def _tree(self) -> dict[str, TreeEntry]:
        entries = self.files.known_entries
        return entries if entries is not None else self._source.run(self.files.entries())

    def _regular(self, path: str) -> TreeEntry | None:
        entry = self._tree().get(path)
        return entry if entry is not None and entry.regular else None

    def paths(self) -> Sequence[str]:
        return [p for p, e in self._tree().items() if e.regular]

    def exists(self, path: str) -> bool:
        return self._regular(path) is not None

    def size(self, path: str) -> int | None:
        entry = self._regular(path)
        return None if entry is None else entry.size

    def blob_id(self, path: str) -> str | None:
        entry = self._regular(path)
        return None if entry is None else entry.sha

    def read(self, path: str) -> bytes | None:
        done, data = self.files.known(path)
        return data if done else self._source.run(self.files.read(path))

    def prefetch(self, paths: Iterable[str]) -> None:
        wanted = self.files.unread(paths)
        if wanted:
            self._source.run(self.files.prefetch(wanted))


class GitHubSource:
    """`checks.source.Source` for one repository: a `GitHubRepository` driven from a worker thread."""

    def __init__(
        self, repository: GitHubRepository, loop: asyncio.AbstractEventLoop, *, timeout: float = 600.0
    ) -> None:
        self.repository = repository
        self.loop = loop
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"GitHubSource({self.repository.full_name})"

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """`coro` run on the event loop, this thread waiting for it (never the loop's own thread)."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            coro.close()
            raise RuntimeError("GitHubSource blocks: call it from a worker thread (asyncio.to_thread)")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(self.timeout)

    def resolve(self, rev: str) -> str | None:
        return self.run(self.repository.resolve(rev))

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return self.run(self.repository.is_ancestor(ancestor, descendant))

    def snapshot(self, rev: str) -> GitHubSnapshot:
        commit = rev if SHA.match(rev) else self.run(self.repository.commit_of(rev))
        return GitHubSnapshot(self, self.repository.snapshot(commit))

    def change(self, base: str, head: str) -> Change:
        return self.run(self.repository.change(base, head))

    def commits_between(self, base: str, head: str) -> list[CommitInfo]:
        return self.run(self.repository.commits_between(base, head))
