"""A build's working tree on the worker's disk: a commit from GitHub plus the uncommitted files.

- `await Workspace.prepare(api, owner, repo, commit, *, root, overlay={}, cache_dir=None)`:
  the tree at `commit` (the installation's tarball, kept per commit under `cache_dir`) with
  `overlay` (path -> bytes, or None for deleted) applied; an existing tree at `root` that
  already is exactly that is reused. The same call after a restart rebuilds it identically.
- `Workspace.from_files(root, files, *, base_commit, overlay={})`: the same from a mapping.
- `.pending() -> dict[str, bytes | None]`: what differs from the base commit (ignored paths
  left out): save it after every step, give it back as `overlay` after a restart, commit it
  (`.mode(path)` gives the git file mode for the tree entry).
- `.snapshot() -> dict[str, bytes]`, `.base_files() -> dict[str, bytes]`: for the audit
  (`checks.memory_source.MemorySource(head=ws.snapshot(), base=ws.base_files(), base_commit=ws.base_commit)`).
- `.write(path, data)`, `.delete(path)`, `.read(path)`: through the path rules (`Refused`);
  a full disk raises `DiskFull` (the build pauses with its message).
- `.advance(commit)`: the branch moved to `commit`, whose tree is what is on disk now.

Archives are extracted member by member: absolute paths, `..`, `.git/`, devices, fifos,
hard links and symbolic links that lead out of the tree are refused (left out, listed in
`.refused`; a refused link still counts as unchanged, so it is never committed away).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import logging
import os
import posixpath
import shutil
import stat
import tarfile
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Protocol

import pathspec

from forgeguard_app.builder.sandbox import HOME_DIR, Refused, file_owner, resolve_path

log = logging.getLogger(__name__)

Overlay = Mapping[str, bytes | None]

IGNORED = (
    "__pycache__/",
    "*.pyc",
    ".pytest_cache/",
    "node_modules/",
    f"{HOME_DIR}/",
    ".mypy_cache/",
    ".ruff_cache/",
)
"""Never pending unless committed (besides the repository's own `.gitignore`): what tools leave."""

MAX_PENDING_FILE = 10_000_000
"""A file larger than this is left out of `pending()` (it would be saved after every step)."""
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_STATE = ".forge-workspace.json"


class Downloader(Protocol):
    """What `prepare` needs of the installation's API (`github.client.InstallationAPI`)."""

    async def download(self, url: str, *, accept: str = ...) -> bytes: ...


class DiskFull(OSError):
    """The working tree cannot grow (no space, quota, file size limit): the build pauses."""


class UnsafeArchive(Exception):
    """The archive cannot be read at all (not a tar file, or over the size allowed)."""


def _git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _is_git(part: str) -> bool:
    return part.lower().rstrip(". ") == ".git"


def _utf8(name: str) -> bool:
    """Whether a name from the disk is valid UTF-8 (os.walk keeps bad bytes as surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _readable(name: str) -> str:
    """A name from the disk as valid text (bad bytes replaced): for logs, the model, the database."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _unwritable(rel: str) -> bool:
    parts = PurePosixPath(rel).parts
    return any(_is_git(p) for p in parts) or parts[:2] == (".github", "workflows")


def _full(exc: OSError, what: str) -> DiskFull:
    return DiskFull(exc.errno or errno.ENOSPC, f"the working tree is full ({what}): {exc.strerror or exc}")


class _Archive:
    """A commit's files read from a GitHub tarball (top folder stripped)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.executable: set[str] = set()
        self.links: dict[str, str] = {}
        self.refused: dict[str, str] = {}
        """Path -> why it was left out."""


def read_archive(data: bytes, *, max_bytes: int | None = None) -> _Archive:
    """The members of a GitHub tarball, the unsafe ones refused (see the module docstring)."""
    archive = _Archive()
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for member in tar:
                if member.isreg():
                    total += member.size
                    if max_bytes is not None and total > max_bytes:
                        raise UnsafeArchive(f"the archive holds more than {max_bytes} bytes")
                _take(archive, tar, member)
    except tarfile.TarError as exc:
        raise UnsafeArchive(f"not a readable tar archive: {exc}") from None
    for rel, why in archive.refused.items():
        log.warning("workspace: archive member %s refused: %s", rel, why)
    return archive


def _take(archive: _Archive, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
    name = member.name
    parts = PurePosixPath(name).parts
    rel = "/".join(parts[1:])
    if not _utf8(name):
        archive.refused[_readable(name)] = "its name is not UTF-8"
    elif name.startswith("/") or ".." in parts:
        archive.refused[name] = "absolute path or `..`"
    elif not rel or member.isdir():
        return
    elif any(_is_git(p) for p in parts[1:]):
        archive.refused[rel] = "inside .git"
    elif member.issym():
        target = member.linkname
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(rel), target))
        archive.links[rel] = target
        if target.startswith("/") or joined == ".." or joined.startswith("../"):
            archive.refused[rel] = f"symbolic link out of the tree ({target})"
    elif member.isreg():
        extracted = tar.extractfile(member)
        archive.files[rel] = extracted.read() if extracted else b""
        if member.mode & 0o111:
            archive.executable.add(rel)
    else:
        archive.refused[rel] = "not a regular file or symbolic link (device, fifo or hard link)"


def _archive_bytes(files: Mapping[str, bytes], executable: set[str], links: Mapping[str, str]) -> bytes:
    """A tarball in GitHub's shape (one top folder) of `files` and `links`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as tar:
        for path, data in sorted(files.items()):
            info = tarfile.TarInfo(f"tree/{path}")
            info.size = len(data)
            info.mode = 0o755 if path in executable else 0o644
            tar.addfile(info, io.BytesIO(data))
        for path, target in sorted(links.items()):
            info = tarfile.TarInfo(f"tree/{path}")
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return buffer.getvalue()


class Workspace:
    """One build's working tree."""

    def __init__(
        self,
        root: Path,
        base_commit: str,
        archive: _Archive,
        *,
        quota_bytes: int | None = None,
        protected: Sequence[Path] = (),
    ) -> None:
        self.root = root
        self.base_commit = base_commit
        self.quota_bytes = quota_bytes
        self.protected = tuple(protected)
        self._owner = file_owner()
        self._set_base(archive)
        self._stats: dict[str, tuple[int, int, int, str]] = {}
        self.left_out: dict[str, str] = {}
        """Files on disk the last `pending()` could not include (path -> why): tell the model."""

    def __repr__(self) -> str:
        return f"Workspace({self.root}, base={self.base_commit[:12]})"

    def _set_base(self, archive: _Archive) -> None:
        self._archive = archive
        self._base: dict[str, bytes] = dict(archive.files)
        for path, target in archive.links.items():
            self._base[path] = target.encode("utf-8", "surrogateescape")
        self._base_ids = {path: _git_blob_id(data) for path, data in self._base.items()}
        self.refused: dict[str, str] = dict(archive.refused)

    # -- making the tree

    @classmethod
    async def prepare(
        cls,
        api: Downloader,
        owner: str,
        repo: str,
        commit: str,
        *,
        root: Path,
        overlay: Overlay | None = None,
        cache_dir: Path | None = None,
        quota_bytes: int | None = None,
        protected: Sequence[Path] = (),
    ) -> Workspace:
        """The tree of `commit` with `overlay` applied, at `root` (see the module docstring)."""
        cached = cache_dir / f"{commit}.tar.gz" if cache_dir is not None else None
        if cached is not None and cached.exists():
            data = cached.read_bytes()
        else:
            data = await api.download(f"/repos/{owner}/{repo}/tarball/{commit}")
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                _atomic_write(cached, data)
        archive = read_archive(data, max_bytes=quota_bytes)
        workspace = cls(root, commit, archive, quota_bytes=quota_bytes, protected=protected)
        workspace.cache_dir = cache_dir
        workspace._materialize(overlay or {})
        return workspace

    @classmethod
    def from_files(
        cls,
        root: Path,
        files: Mapping[str, bytes],
        *,
        base_commit: str,
        overlay: Overlay | None = None,
        quota_bytes: int | None = None,
        protected: Sequence[Path] = (),
        links: Mapping[str, str] | None = None,
        cache_dir: Path | None = None,
    ) -> Workspace:
        """A tree made from `files` (the base commit's content) with `overlay` applied."""
        archive = read_archive(_archive_bytes(files, set(), links or {}))
        workspace = cls(root, base_commit, archive, quota_bytes=quota_bytes, protected=protected)
        workspace.cache_dir = cache_dir
        workspace._materialize(overlay or {})
        return workspace

    cache_dir: Path | None = None
    """Where `advance` keeps the new base's tarball, so that `prepare` finds it without a download."""

    def _state_path(self) -> Path:
        return self.root.parent / f"{self.root.name}{_STATE}"

    def _materialize(self, overlay: Overlay) -> None:
        wanted = {path: data for path, data in overlay.items()}
        state = self._state_path()
        if self.root.is_dir() and state.exists():
            try:
                recorded = json.loads(state.read_text())
            except (OSError, ValueError):
                recorded = {}
            if recorded.get("base_commit") == self.base_commit and self.pending() == wanted:
                log.info("workspace %s reused", self.root)
                return
        self._stats.clear()
        if self.root.exists():
            shutil.rmtree(self.root)
        try:
            self.root.mkdir(parents=True)
            self._chown(self.root)
            for path, data in self._archive.files.items():
                self._put(path, data, executable=path in self._archive.executable)
            for path, target in self._archive.links.items():
                if path not in self.refused:
                    real = self._make_parents(path)
                    os.symlink(target, real)
                    self._chown(real)
            for path, change in wanted.items():
                if change is None:
                    with contextlib.suppress(FileNotFoundError, Refused):
                        self.delete(path)
                else:
                    self.write(path, change)
        except OSError as exc:
            if exc.errno in _FULL:
                raise _full(exc, "while the tree was made") from exc
            raise
        state.write_text(json.dumps({"base_commit": self.base_commit}))

    def _chown(self, path: Path) -> None:
        if self._owner is not None:
            os.lchown(path, *self._owner)

    def _make_parents(self, rel: str) -> Path:
        real = resolve_path(self.root, rel, write=True, protected=self.protected)
        missing = [p for p in reversed(real.parents) if not p.exists()]
        real.parent.mkdir(parents=True, exist_ok=True)
        for folder in missing:
            self._chown(folder)
        return real

    def _put(self, rel: str, data: bytes, *, executable: bool) -> Path:
        real = self._make_parents(rel)
        fd, temporary = tempfile.mkstemp(dir=real.parent, prefix=".forge-write-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(temporary, 0o755 if executable else 0o644)
            self._chown(Path(temporary))
            os.replace(temporary, real)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        return real

    # -- the model's file operations

    def read(self, path: str) -> bytes:
        """A file's bytes; `Refused` for a path outside the rules, FileNotFoundError when absent."""
        real = resolve_path(self.root, path)
        if real.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a folder", path)
        return real.read_bytes()

    def write(self, path: str, data: bytes) -> int:
        """Writes a file (folders made); the bytes written. `Refused`, `DiskFull`."""
        real = resolve_path(self.root, path, write=True, protected=self.protected)
        if real.is_dir():
            raise Refused(f"`{path}` is a folder")
        if self.quota_bytes is not None:
            old = real.stat().st_size if real.exists() else 0
            if self.size() - old + len(data) > self.quota_bytes:
                raise DiskFull(
                    errno.EDQUOT,
                    f"the working tree is full: writing {len(data)} bytes to {path} would pass "
                    f"the build's {self.quota_bytes} bytes",
                )
        executable = real.exists() and bool(real.stat().st_mode & 0o111)
        try:
            self._put(real.relative_to(self.root.resolve()).as_posix(), data, executable=executable)
        except OSError as exc:
            if exc.errno in _FULL:
                raise _full(exc, f"writing {path}") from exc
            raise
        return len(data)

    def delete(self, path: str) -> None:
        """Removes a file; `Refused`, FileNotFoundError when absent."""
        resolve_path(self.root, path, write=True, protected=self.protected)
        # The link itself is removed, never what it points to.
        target = self.root.resolve() / PurePosixPath(path)
        if target.is_dir() and not target.is_symlink():
            raise Refused(f"`{path}` is a folder; delete its files one by one")
        target.unlink()

    def size(self) -> int:
        """Bytes of the files in the tree."""
        total = 0
        for folder, _dirs, files in os.walk(self.root):
            for name in files:
                with contextlib.suppress(OSError):
                    total += os.lstat(os.path.join(folder, name)).st_size
        return total

    def mode(self, path: str) -> str:
        """The git file mode of a file on disk: `100755`, `100644` or `120000` (a link)."""
        real = self.root / PurePosixPath(path)
        info = os.lstat(real)
        if stat.S_ISLNK(info.st_mode):
            return "120000"
        return "100755" if info.st_mode & 0o111 else "100644"

    # -- what changed

    def _ignore_spec(self) -> pathspec.GitIgnoreSpec:
        lines = list(IGNORED)
        gitignore = self.root / ".gitignore"
        with contextlib.suppress(OSError):
            lines += gitignore.read_text("utf-8", errors="replace").splitlines()
        return pathspec.GitIgnoreSpec.from_lines(lines)

    def _walk(self) -> Iterator[str]:
        """Paths of the files and links on disk (ignored untracked ones and `.git` left out)."""
        spec = self._ignore_spec()
        tracked_dirs = {str(PurePosixPath(p).parent) for p in self._base}
        tracked_dirs |= {str(parent) for p in self._base for parent in PurePosixPath(p).parents}
        top = str(self.root)
        for folder, dirs, files in os.walk(top):
            rel_folder = os.path.relpath(folder, top)
            prefix = "" if rel_folder == "." else rel_folder + "/"
            kept = []
            for name in dirs:
                rel = prefix + name
                if _is_git(name):
                    continue
                if os.path.islink(os.path.join(folder, name)):
                    files.append(name)
                    continue
                if _utf8(rel) and rel not in tracked_dirs and spec.match_file(rel + "/"):
                    continue
                kept.append(name)
            dirs[:] = kept
            for name in files:
                rel = prefix + name
                if name.startswith(".forge-write-"):
                    continue
                if rel in self._base or not _utf8(rel) or not spec.match_file(rel):
                    yield rel

    def _unusable(self, rel: str) -> str | None:
        """Why a path on disk cannot be part of a commit, or None."""
        if not _utf8(rel):
            return "its name is not UTF-8"
        try:
            info = os.lstat(os.path.join(self.root, rel))
        except OSError:
            return "it vanished"
        if not (stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode)):
            # Opening a fifo would block; devices and sockets are no files to commit.
            return "it is not a regular file"
        if info.st_size > MAX_PENDING_FILE:
            return f"it is {info.st_size} bytes (more than {MAX_PENDING_FILE})"
        return None

    def _current(self, rel: str) -> tuple[str, bytes | None]:
        """The blob id of a file on disk (cached by size, mtime and inode), and its bytes when read."""
        real = os.path.join(self.root, rel)
        info = os.lstat(real)
        if stat.S_ISLNK(info.st_mode):
            data = os.readlink(real).encode("utf-8", "surrogateescape")
            return _git_blob_id(data), data
        key = (info.st_size, info.st_mtime_ns, info.st_ino)
        known = self._stats.get(rel)
        if known is not None and known[:3] == key:
            return known[3], None
        with open(real, "rb") as handle:
            data = handle.read()
        blob = _git_blob_id(data)
        self._stats[rel] = (*key, blob)
        return blob, data

    def pending(self) -> dict[str, bytes | None]:
        """Files added or changed since the base commit (bytes) and files deleted (None)."""
        changes: dict[str, bytes | None] = {}
        seen: set[str] = set()
        left_out: dict[str, str] = {}
        for rel in self._walk():
            seen.add(rel)
            why = self._unusable(rel)
            if why is not None:
                if rel not in self._base:
                    left_out[_readable(rel)] = why
                continue
            try:
                blob, data = self._current(rel)
            except OSError:
                continue
            if blob == self._base_ids.get(rel):
                continue
            if _unwritable(rel):
                log.warning("workspace %s: %s changed but cannot be committed; left out", self.root, rel)
                continue
            if data is None:
                data = (self.root / rel).read_bytes()
            changes[rel] = data
        for rel in self._base:
            if rel not in seen and rel not in self.refused and not _unwritable(rel):
                changes[rel] = None
        for rel, why in left_out.items():
            if self.left_out.get(rel) != why:
                log.warning("workspace %s: %s left out of the pending files: %s", self.root, rel, why)
        self.left_out = left_out
        return dict(sorted(changes.items()))

    def snapshot(self) -> dict[str, bytes]:
        """Every file of the tree now (ignored untracked paths left out)."""
        files = dict(self._base)
        for rel, data in self.pending().items():
            if data is None:
                files.pop(rel, None)
            else:
                files[rel] = data
        return files

    def base_files(self) -> dict[str, bytes]:
        """Every file of the base commit."""
        return dict(self._base)

    def advance(self, commit: str) -> None:
        """The branch head is now `commit`, made of the tree as it is: nothing pending."""
        files = self.snapshot()
        links: dict[str, str] = {}
        executable: set[str] = set()
        for rel in files:
            if rel in self.refused:
                continue
            with contextlib.suppress(OSError):
                if self.mode(rel) == "120000":
                    links[rel] = files[rel].decode("utf-8", "surrogateescape")
                elif self.mode(rel) == "100755":
                    executable.add(rel)
        regular = {rel: data for rel, data in files.items() if rel not in links and rel not in self.refused}
        archive = _Archive()
        archive.files = regular
        archive.executable = executable
        archive.links = {
            **links,
            **{rel: self._archive.links[rel] for rel in self.refused if rel in self._archive.links},
        }
        archive.refused = dict(self.refused)
        self.base_commit = commit
        self._set_base(archive)
        if self.cache_dir is not None:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            _atomic_write(
                self.cache_dir / f"{commit}.tar.gz", _archive_bytes(regular, executable, archive.links)
            )
        self._state_path().write_text(json.dumps({"base_commit": commit}))


def _atomic_write(path: Path, data: bytes) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)
