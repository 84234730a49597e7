"""GitHubSource against the fake GitHub (real git repositories), checked against the local git source."""

from __future__ import annotations

import asyncio
import json
import pathlib
import subprocess
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import gidgethub
import pytest

from checks.config import AuditConfig
from checks.engine import run_audit
from checks.gitsource import GitSource
from checks.source import EMPTY_TREE, ChangedFile
from forgeguard_app.github.client import GitHubApp, InstallationAPI
from forgeguard_app.github.compare import COMPARE_FILE_CAP
from forgeguard_app.github.repository import GitHubRepository
from forgeguard_app.github.source import GitHubSource
from tests.fixtures.github import FakeGitHub, FakeRepo
from tests.fixtures.openapi import CORPUS

T = TypeVar("T")
RECORDED = CORPUS / "recorded" / "pygithub" / "repos" / "compare-commits"


async def thread(fn: Callable[..., T], *args: Any) -> T:
    """Run a blocking source method the way the engine does: in a worker thread."""
    return await asyncio.to_thread(fn, *args)


@pytest.fixture
def repo(fake_github: FakeGitHub) -> FakeRepo:
    return fake_github.add_repo(
        "octo",
        "demo",
        files={
            "README.md": "# demo\n",
            "src/app.py": "".join(f"line {i}\n" for i in range(1, 21)),
            "docs/guide.md": "guide\n",
        },
    )


@pytest.fixture
async def api(app: GitHubApp, repo: FakeRepo) -> InstallationAPI:
    return await app.installation_api(1)


@pytest.fixture
async def source(api: InstallationAPI, repo: FakeRepo) -> GitHubSource:
    return GitHubSource(GitHubRepository(api, repo.owner, repo.name), asyncio.get_running_loop())


@pytest.fixture
def local(repo: FakeRepo, tmp_path: pathlib.Path) -> Iterator[Callable[[], GitSource]]:
    """The same repository cloned locally, read by the engine's own git source (the reference)."""
    opened: list[GitSource] = []

    def open_clone() -> GitSource:
        target = tmp_path / f"clone{len(opened)}"
        subprocess.run(["git", "clone", "-q", "--mirror", str(repo.path), str(target / ".git")], check=True)
        subprocess.run(["git", "config", "--bool", "core.bare", "false"], cwd=target, check=True)
        opened.append(GitSource(target))
        return opened[-1]

    yield open_clone
    for opened_source in opened:
        opened_source.close()


def by_path(files: list[ChangedFile]) -> dict[str, ChangedFile]:
    return {f.path: f for f in files}


# -- GitHub's compare


def test_a_recorded_compare_of_many_files_stops_at_githubs_cap() -> None:
    recorded = json.loads(
        (
            RECORDED
            / "CompletableGithubObjectWithPaginatedProperty.testRepoComparisonCommitsFilesDefault.0.json"
        ).read_text()
    )
    assert len(recorded["response_body"]["files"]) == COMPARE_FILE_CAP


# -- change()


async def test_change_matches_the_local_git_source(
    source: GitHubSource, repo: FakeRepo, local: Callable[[], GitSource]
) -> None:
    base = repo.sha()
    app = "".join(f"line {i}\n" for i in range(1, 21)).replace("line 3\n", "line three\n") + "line 21\n"
    head = repo.commit({"src/app.py": app, "new.txt": "fresh\nfile\n", "docs/guide.md": None})
    remote = await thread(source.change, base, head)
    reference = local().change(base, head)
    assert remote.files == reference.files
    assert (remote.base, remote.head, remote.merge_base) == (base, head, base)


async def test_added_lines_carry_head_line_numbers(source: GitHubSource, repo: FakeRepo) -> None:
    base = repo.sha()
    app = "".join(f"line {i}\n" for i in range(1, 21)).replace("line 15\n", "line 15\ninserted\n")
    head = repo.commit({"src/app.py": app})
    change = await thread(source.change, base, head)
    assert by_path(change.files)["src/app.py"].added_lines == ((16, "inserted"),)


async def test_a_rename_keeps_its_previous_path(source: GitHubSource, repo: FakeRepo) -> None:
    base = repo.sha()
    head = repo.commit(renames={"docs/guide.md": "docs/handbook.md"})
    (renamed,) = (await thread(source.change, base, head)).files
    assert (renamed.path, renamed.status, renamed.previous_path) == (
        "docs/handbook.md",
        "renamed",
        "docs/guide.md",
    )
    assert renamed.similarity == 100 and renamed.added_lines == ()


async def test_a_binary_file_is_marked_binary_without_lines(source: GitHubSource, repo: FakeRepo) -> None:
    base = repo.sha()
    head = repo.commit({"logo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))})
    (png,) = (await thread(source.change, base, head)).files
    assert (png.status, png.binary, png.added_lines) == ("added", True, ())


async def test_a_50_mb_file_is_skipped_without_downloading_it(
    source: GitHubSource, repo: FakeRepo, fake_github: FakeGitHub
) -> None:
    base = repo.sha()
    big = b"0123456789abcdef\n" * (50 * 1024 * 1024 // 17)
    head = repo.commit({"data/big.csv": big, "src/small.py": "ok = True\n"})
    change = await thread(source.change, base, head)
    snap = source.snapshot(head)
    files = by_path(change.files)
    assert (files["data/big.csv"].binary, files["data/big.csv"].added_lines) == (True, ())
    assert files["src/small.py"].added_lines == ((1, "ok = True"),)
    assert await thread(snap.size, "data/big.csv") == len(big)
    assert await thread(snap.read, "data/big.csv") is None
    assert fake_github.calls("repos/get-content") == 0 and fake_github.calls("codeload") == 0


async def test_5000_changed_files_are_diffed_from_trees_in_five_requests(
    source: GitHubSource, repo: FakeRepo, api: InstallationAPI, local: Callable[[], GitSource]
) -> None:
    base = repo.commit({f"pkg/m{i:04d}.py": f"VALUE = {i}\n" for i in range(2500)}, message="seed")
    files: dict[str, str | bytes | None] = {
        f"pkg/m{i:04d}.py": f"VALUE = {i}\nEXTRA = {i}\n" for i in range(2500)
    }
    files.update({f"gen/n{i:04d}.txt": f"n{i}\n" for i in range(2500)})
    head = repo.commit(files, message="big")
    calls = api.calls
    change = await thread(source.change, base, head)
    assert len(change.files) == 5000
    assert api.calls - calls == 5  # compare, two trees, two tarballs
    assert [r.operation for r in api.log[-5:]].count("repos/download-tarball-archive") == 2
    assert by_path(change.files) == by_path(local().change(base, head).files)


async def test_a_change_from_the_empty_tree_lists_every_file_as_added(
    source: GitHubSource, repo: FakeRepo
) -> None:
    change = await thread(source.change, EMPTY_TREE, repo.sha())
    assert sorted(change.paths()) == ["README.md", "docs/guide.md", "src/app.py"]
    assert by_path(change.files)["README.md"].added_lines == ((1, "# demo"),)


# -- snapshots


async def test_snapshot_lists_paths_sizes_and_blob_ids_from_one_tree_call(
    source: GitHubSource, repo: FakeRepo, api: InstallationAPI
) -> None:
    snap = source.snapshot(repo.sha())
    assert sorted(await thread(snap.paths)) == ["README.md", "docs/guide.md", "src/app.py"]
    assert await thread(snap.size, "README.md") == 7
    assert await thread(snap.blob_id, "README.md") == repo.git("rev-parse", f"{repo.sha()}:README.md")
    assert api.operations() == {"git/get-tree": 1}


async def test_prefetch_reads_every_file_in_one_graphql_query(
    source: GitHubSource, repo: FakeRepo, api: InstallationAPI
) -> None:
    snap = source.snapshot(repo.sha())
    await thread(snap.paths)
    await thread(snap.prefetch, ["README.md", "src/app.py", "missing.txt"])
    calls = api.calls
    assert await thread(snap.read, "README.md") == b"# demo\n"
    assert await thread(snap.read, "missing.txt") is None
    assert api.calls == calls
    assert api.operations()["graphql"] == 1


async def test_a_truncated_tree_is_walked_subtree_by_subtree(
    source: GitHubSource, repo: FakeRepo, fake_github: FakeGitHub
) -> None:
    fake_github.tree_entry_limit = 3
    snap = source.snapshot(repo.sha())
    assert sorted(await thread(snap.paths)) == ["README.md", "docs/guide.md", "src/app.py"]


async def test_prefetching_many_files_downloads_one_tarball(
    source: GitHubSource, repo: FakeRepo, api: InstallationAPI
) -> None:
    head = repo.commit({f"many/f{i:03d}.txt": f"{i}\n" for i in range(150)})
    snap = source.snapshot(head)
    paths = await thread(snap.paths)
    await thread(snap.prefetch, paths)
    calls = api.calls
    assert await thread(snap.read, "many/f149.txt") == b"149\n"
    assert api.calls == calls
    assert api.operations() == {"git/get-tree": 1, "repos/download-tarball-archive": 1}


async def test_a_file_that_is_not_utf8_is_read_exactly(source: GitHubSource, repo: FakeRepo) -> None:
    head = repo.commit({"latin1.txt": "café\n".encode("latin-1")})
    snap = source.snapshot(head)
    await thread(snap.prefetch, ["latin1.txt"])
    assert await thread(snap.read, "latin1.txt") == "café\n".encode("latin-1")


async def test_reads_without_prefetch_fall_back_to_raw_contents(
    source: GitHubSource, repo: FakeRepo, api: InstallationAPI
) -> None:
    snap = source.snapshot(repo.sha())
    assert await thread(snap.read, "docs/guide.md") == b"guide\n"
    assert api.operations() == {"repos/get-content": 1}


async def test_base_reads_after_a_change_need_no_requests(
    source: GitHubSource, repo: FakeRepo, api: InstallationAPI
) -> None:
    base = repo.sha()
    head = repo.commit({"src/app.py": "changed\n"})
    change = await thread(source.change, base, head)
    head_snap = source.snapshot(head)
    await thread(head_snap.paths)
    await thread(head_snap.prefetch, ["src/app.py", "README.md"])
    calls = api.calls
    base_snap = source.snapshot(change.merge_base or base)
    assert await thread(base_snap.read, "src/app.py") == "".join(f"line {i}\n" for i in range(1, 21)).encode()
    assert await thread(base_snap.read, "README.md") == b"# demo\n"
    assert api.calls == calls


# -- history


async def test_resolve_turns_short_shas_and_branches_into_full_shas(
    source: GitHubSource, repo: FakeRepo
) -> None:
    sha = repo.sha()
    assert await thread(source.resolve, sha[:8]) == sha
    assert await thread(source.resolve, "main") == sha
    assert await thread(source.resolve, "0badc0de") is None
    assert await thread(source.resolve, EMPTY_TREE) == EMPTY_TREE


async def test_is_ancestor_follows_the_compare_status(source: GitHubSource, repo: FakeRepo) -> None:
    old = repo.sha()
    new = repo.commit({"a.txt": "a\n"})
    side = repo.commit({"b.txt": "b\n"}, branch="side", parent=old)
    assert await thread(source.is_ancestor, old, new)
    assert await thread(source.is_ancestor, new, new)
    assert not await thread(source.is_ancestor, new, old)
    assert not await thread(source.is_ancestor, side, new)


async def test_commits_between_match_the_local_git_source(
    source: GitHubSource, repo: FakeRepo, local: Callable[[], GitSource]
) -> None:
    base = repo.sha()
    repo.commit({"src/app.py": "v2\n"}, message="code")
    repo.commit({"Forge/evidence/updatedifflog.md": "log\n"}, message="evidence")
    head = repo.commit(renames={"README.md": "README.rst"}, message="rename")
    remote = await thread(source.commits_between, base, head)
    assert remote == local().commits_between(base, head)


@pytest.mark.slow
async def test_commits_beyond_the_compares_250_are_paged(
    source: GitHubSource, repo: FakeRepo, local: Callable[[], GitSource]
) -> None:
    base = repo.sha()
    shas = repo.commits((f"note {i}", {f"notes/n{i % 5}.md": f"{i}\n"}) for i in range(255))
    head = shas[-1]
    remote = await thread(source.commits_between, base, head)
    assert len(remote) == 255
    assert remote == local().commits_between(base, head)


async def test_a_single_commit_needs_no_request_beyond_the_compare(
    source: GitHubSource, repo: FakeRepo, api: InstallationAPI
) -> None:
    base = repo.sha()
    head = repo.commit({"Forge/evidence/audit_ledger.md": "entry\n"}, message="ledger")
    await thread(source.change, base, head)
    calls = api.calls
    (only,) = await thread(source.commits_between, base, head)
    assert (only.sha, only.paths, only.message) == (head, ("Forge/evidence/audit_ledger.md",), "ledger")
    assert api.calls == calls


async def test_a_change_github_cannot_compare_raises_its_404(source: GitHubSource, repo: FakeRepo) -> None:
    with pytest.raises(gidgethub.BadRequest) as raised:
        await thread(source.change, "no-such-branch", repo.sha())
    assert int(raised.value.status_code) == 404


async def test_calling_from_the_event_loop_thread_is_refused(source: GitHubSource, repo: FakeRepo) -> None:
    with pytest.raises(RuntimeError, match="worker thread"):
        source.resolve(repo.sha()[:8])


# -- economy


async def test_a_five_file_push_audit_makes_at_most_six_data_requests(
    source: GitHubSource, repo: FakeRepo, api: InstallationAPI
) -> None:
    repo.commit(
        {
            "Forge/Contracts/phases.md": "# Phases\n",
            "Forge/evidence/updatedifflog.md": "# Diff log\n\n## Cycle Metadata\n- Phase: 1\n",
            "Forge/evidence/audit_ledger.md": "# Ledger\n",
        }
    )
    base = repo.sha()
    head = repo.commit(
        {f"src/f{i}.py": f"import os\nVALUE = {i}\n" for i in range(4)} | {"README.md": "# demo 2\n"}
    )
    change = await thread(source.change, base, head)
    report = await thread(run_audit, source, change, AuditConfig())
    assert report.files == 5
    # compare, tree, one GraphQL prefetch; the check run's create and update make 8 at most
    operations = api.operations()
    assert api.calls <= 6, operations
    assert all(operations[op] <= 1 for op in ("repos/compare-commits", "git/get-tree", "graphql")), operations


async def test_branch_names_with_slashes_compare_and_resolve(source: GitHubSource, repo: FakeRepo) -> None:
    head = repo.commit({"feature.txt": "f\n"}, branch="feature/x")
    change = await thread(source.change, "main", "feature/x")
    assert (change.head, change.paths()) == (head, ["feature.txt"])
    assert await thread(source.resolve, "feature/x") == head
