"""A build's working tree on the worker's disk: a commit from GitHub plus the uncommitted files.

API (bodies land in the next commits):

- `await Workspace.prepare(api, owner, repo, commit, *, root, overlay={}, cache_dir=None)`:
  the tree at `commit` (the installation's tarball, cached per commit under `cache_dir`) with
  `overlay` (path -> bytes, or None for deleted) applied; an existing tree at `root` that
  already is exactly that is reused. The same call after a restart rebuilds it identically.
- `Workspace.from_files(root, files, *, base_commit, overlay={})`: the same from a mapping.
- `.pending() -> dict[str, bytes | None]`: what differs from the base commit (ignored paths
  left out): save it after every step, give it back as `overlay` after a restart, commit it.
- `.snapshot() -> dict[str, bytes]`, `.base_files() -> dict[str, bytes]`: for the audit
  (`checks.memory.MemorySource(head=ws.snapshot(), base=ws.base_files(), base_commit=ws.base_commit)`).
- `.write(path, data)`, `.delete(path)`, `.read(path)`: through the path rules (`Refused`);
  a full disk raises `DiskFull` (the build pauses with its message).
- `.advance(commit)`: the branch moved to `commit`, whose tree is what is on disk now.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from gidgethub.abc import GitHubAPI

Overlay = Mapping[str, bytes | None]

IGNORED = ("__pycache__/", "*.pyc", ".pytest_cache/", "node_modules/", ".forge-home/", ".mypy_cache/")
"""Never pending (besides the repository's own `.gitignore`): caches tools leave in the tree."""


class DiskFull(OSError):
    """The working tree cannot grow (no space, quota, file size limit): the build pauses."""


class UnsafeArchive(Exception):
    """A tarball member with an absolute path, `..`, a link out of the tree or a device."""


class Workspace:
    """One build's working tree."""

    root: Path
    base_commit: str

    @classmethod
    async def prepare(
        cls,
        api: GitHubAPI,
        owner: str,
        repo: str,
        commit: str,
        *,
        root: Path,
        overlay: Overlay | None = None,
        cache_dir: Path | None = None,
        quota_bytes: int | None = None,
    ) -> Workspace:
        """The tree of `commit` with `overlay` applied, at `root` (see the module docstring)."""
        raise NotImplementedError

    @classmethod
    def from_files(
        cls,
        root: Path,
        files: Mapping[str, bytes],
        *,
        base_commit: str,
        overlay: Overlay | None = None,
        quota_bytes: int | None = None,
    ) -> Workspace:
        """A tree made from `files` (the base commit's content) with `overlay` applied."""
        raise NotImplementedError

    def pending(self) -> dict[str, bytes | None]:
        """Files added or changed since the base commit (bytes) and files deleted (None)."""
        raise NotImplementedError

    def snapshot(self) -> dict[str, bytes]:
        """Every file of the tree now (ignored paths left out)."""
        raise NotImplementedError

    def base_files(self) -> dict[str, bytes]:
        """Every file of the base commit."""
        raise NotImplementedError

    def read(self, path: str) -> bytes:
        """A file's bytes; `Refused` for a path outside the rules, FileNotFoundError when absent."""
        raise NotImplementedError

    def write(self, path: str, data: bytes) -> int:
        """Writes a file (folders made); the bytes written. `Refused`, `DiskFull`."""
        raise NotImplementedError

    def delete(self, path: str) -> None:
        """Removes a file; `Refused`, FileNotFoundError when absent."""
        raise NotImplementedError

    def advance(self, commit: str) -> None:
        """The branch head is now `commit`, made of the tree as it is: nothing pending."""
        raise NotImplementedError
