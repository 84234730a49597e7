"""`Source` and `Snapshot` on a local git repository, through the git binary.

Every git call is an argument list (no shell). A snapshot lists its files with
one `git ls-tree -r -l -z` and reads them through one persistent
`git cat-file --batch` process per source, so the cost follows the change and
the files the checks read, not the size of the repository.
"""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
import threading
import weakref
from collections.abc import Callable, Generator, Iterable, Sequence
from typing import IO, NamedTuple

from checks import pool
from checks.added_lines import WholeFile, hunk_start
from checks.source import EMPTY_TREE, WORKING_TREE, Change, ChangedFile, CommitInfo, Status

_GIT_CONFIG = (
    "-c",
    "core.quotePath=false",
    "-c",
    "diff.noprefix=false",
    "-c",
    "diff.mnemonicPrefix=false",
    "-c",
    "diff.relative=false",
    "-c",
    "log.showSignature=false",
    "-c",
    "diff.interHunkContext=0",
)
_STATUS: dict[str, Status] = {
    "A": "added",
    "M": "modified",
    "D": "removed",
    "R": "renamed",
    "C": "copied",
    "T": "modified",
    "U": "modified",
    "X": "modified",
}
_REGULAR_MODES = frozenset({b"100644", b"100755", b"100664"})
"""The modes of regular files in git's listings (compared as git prints them, undecoded)."""
PARALLEL_OBJECTS = 256
"""From this many objects, `read_objects` reads through two git processes."""


class GitError(Exception):
    """git could not answer: not a repository, an unknown revision, a broken object."""


class _Entry(NamedTuple):
    """A file of a tree listing (a named tuple: a large tree has tens of thousands)."""

    blob_id: str
    size: int


class _BatchReader:
    """One `git cat-file --batch` process, kept open and fed one object id at a time."""

    def __init__(self, repo: str) -> None:
        self._repo = repo
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._finalizer: weakref.finalize[[subprocess.Popen[bytes] | None], _BatchReader] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                ["git", *_GIT_CONFIG, "cat-file", "--batch"],
                cwd=self._repo,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            self._finalizer = weakref.finalize(self, _stop, self._proc)
        return self._proc

    def read(self, object_id: str) -> bytes | None:
        with self._lock:
            proc = self._start()
            stdin, stdout = _pipes(proc)
            stdin.write(object_id.encode("ascii") + b"\n")
            stdin.flush()
            return _read_object(stdout)

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
        self._proc = None


def _pipes(proc: subprocess.Popen[bytes]) -> tuple[IO[bytes], IO[bytes]]:
    assert proc.stdin is not None and proc.stdout is not None
    return proc.stdin, proc.stdout


def _read_object(stdout: IO[bytes]) -> bytes | None:
    """One object of `git cat-file --batch`'s output: its header, its bytes and the newline after."""
    header = stdout.readline()
    if not header:
        raise GitError("git cat-file stopped unexpectedly")
    parts = header.split()
    if len(parts) < 3 or parts[1] == b"missing":
        return None
    data = _read_exact(stdout, int(parts[2]))
    stdout.read(1)
    return data


def _read_exact(stream: IO[bytes], size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            raise GitError("git cat-file stopped in the middle of an object")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def git_blob_id(data: bytes) -> str:
    """The id git gives a blob with these bytes (what `git hash-object` prints)."""
    return hashlib.sha1(b"blob %d\x00" % len(data) + data, usedforsecurity=False).hexdigest()


class GitSnapshot:
    """The regular files of one commit; symlinks and submodules are not files to read.

    Files read are kept (up to `CACHE_BYTES`), so a file that several checks
    read comes out of git once; past the budget, reads go to git each time.
    """

    CACHE_BYTES = 256 * 1024 * 1024

    def __init__(self, source: GitSource, commit: str) -> None:
        self._source = source
        self._commit = commit
        self._entries: dict[str, _Entry] | None = None
        self._data: dict[str, bytes] = {}
        self._cached_bytes = 0
        self._loaded_all = False
        self._irregular = False

    @property
    def commit(self) -> str:
        return self._commit

    def _tree(self) -> dict[str, _Entry]:
        if self._entries is None:
            out = self._source.git("ls-tree", "-r", "-l", "-z", "--full-tree", self._commit)
            entries: dict[str, _Entry] = {}
            for record in out.split(b"\x00"):
                if not record:
                    continue
                meta, _, raw_path = record.partition(b"\t")
                fields = meta.split()
                if len(fields) < 4 or fields[1] != b"blob" or fields[0] not in _REGULAR_MODES:
                    self._irregular = True
                    continue
                size = int(fields[3]) if fields[3].isdigit() else 0
                entries[_path(raw_path)] = _Entry(fields[2].decode("ascii"), size)
            self._entries = entries
        return self._entries

    def paths(self) -> Sequence[str]:
        return list(self._tree())

    def only_regular_files(self) -> bool:
        """True when the commit holds nothing but regular files (no symlink, no submodule)."""
        self._tree()
        return not self._irregular

    def exists(self, path: str) -> bool:
        return path in self._tree()

    def size(self, path: str) -> int | None:
        entry = self._tree().get(path)
        return None if entry is None else entry.size

    def blob_id(self, path: str) -> str | None:
        entry = self._tree().get(path)
        return None if entry is None else entry.blob_id

    def read(self, path: str) -> bytes | None:
        if path in self._data:
            return self._data[path]
        entry = self._tree().get(path)
        if entry is None:
            return None
        data = self._source.read_object(entry.blob_id)
        if data is not None and self._cached_bytes + len(data) <= self.CACHE_BYTES:
            self._data[path] = data
            self._cached_bytes += len(data)
        return data

    def prefetch(self, paths: Iterable[str]) -> None:
        """Read the files now, in one stream from git, as far as the cache budget goes."""
        self.load(paths)

    def read_all(self, path: str) -> bytes | None:
        """`read(path)`; the first time a file is not loaded yet, every file not read yet is loaded
        with it in one stream (a whole tree's lines, asked for one file at a time)."""
        if path not in self._data and not self._loaded_all:
            self._loaded_all = True
            self.load(self._tree())
        return self.read(path)

    def load(self, paths: Iterable[str]) -> None:
        """What `prefetch` does, for the source's own use (the engine's prefetch stays one call)."""
        wanted: dict[str, list[str]] = {}
        budget = self.CACHE_BYTES - self._cached_bytes
        for path in paths:
            entry = self._tree().get(path)
            if entry is None or path in self._data or entry.size > budget:
                continue
            budget -= entry.size
            wanted.setdefault(entry.blob_id, []).append(path)
        for blob, data in self._source.read_objects(list(wanted)):
            for path in wanted[blob]:
                if data is not None and self._cached_bytes + len(data) <= self.CACHE_BYTES:
                    self._data[path] = data
                    self._cached_bytes += len(data)


class WorkingTreeSnapshot:
    """The tracked files as they are on disk now (staged and unstaged changes included)."""

    def __init__(self, source: GitSource) -> None:
        self._source = source
        self._index: dict[str, str] | None = None
        self._dirty: set[str] | None = None

    @property
    def commit(self) -> str:
        return WORKING_TREE

    def _files(self) -> dict[str, str]:
        if self._index is None:
            out = self._source.git("ls-files", "-s", "-z")
            index: dict[str, str] = {}
            for record in out.split(b"\x00"):
                if not record:
                    continue
                meta, _, raw_path = record.partition(b"\t")
                fields = meta.split()
                if len(fields) < 3 or fields[0] not in _REGULAR_MODES:
                    continue
                path = _path(raw_path)
                if os.path.isfile(self._disk(path)) and not os.path.islink(self._disk(path)):
                    index[path] = fields[1].decode("ascii")
            self._index = index
        return self._index

    def _changed_on_disk(self) -> set[str]:
        if self._dirty is None:
            out = self._source.git("diff-files", "--name-only", "-z")
            self._dirty = {_path(p) for p in out.split(b"\x00") if p}
        return self._dirty

    def _disk(self, path: str) -> str:
        return os.path.join(self._source.path, *path.split("/"))

    def paths(self) -> Sequence[str]:
        return list(self._files())

    def exists(self, path: str) -> bool:
        return path in self._files()

    def size(self, path: str) -> int | None:
        if path not in self._files():
            return None
        try:
            return os.lstat(self._disk(path)).st_size
        except OSError:
            return None

    def blob_id(self, path: str) -> str | None:
        index_id = self._files().get(path)
        if index_id is None:
            return None
        if path not in self._changed_on_disk():
            return index_id
        data = self.read(path)
        return None if data is None else git_blob_id(data)

    def read(self, path: str) -> bytes | None:
        if path not in self._files():
            return None
        try:
            with open(self._disk(path), "rb") as handle:
                return handle.read()
        except OSError:
            return None

    def prefetch(self, paths: Iterable[str]) -> None:
        """Files on disk are read when asked for; there is nothing to batch."""


class GitSource:
    """A local repository. Call `close()` (or use `with`) to stop the reader process."""

    def __init__(self, repo_path: str | os.PathLike[str]) -> None:
        path = os.fspath(repo_path)
        try:
            out = subprocess.run(
                ["git", "rev-parse", "--show-toplevel"],
                cwd=path,
                capture_output=True,
                check=False,
            )
        except (FileNotFoundError, NotADirectoryError) as exc:
            if os.path.isdir(path) and isinstance(exc, FileNotFoundError) and exc.filename == "git":
                raise GitError("git is not installed (no 'git' on PATH)") from exc
            raise GitError(f"{path} is not a git repository") from exc
        if out.returncode != 0:
            raise GitError(f"{path} is not a git repository")
        self.path = out.stdout.decode("utf-8", "surrogateescape").rstrip("\n")
        self._reader = _BatchReader(self.path)
        self._snapshots: dict[str, GitSnapshot] = {}

    def __enter__(self) -> GitSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._reader.close()

    def git(self, *args: str, ok: tuple[int, ...] = (0,)) -> bytes:
        proc = subprocess.run(["git", *_GIT_CONFIG, *args], cwd=self.path, capture_output=True, check=False)
        if proc.returncode not in ok:
            message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise GitError(message[0] if message else f"git {args[0]} failed")
        return proc.stdout

    def read_object(self, object_id: str) -> bytes | None:
        return self._reader.read(object_id)

    def read_objects(self, object_ids: Sequence[str]) -> Generator[tuple[str, bytes | None], None, None]:
        """Many objects (in no set order), streamed from git. Past `PARALLEL_OBJECTS`, two git
        processes share the decompression: one is read here while a thread reads the other."""
        if len(object_ids) < PARALLEL_OBJECTS or pool.cpu_count() < 2:
            yield from self._stream_objects(object_ids)
            return
        other: list[tuple[str, bytes | None]] = []
        failed: list[BaseException] = []
        stop = threading.Event()

        def read_other() -> None:
            try:
                for item in self._stream_objects(object_ids[1::2]):
                    if stop.is_set():
                        break
                    other.append(item)
            except BaseException as exc:  # handed to the caller's thread below
                failed.append(exc)

        thread = threading.Thread(target=read_other, name="forgeguard-cat-file-second", daemon=True)
        thread.start()
        try:
            yield from self._stream_objects(object_ids[0::2])
        except BaseException:
            stop.set()  # the caller stopped early or failed: the other git process is stopped too
            raise
        finally:
            thread.join()
        if failed:
            raise failed[0]
        yield from other

    def _stream_objects(self, object_ids: Sequence[str]) -> Generator[tuple[str, bytes | None], None, None]:
        """Objects through a `git cat-file --batch` of their own: a thread writes the ids while the
        contents stream back, so git works while we read, with no round trip per object."""
        if not object_ids:
            return
        with subprocess.Popen(
            ["git", *_GIT_CONFIG, "cat-file", "--batch"],
            cwd=self.path,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        ) as proc:
            stdin, stdout = _pipes(proc)

            def feed() -> None:
                try:
                    stdin.write(b"".join(oid.encode("ascii") + b"\n" for oid in object_ids))
                except OSError:
                    pass  # git stopped; the reading side reports it
                finally:
                    stdin.close()

            writer = threading.Thread(target=feed, name="forgeguard-cat-file-feed", daemon=True)
            writer.start()
            done = False
            try:
                for oid in object_ids:
                    yield oid, _read_object(stdout)
                done = True
            finally:
                if not done:
                    proc.kill()  # the reader stopped early: the writer must not wait on a full pipe
                writer.join()

    # -- history -----------------------------------------------------------

    def resolve(self, rev: str) -> str | None:
        if rev == EMPTY_TREE:
            return EMPTY_TREE
        proc = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"],
            cwd=self.path,
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            return None
        return proc.stdout.decode("ascii").strip() or None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        if ancestor == EMPTY_TREE:
            return True
        proc = subprocess.run(
            ["git", "merge-base", "--is-ancestor", "--end-of-options", ancestor, descendant],
            cwd=self.path,
            capture_output=True,
            check=False,
        )
        return proc.returncode == 0

    def merge_base(self, base: str, head: str) -> str:
        """The merge base of base and head; base itself when the histories are unrelated."""
        if base == EMPTY_TREE:
            return EMPTY_TREE
        out = self.git("merge-base", "--end-of-options", base, head, ok=(0, 1)).decode("ascii").strip()
        return out or base

    def snapshot(self, rev: str) -> GitSnapshot | WorkingTreeSnapshot:
        if rev == WORKING_TREE:
            return WorkingTreeSnapshot(self)
        commit = self.resolve(rev)
        if commit is None or commit == EMPTY_TREE:
            raise GitError(f"unknown commit '{rev}'")
        if commit not in self._snapshots:
            self._snapshots[commit] = GitSnapshot(self, commit)
        return self._snapshots[commit]

    def change(self, base: str, head: str) -> Change:
        base_sha = self._must_resolve(base)
        head_sha = self._must_resolve(head)
        start = self.merge_base(base_sha, head_sha)
        whole = self._whole_tree(head_sha) if start == EMPTY_TREE else None
        files = whole if whole is not None else self._diff([start, head_sha])
        return Change(base=base_sha, head=head_sha, files=files, merge_base=start)

    def _whole_tree(self, head: str) -> list[ChangedFile] | None:
        """From the empty tree every line of every file is added: each file's lines are its text,
        read when a check first asks (then every file not read yet comes in one stream from git),
        instead of parsing a patch of all of them. None when the tree holds what only git's patch
        describes exactly (symlinks, submodules, `-diff` attributes)."""
        snapshot = self.snapshot(head)
        assert isinstance(snapshot, GitSnapshot)
        binary_by_attribute = self._diff_unset(head)  # git works on it while the tree is listed here
        try:
            regular = snapshot.only_regular_files()
        finally:
            unset = binary_by_attribute()  # answered (and its processes ended) whatever happens
        if unset or not regular:
            return None
        paths = list(snapshot.paths())
        if any("\ufffd" in p for p in paths):
            return None  # a name that is not UTF-8: git's patch describes it exactly
        lines = [WholeFile.deferred(functools.partial(snapshot.read_all, p)) for p in paths]
        return [ChangedFile(p, "added", added_lines=found) for p, found in zip(paths, lines, strict=True)]

    def _diff_unset(self, commit: str) -> Callable[[], bool]:
        """Started now, answered when called: whether a file of the commit has the `diff` attribute
        unset (`-diff`, `binary`), which git's patch calls binary (True as well when git fails).
        `git ls-tree` hands the names straight to `git check-attr`, so no name is decoded first."""
        names = subprocess.Popen(
            ["git", *_GIT_CONFIG, "ls-tree", "-r", "--name-only", "-z", "--full-tree", commit],
            cwd=self.path,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert names.stdout is not None
        try:
            attrs = subprocess.Popen(
                ["git", *_GIT_CONFIG, "check-attr", "--stdin", "-z", "diff"],
                cwd=self.path,
                env={**os.environ, "GIT_FLUSH": "0"},  # else one write per path (half its time)
                stdin=names.stdout,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            names.kill()
            names.wait()
            raise
        finally:
            names.stdout.close()  # check-attr holds the pipe now

        def answer() -> bool:
            out, _ = attrs.communicate()
            if names.wait() != 0 or attrs.returncode != 0:
                return True
            return b"\x00unset\x00" in out

        return answer

    def working_tree_change(self) -> Change:
        """Staged and unstaged changes of tracked files against HEAD; untracked files are not part."""
        head_sha = self._must_resolve("HEAD")
        files = self._diff([head_sha])
        return Change(base=head_sha, head=head_sha, files=files, working_tree=True, merge_base=head_sha)

    def commits_between(self, base: str, head: str) -> list[CommitInfo]:
        revs = [head] if base == EMPTY_TREE else [f"{base}..{head}"]
        out = self.git(
            "log",
            "-z",
            "--reverse",
            "--no-renames",
            "--diff-merges=first-parent",
            "--name-only",
            "--format=%x01%H%x02%B%x03",
            "--end-of-options",
            *revs,
            "--",
        )
        commits: list[CommitInfo] = []
        for chunk in out.split(b"\x01"):
            if b"\x02" not in chunk:
                continue
            sha, _, rest = chunk.partition(b"\x02")
            message, _, tail = rest.rpartition(b"\x03")
            paths = tuple(_path(p.strip(b"\n")) for p in tail.split(b"\x00") if p.strip(b"\n"))
            commits.append(CommitInfo(sha.decode("ascii"), paths, message.decode("utf-8", "replace").strip()))
        return commits

    def _must_resolve(self, rev: str) -> str:
        sha = self.resolve(rev)
        if sha is None:
            raise GitError(f"unknown commit '{rev}'")
        return sha

    def _diff(self, revs: list[str]) -> list[ChangedFile]:
        options = ["-M", "-C", "--no-color", "--no-ext-diff", "--no-textconv", "--full-index"]
        raw = self.git("diff", "--raw", "-z", "--no-abbrev", *options, *revs, "--")
        entries = _parse_raw(raw)
        if not entries:
            return []
        sections = self._patch_sections(
            ["diff", "-U0", "--src-prefix=a/", "--dst-prefix=b/", *options, *revs, "--"]
        )
        if len(sections) != len(entries):
            raise GitError("git diff listed the files differently in its two outputs")
        files: list[ChangedFile] = []
        for (status, similarity, old, new), (binary, added) in zip(entries, sections, strict=True):
            files.append(
                ChangedFile(
                    path=new,
                    status=status,
                    previous_path=old if status in ("renamed", "copied") else None,
                    similarity=similarity,
                    binary=binary,
                    added_lines=tuple(added),
                )
            )
        return files

    def _patch_sections(self, args: list[str]) -> list[tuple[bool, list[tuple[int, str]]]]:
        """Stream `git diff -U0` and parse it as it comes: a large change is never held whole."""
        with subprocess.Popen(
            ["git", *_GIT_CONFIG, *args], cwd=self.path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        ) as proc:
            assert proc.stdout is not None
            sections = _parse_patch(proc.stdout)
            if proc.wait() != 0:
                raise GitError(f"git diff failed (exit {proc.returncode})")
        return sections


def _path(raw: bytes) -> str:
    # A name that is not UTF-8 gets U+FFFD: every path must be printable text in a
    # report, and git's objects are still found through the listing's blob ids.
    return raw.decode("utf-8", "replace")


def _parse_raw(raw: bytes) -> list[tuple[Status, int | None, str, str]]:
    """`git diff --raw -z`: `:modes ids STATUS\\0path\\0[path\\0]` per file."""
    fields = raw.split(b"\x00")
    entries: list[tuple[Status, int | None, str, str]] = []
    i = 0
    while i < len(fields):
        meta = fields[i]
        if not meta.startswith(b":"):
            i += 1
            continue
        letters = meta.split()[-1].decode("ascii")
        status = _STATUS.get(letters[0], "modified")
        similarity = int(letters[1:]) if status in ("renamed", "copied") and letters[1:].isdigit() else None
        if status in ("renamed", "copied"):
            old, new = _path(fields[i + 1]), _path(fields[i + 2])
            i += 3
        else:
            old = new = _path(fields[i + 1])
            i += 2
        entries.append((status, similarity, old, new))
    return entries


def _parse_patch(stream: IO[bytes]) -> list[tuple[bool, list[tuple[int, str]]]]:
    """Per file section of a `-U0` patch: whether git called it binary, and its added lines.

    Added lines carry their line number at head; with no context lines, a
    hunk's `+` lines are numbered on from the `+start` of its header.
    """
    sections: list[tuple[bool, list[tuple[int, str]]]] = []
    added: list[tuple[int, str]] = []
    started = binary = in_hunks = False
    number = 0
    for line in stream:
        first = line[:1]
        if in_hunks and first == b"+":
            text = line[1:-1] if line.endswith(b"\n") else line[1:]
            if text.endswith(b"\r"):
                text = text[:-1]
            added.append((number, text.decode("utf-8", "replace")))
            number += 1
        elif in_hunks and first == b" ":
            number += 1  # a context line (none with -U0, but the count must stay right)
        elif in_hunks and first in (b"-", b"\\"):
            continue
        elif first == b"@" and line.startswith(b"@@"):
            start = hunk_start(line.decode("utf-8", "replace"))
            if start is not None:
                in_hunks = True
                number = start
        elif line.startswith(b"diff --git ") or line.startswith(b"diff --cc "):
            if started:
                sections.append((binary, added))
            started, added, binary, in_hunks = True, [], False, False
        elif not in_hunks and line.startswith(b"Binary files ") and line.rstrip(b"\n").endswith(b" differ"):
            binary = True
    if started:
        sections.append((binary, added))
    return sections
