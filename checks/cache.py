"""Per-file analysis cache keyed by (kind, git blob id).

A blob id names file content exactly, so an entry never goes stale; `kind`
carries a version so that a changed analysis does not read old entries.
Values are JSON (never pickle: a cache file is not trusted to run code) and
every reader validates what it gets back. The disk cache is one SQLite file
(safe with concurrent processes); any trouble with it — locked, corrupt,
read-only — degrades to an in-memory cache and never breaks an audit.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path

from checks.context import AnalysisCache
from checks.source import Snapshot

CACHE_DIR_ENV = "FORGEGUARD_CACHE_DIR"
"""When set, the disk cache lives in this folder instead of the repository's git folder."""

_SCHEMA = "CREATE TABLE IF NOT EXISTS analysis (kind TEXT, blob TEXT, value TEXT, PRIMARY KEY (kind, blob))"


def uncached(
    snapshot: Snapshot,
    paths: Iterable[str],
    cache: AnalysisCache | None,
    kind: Callable[[str], str],
    load: Callable[[object], object | None],
) -> list[str]:
    """The paths whose analysis is not cached yet (the files a check still has to read).

    `kind(path)` is the entry's kind; `load` reads an entry back (None: unusable).
    """
    if cache is None:
        return list(paths)
    out: list[str] = []
    for path in paths:
        blob = snapshot.blob_id(path)
        if blob is None or load(cache.get(kind(path), blob)) is None:
            out.append(path)
    return out


class MemoryCache:
    """A cache that lives as long as the object (one audit, or a test)."""

    def __init__(self) -> None:
        self._data: dict[tuple[str, str], object] = {}

    def get(self, kind: str, blob_id: str) -> object | None:
        return self._data.get((kind, blob_id))

    def put(self, kind: str, blob_id: str, value: object) -> None:
        self._data[(kind, blob_id)] = value

    def __len__(self) -> int:
        return len(self._data)


class BoundedCache:
    """A bounded, thread-safe cache in memory, least recently used entries dropped first.

    For a long-running process whose audits share what they learnt (the app's worker).
    """

    def __init__(self, max_entries: int = 50_000) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[tuple[str, str], object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, kind: str, blob_id: str) -> object | None:
        with self._lock:
            value = self._items.get((kind, blob_id))
            if value is not None:
                self._items.move_to_end((kind, blob_id))
            return value

    def put(self, kind: str, blob_id: str, value: object) -> None:
        with self._lock:
            self._items[(kind, blob_id)] = value
            self._items.move_to_end((kind, blob_id))
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class DiskCache:
    """SQLite-backed cache; writes are buffered and flushed in one transaction."""

    FLUSH_EVERY = 2000

    def __init__(self, path: Path) -> None:
        self.path = path
        self._memory = MemoryCache()
        self._pending: dict[tuple[str, str], str] = {}
        self._db: sqlite3.Connection | None = None
        try:
            self._db = self._connect(path)
        except (sqlite3.Error, OSError):
            self._db = self._recreate(path)
        self._finalizer = weakref.finalize(self, _close, self._db, self._pending)

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=2.0, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")
            db.execute(_SCHEMA)
            db.execute("SELECT 1 FROM analysis LIMIT 1").fetchall()
        except sqlite3.Error:
            db.close()
            raise
        return db

    def _recreate(self, path: Path) -> sqlite3.Connection | None:
        """A file that is not a usable database is replaced; if that fails too, memory only."""
        try:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            return self._connect(path)
        except (sqlite3.Error, OSError):
            return None

    def get(self, kind: str, blob_id: str) -> object | None:
        value = self._memory.get(kind, blob_id)
        if value is not None or self._db is None:
            return value
        try:
            row = self._db.execute(
                "SELECT value FROM analysis WHERE kind = ? AND blob = ?", (kind, blob_id)
            ).fetchone()
            if row is None or not isinstance(row[0], str):
                return None
            loaded: object = json.loads(row[0])
        except (sqlite3.Error, ValueError):
            return None
        self._memory.put(kind, blob_id, loaded)
        return loaded

    def put(self, kind: str, blob_id: str, value: object) -> None:
        self._memory.put(kind, blob_id, value)
        if self._db is None:
            return
        try:
            self._pending[(kind, blob_id)] = json.dumps(value, separators=(",", ":"))
        except (TypeError, ValueError):
            return
        if len(self._pending) >= self.FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        """Write buffered entries; a busy or broken database just loses them."""
        _write(self._db, self._pending)

    def close(self) -> None:
        """Flush and close (also done when the cache is collected or the process exits)."""
        self._finalizer()
        self._db = None


def _write(db: sqlite3.Connection | None, pending: dict[tuple[str, str], str]) -> None:
    if db is None or not pending:
        pending.clear()
        return
    rows = [(k, b, v) for (k, b), v in pending.items()]
    pending.clear()
    try:
        db.execute("BEGIN")
        db.executemany("INSERT OR REPLACE INTO analysis VALUES (?, ?, ?)", rows)
        db.execute("COMMIT")
    except sqlite3.Error:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")


def _close(db: sqlite3.Connection | None, pending: dict[tuple[str, str], str]) -> None:
    _write(db, pending)
    if db is not None:
        with contextlib.suppress(sqlite3.Error):
            db.close()


def _git_dir(repo_path: Path) -> Path | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--git-common-dir"],
            cwd=repo_path,
            capture_output=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    text = out.stdout.decode("utf-8", "replace").strip()
    return (repo_path / text).resolve() if text else None


def default_cache_path(repo_path: str | os.PathLike[str]) -> Path:
    """Where `open_default_cache` keeps its file for this repository."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override) / "analysis.sqlite3"
    git_dir = _git_dir(Path(repo_path))
    if git_dir is not None and os.access(git_dir, os.W_OK):
        return git_dir / "forgeguard-cache" / "analysis.sqlite3"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "forgeguard" / "analysis.sqlite3"


def open_default_cache(repo_path: str | os.PathLike[str]) -> AnalysisCache:
    """The disk cache for a local repository (memory only when no folder is writable)."""
    try:
        return DiskCache(default_cache_path(repo_path))
    except OSError:
        return MemoryCache()
