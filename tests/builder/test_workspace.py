"""The working tree: made from a commit's tarball on the fake GitHub, the saved files overlaid,
rebuilt identically after a restart, pending changes, unsafe archives, a full disk."""

from __future__ import annotations

import io
import os
import pathlib
import resource
import tarfile
from collections.abc import AsyncIterator

import aiohttp
import pytest

from checks.memory_source import MemorySource
from forgeguard_app.builder.sandbox import Refused
from forgeguard_app.builder.workspace import (
    MAX_PENDING_FILE,
    DiskFull,
    UnsafeArchive,
    Workspace,
    read_archive,
)
from forgeguard_app.github.client import GitHubApp, InstallationAPI
from tests.builder.sandbox_support import BASE
from tests.fixtures.github import FakeGitHub, FakeRepo

FILES = {
    "README.md": "hello\n",
    "src/app.py": "x = 1\n",
    "src/util.py": "def f():\n    return 2\n",
    "run.sh": "#!/bin/sh\necho hi\n",
}


@pytest.fixture
def repo(fake_github: FakeGitHub) -> FakeRepo:
    repo = fake_github.add_repo("octo", "shelf")
    repo.commit(FILES, executable=["run.sh"])
    return repo


@pytest.fixture
async def api(fake_github: FakeGitHub, repo: FakeRepo) -> AsyncIterator[InstallationAPI]:
    async with aiohttp.ClientSession() as session:
        yield await GitHubApp(fake_github.settings(), session).installation_api(repo.installation_id)


def commit_symlinks(repo: FakeRepo, links: dict[str, str]) -> str:
    """A commit adding symbolic links (mode 120000), as a repository can hold them."""
    head = repo.sha("main")
    stream = io.BytesIO()
    stream.write(b"commit refs/heads/main\ncommitter T <t@example.com> 1700000000 +0000\n")
    stream.write(f"data 5\nlinks\nfrom {head}\n".encode())
    for path, target in links.items():
        data = target.encode()
        stream.write(f"M 120000 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
    repo.git_bytes("fast-import", "--quiet", input=stream.getvalue())
    return repo.sha("main")


async def prepare(api: InstallationAPI, commit: str, root: pathlib.Path, **kwargs: object) -> Workspace:
    return await Workspace.prepare(api, "octo", "shelf", commit, root=root, **kwargs)  # type: ignore[arg-type]


async def test_the_tree_is_made_from_the_commit_tarball(
    api: InstallationAPI, repo: FakeRepo, tmp_path: pathlib.Path
) -> None:
    workspace = await prepare(api, repo.sha("main"), tmp_path / "tree")
    assert (workspace.root / "src" / "app.py").read_text() == "x = 1\n"
    assert workspace.base_files() == {path: text.encode() for path, text in FILES.items()}
    assert workspace.mode("run.sh") == "100755"
    assert workspace.mode("README.md") == "100644"
    assert workspace.pending() == {}


async def test_a_committed_symlink_to_etc_passwd_is_left_out_and_never_pending(
    api: InstallationAPI, repo: FakeRepo, tmp_path: pathlib.Path
) -> None:
    commit = commit_symlinks(repo, {"passwd": "/etc/passwd", "up": "../../../etc", "alias.py": "src/app.py"})
    workspace = await prepare(api, commit, tmp_path / "tree")
    assert not os.path.lexists(workspace.root / "passwd")
    assert not os.path.lexists(workspace.root / "up")
    assert set(workspace.refused) == {"passwd", "up"}
    assert os.readlink(workspace.root / "alias.py") == "src/app.py"
    assert workspace.read("alias.py") == b"x = 1\n"
    assert workspace.pending() == {}
    assert workspace.snapshot()["passwd"] == b"/etc/passwd"


async def test_the_saved_files_are_overlaid_and_a_restart_rebuilds_the_same_tree(
    api: InstallationAPI, repo: FakeRepo, tmp_path: pathlib.Path
) -> None:
    commit = repo.sha("main")
    first = await prepare(api, commit, tmp_path / "worker-1" / "tree")
    first.write("src/new.py", b"y = 2\n")
    first.write("src/app.py", b"x = 3\n")
    first.delete("README.md")
    saved = first.pending()
    assert saved == {"README.md": None, "src/app.py": b"x = 3\n", "src/new.py": b"y = 2\n"}

    second = await prepare(api, commit, tmp_path / "worker-2" / "tree", overlay=saved)
    assert second.pending() == saved
    assert second.snapshot() == first.snapshot()
    assert not (second.root / "README.md").exists()


async def test_an_intact_tree_is_reused_without_a_download_and_a_tampered_one_is_rebuilt(
    api: InstallationAPI, repo: FakeRepo, tmp_path: pathlib.Path
) -> None:
    commit = repo.sha("main")
    cache = tmp_path / "tarballs"
    root = tmp_path / "tree"
    workspace = await prepare(api, commit, root, cache_dir=cache)
    workspace.write("src/app.py", b"x = 9\n")
    (root / "node_modules").mkdir()
    (root / "node_modules" / "kept.js").write_text("cache")
    saved = workspace.pending()
    calls = api.calls

    again = await prepare(api, commit, root, overlay=saved, cache_dir=cache)
    assert (root / "node_modules" / "kept.js").exists()
    assert again.pending() == saved

    (root / "src" / "util.py").write_text("tampered by a step that never saved\n")
    rebuilt = await prepare(api, commit, root, overlay=saved, cache_dir=cache)
    assert rebuilt.pending() == saved
    assert (root / "src" / "util.py").read_text() == FILES["src/util.py"]
    assert api.calls == calls


def test_pending_lists_added_changed_and_deleted_files_and_leaves_out_tool_caches(
    tmp_path: pathlib.Path,
) -> None:
    workspace = Workspace.from_files(
        tmp_path / "tree",
        {"a.py": b"a\n", "b.py": b"b\n", ".gitignore": b"build/\n*.log\n", "dist/kept.txt": b"tracked\n"},
        base_commit=BASE,
    )
    root = workspace.root
    (root / "a.py").write_text("changed\n")
    (root / "b.py").unlink()
    (root / "c.py").write_text("new\n")
    for junk in (
        "__pycache__/a.cpython-311.pyc",
        ".pytest_cache/v/x",
        "node_modules/m/index.js",
        "build/out.o",
    ):
        (root / junk).parent.mkdir(parents=True, exist_ok=True)
        (root / junk).write_text("junk")
    (root / "debug.log").write_text("junk")
    (root / ".forge-home" / "tmp").mkdir(parents=True)
    (root / ".forge-home" / "rc").write_text("junk")
    assert workspace.pending() == {"a.py": b"changed\n", "b.py": None, "c.py": b"new\n"}


def test_changes_under_git_or_workflows_made_by_commands_are_never_pending(tmp_path: pathlib.Path) -> None:
    workspace = Workspace.from_files(tmp_path / "tree", {"a.py": b"a\n"}, base_commit=BASE)
    (workspace.root / ".git").mkdir()
    (workspace.root / ".git" / "config").write_text("[core]\n")
    (workspace.root / ".github" / "workflows").mkdir(parents=True)
    (workspace.root / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    (workspace.root / ".github" / "CODEOWNERS").write_text("* @octo\n")
    assert workspace.pending() == {".github/CODEOWNERS": b"* @octo\n"}


def test_fifos_huge_files_and_undecodable_names_are_left_out_with_the_reason(tmp_path: pathlib.Path) -> None:
    workspace = Workspace.from_files(tmp_path / "tree", {"a.py": b"a\n"}, base_commit=BASE)
    root = workspace.root
    os.mkfifo(root / "pipe")
    with open(root / "huge.bin", "wb") as handle:
        handle.truncate(MAX_PENDING_FILE + 1)
    (root / os.fsdecode(b"bad-\xff.txt")).write_text("x")
    (root / "fine.py").write_text("ok\n")
    assert workspace.pending() == {"fine.py": b"ok\n"}
    assert workspace.left_out == {
        "pipe": "it is not a regular file",
        "huge.bin": f"it is {MAX_PENDING_FILE + 1} bytes (more than {MAX_PENDING_FILE})",
        "bad-\ufffd.txt": "its name is not UTF-8",
    }


def test_the_snapshot_and_the_base_give_the_engine_the_pending_change(tmp_path: pathlib.Path) -> None:
    workspace = Workspace.from_files(tmp_path / "tree", {"a.py": b"a\n", "b.py": b"b\n"}, base_commit=BASE)
    workspace.write("a.py", b"a = 2\n")
    workspace.write("src/c.py", b"import os\n")
    workspace.delete("b.py")
    source = MemorySource(workspace.snapshot(), workspace.base_files(), base_commit=workspace.base_commit)
    change = source.change(workspace.base_commit, source.head.commit)
    assert sorted(change.paths()) == sorted(workspace.pending())


def test_writes_follow_the_path_rules(tmp_path: pathlib.Path) -> None:
    workspace = Workspace.from_files(tmp_path / "tree", {"a.py": b"a\n"}, base_commit=BASE)
    for path in ("../escape.py", "/etc/x", ".git/hooks/post-checkout", ".github/workflows/ci.yml"):
        with pytest.raises(Refused):
            workspace.write(path, b"x")
    assert not (tmp_path / "escape.py").exists()


def test_a_write_keeps_the_executable_bit(tmp_path: pathlib.Path) -> None:
    workspace = Workspace.from_files(tmp_path / "tree", {"run.sh": b"#!/bin/sh\n"}, base_commit=BASE)
    os.chmod(workspace.root / "run.sh", 0o755)  # noqa: S103 (an executable script)
    workspace.write("run.sh", b"#!/bin/sh\necho 2\n")
    assert workspace.mode("run.sh") == "100755"


def test_a_folder_is_not_deleted_whole(tmp_path: pathlib.Path) -> None:
    workspace = Workspace.from_files(tmp_path / "tree", {"src/a.py": b"a\n"}, base_commit=BASE)
    with pytest.raises(Refused, match="folder"):
        workspace.delete("src")


def test_advancing_makes_the_tree_the_new_base_and_caches_it(tmp_path: pathlib.Path) -> None:
    workspace = Workspace.from_files(
        tmp_path / "tree", {"a.py": b"a\n"}, base_commit=BASE, cache_dir=tmp_path / "tarballs"
    )
    workspace.write("b.py", b"b\n")
    workspace.advance("c" * 40)
    assert workspace.pending() == {}
    assert workspace.base_commit == "c" * 40
    assert workspace.base_files() == {"a.py": b"a\n", "b.py": b"b\n"}
    assert (tmp_path / "tarballs" / f"{'c' * 40}.tar.gz").exists()


async def test_a_tree_advanced_on_this_worker_is_prepared_without_a_download(
    api: InstallationAPI, repo: FakeRepo, tmp_path: pathlib.Path
) -> None:
    cache = tmp_path / "tarballs"
    workspace = await prepare(api, repo.sha("main"), tmp_path / "tree", cache_dir=cache)
    workspace.write("src/b.py", b"b\n")
    workspace.advance("d" * 40)
    calls = api.calls
    again = await prepare(api, "d" * 40, tmp_path / "tree-2", cache_dir=cache)
    assert api.calls == calls
    assert again.snapshot() == workspace.snapshot()
    assert again.mode("run.sh") == "100755"


# -- unsafe archives


def tar_of(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


EVIL = tar_of(
    [
        (member("top/good.py"), b"ok\n"),
        (member("/etc/cron.d/evil"), b"x"),
        (member("top/../../evil.py"), b"x"),
        (member("top/.git/hooks/post-checkout"), b"x"),
        (member("top/dev", tarfile.CHRTYPE), None),
        (member("top/pipe", tarfile.FIFOTYPE), None),
        (member("top/hard", tarfile.LNKTYPE, "/etc/passwd"), None),
        (member("top/abs", tarfile.SYMTYPE, "/etc/passwd"), None),
        (member("top/sub/climb", tarfile.SYMTYPE, "../../outside"), None),
        (member("top/sub/fine", tarfile.SYMTYPE, "../good.py"), None),
        (member(os.fsdecode(b"top/bad-\xff.py")), b"x"),
    ]
)


def test_unsafe_archive_members_are_refused() -> None:
    archive = read_archive(EVIL)
    assert archive.files == {"good.py": b"ok\n"}
    assert archive.links["sub/fine"] == "../good.py"
    assert set(archive.refused) == {
        "/etc/cron.d/evil",
        "top/../../evil.py",
        ".git/hooks/post-checkout",
        "dev",
        "pipe",
        "hard",
        "abs",
        "sub/climb",
        "top/bad-\ufffd.py",
    }


class _Serving:
    """A downloader that serves one archive (what `prepare` needs of the API)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def download(self, url: str, *, accept: str = "") -> bytes:
        return self.data


async def test_an_unsafe_archive_writes_nothing_outside_the_tree(tmp_path: pathlib.Path) -> None:
    workspace = await Workspace.prepare(_Serving(EVIL), "o", "r", BASE, root=tmp_path / "a" / "b" / "tree")
    made = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert made == [
        "a",
        "a/b",
        "a/b/tree",
        "a/b/tree.forge-workspace.json",
        "a/b/tree/good.py",
        "a/b/tree/sub",
        "a/b/tree/sub/fine",
    ]
    assert workspace.pending() == {}


async def test_something_that_is_not_a_tarball_is_an_unsafe_archive(tmp_path: pathlib.Path) -> None:
    with pytest.raises(UnsafeArchive):
        await Workspace.prepare(_Serving(b"<html>not a tarball</html>"), "o", "r", BASE, root=tmp_path / "t")


# -- a full disk


def test_a_write_past_the_build_quota_is_a_full_disk(tmp_path: pathlib.Path) -> None:
    workspace = Workspace.from_files(tmp_path / "tree", {"a.py": b"a\n"}, base_commit=BASE, quota_bytes=1000)
    with pytest.raises(DiskFull, match="working tree is full"):
        workspace.write("big.bin", b"0" * 2000)
    assert "big.bin" not in workspace.pending()


def test_a_write_the_file_system_refuses_for_size_is_a_full_disk(tmp_path: pathlib.Path) -> None:
    workspace = Workspace.from_files(tmp_path / "tree", {"a.py": b"a\n"}, base_commit=BASE)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    # The file size limit of this process stands in for a full disk (EFBIG, as ENOSPC would).
    resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, hard))
    try:
        with pytest.raises(DiskFull, match="working tree is full"):
            workspace.write("big.bin", b"0" * 200_000)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert "big.bin" not in workspace.pending()
    assert not [p for p in workspace.root.iterdir() if p.name.startswith(".forge-write-")]
