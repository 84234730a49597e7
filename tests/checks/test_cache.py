"""The per-file analysis cache: memory and SQLite, shared by processes, never fatal."""

from __future__ import annotations

import multiprocessing
import pathlib
import subprocess

import pytest

from checks.cache import (
    CACHE_DIR_ENV,
    DiskCache,
    MemoryCache,
    default_cache_path,
    open_default_cache,
    uncached,
)
from checks.memory_source import MemorySnapshot
from tests.fixtures.gitrepo import GitRepo


def test_memory_cache_returns_what_was_put() -> None:
    cache = MemoryCache()
    cache.put("kind", "blob", [1, "a"])
    assert cache.get("kind", "blob") == [1, "a"]
    assert cache.get("other", "blob") is None


def test_uncached_lists_the_paths_without_a_usable_entry_for_their_blob() -> None:
    snap = MemorySnapshot({"done.py": "a", "bad.py": "b", "new.py": "c"})
    cache = MemoryCache()
    for path, value in (("done.py", ["ok"]), ("bad.py", "corrupt")):
        blob = snap.blob_id(path)
        assert blob is not None
        cache.put(f"kind:{path}", blob, value)

    def load(value: object) -> object | None:
        return value if isinstance(value, list) else None

    def kind(path: str) -> str:
        return f"kind:{path}"

    paths = ["done.py", "bad.py", "new.py", "absent.py"]
    assert uncached(snap, paths, cache, kind, load) == ["bad.py", "new.py", "absent.py"]
    assert uncached(snap, paths, None, kind, load) == paths


def test_disk_cache_survives_reopening(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "c.sqlite3"
    cache = DiskCache(path)
    cache.put("py-imports/1", "abc", [None, [["os", 1, 0, []]]])
    cache.close()
    assert DiskCache(path).get("py-imports/1", "abc") == [None, [["os", 1, 0, []]]]


def test_disk_cache_flushes_when_collected(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "c.sqlite3"
    cache = DiskCache(path)
    cache.put("k", "b", {"x": 1})
    del cache
    assert DiskCache(path).get("k", "b") == {"x": 1}


def test_a_corrupt_cache_file_is_replaced(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "c.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    cache = DiskCache(path)
    cache.put("k", "b", 1)
    cache.close()
    assert DiskCache(path).get("k", "b") == 1


def test_an_unwritable_location_degrades_to_memory(tmp_path: pathlib.Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = DiskCache(blocker / "sub" / "c.sqlite3")
    cache.put("k", "b", 2)
    assert cache.get("k", "b") == 2
    cache.close()


def test_values_that_are_not_json_are_kept_in_memory_only(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "c.sqlite3"
    cache = DiskCache(path)
    cache.put("k", "b", {1, 2})
    assert cache.get("k", "b") == {1, 2}
    cache.close()
    assert DiskCache(path).get("k", "b") is None


def _writer(path: str, start: int) -> None:
    cache = DiskCache(pathlib.Path(path))
    for i in range(start, start + 500):
        cache.put("k", str(i), i)
    cache.close()


def test_concurrent_processes_share_one_cache_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "c.sqlite3"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(path), n * 1000)) for n in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    cache = DiskCache(path)
    assert [cache.get("k", str(n * 1000 + 499)) for n in range(3)] == [499, 1499, 2499]


def test_default_cache_lives_in_the_git_folder(git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CACHE_DIR_ENV, raising=False)
    git_repo.commit({"a.py": "x\n"})
    expected = (git_repo.path / ".git" / "forgeguard-cache" / "analysis.sqlite3").resolve()
    assert default_cache_path(git_repo.path) == expected
    cache = open_default_cache(git_repo.path)
    cache.put("k", "b", 3)
    assert isinstance(cache, DiskCache)
    cache.close()
    assert expected.exists()
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=git_repo.path, capture_output=True, text=True
    )
    assert status.stdout == ""


def test_the_cache_folder_can_be_set_by_environment(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "cache"))
    assert default_cache_path(tmp_path) == tmp_path / "cache" / "analysis.sqlite3"
