"""GitSource on real repositories: snapshots, changes, history, the working tree."""

from __future__ import annotations

import os
import pathlib
import subprocess

import pytest

from checks.gitsource import PARALLEL_OBJECTS, GitError, GitSnapshot, GitSource, git_blob_id
from checks.source import EMPTY_TREE, WORKING_TREE
from tests.fixtures.gitrepo import GitRepo


def test_snapshot_lists_regular_files_with_sizes_and_blob_ids(git_repo: GitRepo) -> None:
    git_repo.commit({"a.txt": "hello\n", "sub/b.py": "x = 1\n"})
    with GitSource(git_repo.path) as source:
        snap = source.snapshot("HEAD")
        assert sorted(snap.paths()) == ["a.txt", "sub/b.py"]
        assert snap.size("a.txt") == 6
        assert snap.blob_id("a.txt") == git_repo.git("hash-object", "a.txt")
        assert snap.read("sub/b.py") == b"x = 1\n"


def test_snapshot_answers_none_for_a_missing_file(git_repo: GitRepo) -> None:
    git_repo.commit({"a.txt": "a\n"})
    with GitSource(git_repo.path) as source:
        snap = source.snapshot("HEAD")
        assert snap.read("nope.txt") is None
        assert snap.exists("nope.txt") is False
        assert snap.size("nope.txt") is None


def test_symlinks_are_not_files_of_a_snapshot(git_repo: GitRepo) -> None:
    git_repo.write({"real.txt": "content\n"})
    os.symlink("real.txt", git_repo.path / "link.txt")
    os.symlink("loop-b", git_repo.path / "loop-a")
    os.symlink("loop-a", git_repo.path / "loop-b")
    git_repo.commit()
    with GitSource(git_repo.path) as source:
        snap = source.snapshot("HEAD")
        assert list(snap.paths()) == ["real.txt"]
        assert snap.read("link.txt") is None
        work = source.snapshot(WORKING_TREE)
        assert list(work.paths()) == ["real.txt"]
        assert work.read("loop-a") is None


def test_reading_many_files_spawns_only_the_listing_and_one_reader(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_repo.commit({f"f{i}.txt": f"file {i}\n" for i in range(60)})
    spawned: list[list[str]] = []
    real_popen = subprocess.Popen

    class CountingPopen(real_popen):  # type: ignore[misc, valid-type]
        def __init__(self, args: list[str], *rest: object, **kwargs: object) -> None:
            spawned.append(list(args))
            super().__init__(args, *rest, **kwargs)

    with GitSource(git_repo.path) as source:
        snap = source.snapshot(git_repo.head())
        monkeypatch.setattr(subprocess, "Popen", CountingPopen)
        paths = list(snap.paths())
        snap.prefetch(paths)
        contents = [snap.read(p) for p in paths]
    assert contents == [f"file {p[1:-4]}\n".encode() for p in paths]
    commands = [" ".join(a for a in args if not a.startswith("core.") and a != "-c") for args in spawned]
    assert len(spawned) == 2, commands
    assert any("ls-tree" in c for c in commands)
    assert any("cat-file --batch" in c for c in commands)


def test_prefetched_contents_match_each_file(git_repo: GitRepo) -> None:
    files = {f"dir {i}/é{i}.txt": f"body {i}\n" * (i + 1) for i in range(20)}
    git_repo.commit(files)
    with GitSource(git_repo.path) as source:
        snap = source.snapshot("HEAD")
        snap.prefetch(files)
        assert {p: (snap.read(p) or b"").decode() for p in files} == files


def test_change_lists_statuses_and_added_lines_with_head_line_numbers(git_repo: GitRepo) -> None:
    base = git_repo.commit({"keep.py": "a\nb\nc\n", "gone.py": "x\n"})
    git_repo.remove("gone.py")
    head = git_repo.commit({"keep.py": "a\nNEW\nb\nc\nLAST\n", "new.py": "one\ntwo\n"})
    with GitSource(git_repo.path) as source:
        change = source.change(base, head)
    by_path = {f.path: f for f in change.files}
    assert {p: f.status for p, f in by_path.items()} == {
        "keep.py": "modified",
        "gone.py": "removed",
        "new.py": "added",
    }
    assert list(by_path["keep.py"].added_lines) == [(2, "NEW"), (5, "LAST")]
    assert list(by_path["new.py"].added_lines) == [(1, "one"), (2, "two")]
    assert change.base == base and change.head == head


def test_change_detects_a_rename_with_its_previous_path_and_similarity(git_repo: GitRepo) -> None:
    body = "".join(f"line {i}\n" for i in range(30))
    base = git_repo.commit({"old_name.py": body})
    git_repo.git("mv", "old_name.py", "new_name.py")
    head = git_repo.commit({"new_name.py": body + "one more\n"})
    with GitSource(git_repo.path) as source:
        (changed,) = source.change(base, head).files
    assert changed.status == "renamed"
    assert changed.previous_path == "old_name.py"
    assert changed.path == "new_name.py"
    assert changed.similarity is not None and 50 <= changed.similarity < 100
    assert list(changed.added_lines) == [(31, "one more")]


def test_change_detects_a_copy(git_repo: GitRepo) -> None:
    body = "".join(f"line {i}\n" for i in range(30))
    base = git_repo.commit({"src.py": body})
    head = git_repo.commit({"src.py": body + "changed\n", "copy.py": body})
    with GitSource(git_repo.path) as source:
        files = {f.path: f for f in source.change(base, head).files}
    assert files["copy.py"].status == "copied"
    assert files["copy.py"].previous_path == "src.py"


def test_binary_files_are_flagged_and_have_no_added_lines(git_repo: GitRepo) -> None:
    base = git_repo.commit({"a.txt": "a\n"})
    head = git_repo.commit({"image.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00binary\xff\xfe"})
    with GitSource(git_repo.path) as source:
        (changed,) = source.change(base, head).files
    assert changed.binary is True
    assert list(changed.added_lines) == []


def test_paths_with_spaces_quotes_and_non_ascii_come_back_exactly(git_repo: GitRepo) -> None:
    base = git_repo.commit({"a.txt": "a\n"})
    names = ["dir with space/file name.py", "ünïcødé/naïve.py", 'quote"and\\back.txt', "tab\there.txt"]
    head = git_repo.commit(dict.fromkeys(names, "content\n"))
    with GitSource(git_repo.path) as source:
        change = source.change(base, head)
        snap = source.snapshot(head)
        assert sorted(change.paths()) == sorted(names)
        assert all(list(f.added_lines) == [(1, "content")] for f in change.files)
        assert all(snap.read(name) == b"content\n" for name in names)


def test_change_is_three_dot_from_the_merge_base(git_repo: GitRepo) -> None:
    git_repo.commit({"base.txt": "base\n"})
    git_repo.git("checkout", "-q", "-b", "feature")
    feature = git_repo.commit({"feature.txt": "f\n"})
    git_repo.git("checkout", "-q", "main")
    main = git_repo.commit({"main-only.txt": "m\n"})
    with GitSource(git_repo.path) as source:
        change = source.change(main, feature)
    assert change.paths() == ["feature.txt"]
    assert change.merge_base != main


def test_empty_tree_base_makes_every_file_added(git_repo: GitRepo) -> None:
    git_repo.commit({"a.txt": "a\n", "b/c.txt": "c\n"})
    head = git_repo.commit({"d.txt": "d\n"})
    with GitSource(git_repo.path) as source:
        change = source.change(EMPTY_TREE, head)
    assert sorted(change.paths()) == ["a.txt", "b/c.txt", "d.txt"]
    assert {f.status for f in change.files} == {"added"}


def test_working_tree_change_holds_staged_and_unstaged_but_not_untracked(git_repo: GitRepo) -> None:
    git_repo.commit({"staged.txt": "s\n", "unstaged.txt": "u\n"})
    git_repo.write({"staged.txt": "s2\n", "unstaged.txt": "u2\n", "untracked.txt": "x\n", "added.txt": "n\n"})
    git_repo.git("add", "staged.txt", "added.txt")
    with GitSource(git_repo.path) as source:
        change = source.working_tree_change()
        snap = source.snapshot(WORKING_TREE)
        assert change.working_tree is True
        assert sorted(change.paths()) == ["added.txt", "staged.txt", "unstaged.txt"]
        assert snap.read("unstaged.txt") == b"u2\n"
        assert snap.read("untracked.txt") is None
        assert snap.blob_id("unstaged.txt") == git_blob_id(b"u2\n")


def test_working_tree_mode_only_change_is_a_change(git_repo: GitRepo) -> None:
    git_repo.commit({"run.sh": "echo hi\n"})
    (git_repo.path / "run.sh").chmod(0o755)
    with GitSource(git_repo.path) as source:
        change = source.working_tree_change()
    assert [(f.path, f.status) for f in change.files] == [("run.sh", "modified")]


def test_commits_between_lists_commits_oldest_first_with_their_paths(git_repo: GitRepo) -> None:
    base = git_repo.commit({"a.txt": "a\n"})
    first = git_repo.commit({"b.txt": "b\n", "c d.txt": "c\n"}, message="first\n\nbody")
    second = git_repo.commit({"a.txt": "a2\n"}, message="second")
    with GitSource(git_repo.path) as source:
        commits = source.commits_between(base, second)
    assert [(c.sha, c.paths) for c in commits] == [(first, ("b.txt", "c d.txt")), (second, ("a.txt",))]
    assert commits[0].message == "first\n\nbody"


def test_commits_between_the_empty_tree_and_head_is_the_whole_history(git_repo: GitRepo) -> None:
    first = git_repo.commit({"a.txt": "a\n"})
    second = git_repo.commit({"b.txt": "b\n"})
    with GitSource(git_repo.path) as source:
        assert [c.sha for c in source.commits_between(EMPTY_TREE, second)] == [first, second]


def test_is_ancestor_and_resolve(git_repo: GitRepo) -> None:
    first = git_repo.commit({"a.txt": "a\n"})
    second = git_repo.commit({"b.txt": "b\n"})
    with GitSource(git_repo.path) as source:
        assert source.is_ancestor(first, second) is True
        assert source.is_ancestor(second, first) is False
        assert source.resolve(first[:10]) == first
        assert source.resolve("no-such-branch") is None
        assert source.resolve("--output=/tmp/x") is None
        assert source.resolve(EMPTY_TREE) == EMPTY_TREE


def test_a_folder_that_is_not_a_repository_is_a_git_error(tmp_path: pathlib.Path) -> None:
    with pytest.raises(GitError, match="not a git repository"):
        GitSource(tmp_path)


def test_snapshot_of_an_unknown_revision_is_a_git_error(git_repo: GitRepo) -> None:
    git_repo.commit({"a.txt": "a\n"})
    with GitSource(git_repo.path) as source, pytest.raises(GitError, match="unknown commit 'nope'"):
        source.snapshot("nope")


def test_a_fifty_megabyte_file_is_listed_read_and_diffed(git_repo: GitRepo) -> None:
    base = git_repo.commit({"a.txt": "a\n"})
    big = b"\x00" * (50 * 1024 * 1024)
    head = git_repo.commit({"big.bin": big})
    with GitSource(git_repo.path) as source:
        snap = source.snapshot(head)
        assert snap.size("big.bin") == len(big)
        assert snap.read("big.bin") == big
        (changed,) = source.change(base, head).files
        assert changed.binary is True


def test_crlf_added_lines_lose_the_carriage_return(git_repo: GitRepo) -> None:
    base = git_repo.commit({"a.txt": "a\n"})
    head = git_repo.commit({"win.txt": b"one\r\ntwo\r\n"})
    with GitSource(git_repo.path) as source:
        (changed,) = source.change(base, head).files
    assert list(changed.added_lines) == [(1, "one"), (2, "two")]


def test_a_file_name_that_is_not_utf8_is_listed_as_printable_text_and_still_read(git_repo: GitRepo) -> None:
    (git_repo.path / "bad\udcffname.txt").write_bytes(b"x\n")
    git_repo.commit()
    with GitSource(git_repo.path) as source:
        (changed,) = source.change(EMPTY_TREE, "HEAD").files
        assert changed.path == "bad\ufffdname.txt"
        assert changed.path.encode("utf-8")
        assert source.snapshot("HEAD").read(changed.path) == b"x\n"


def test_a_missing_git_binary_is_a_git_error_saying_so(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(git_repo.path))
    with pytest.raises(GitError, match="git is not installed"):
        GitSource(git_repo.path)


def test_revisions_that_look_like_options_are_not_options(git_repo: GitRepo) -> None:
    head = git_repo.commit({"a.txt": "a\n"})
    with GitSource(git_repo.path) as source:
        assert source.is_ancestor("--output=/tmp/forgeguard-x", head) is False
        with pytest.raises(GitError):
            source.commits_between("--output=/tmp/forgeguard-x", head)
    assert not pathlib.Path("/tmp/forgeguard-x").exists()


def test_files_past_the_cache_budget_are_read_again_from_git(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_repo.commit({"a.txt": "a" * 60, "b.txt": "b" * 60})
    monkeypatch.setattr(GitSnapshot, "CACHE_BYTES", 100)
    with GitSource(git_repo.path) as source:
        snap = source.snapshot("HEAD")
        snap.prefetch(["a.txt", "b.txt"])
        reads: list[str] = []
        original = source.read_object

        def counting(object_id: str) -> bytes | None:
            reads.append(object_id)
            return original(object_id)

        monkeypatch.setattr(source, "read_object", counting)
        assert snap.read("a.txt") == b"a" * 60
        assert snap.read("b.txt") == b"b" * 60
        assert snap.read("b.txt") == b"b" * 60
    assert reads == [snap.blob_id("b.txt")] * 2


def test_a_change_from_the_empty_tree_equals_git_s_patch_of_every_file(git_repo: GitRepo) -> None:
    git_repo.commit(
        {
            "a.py": "import os\r\nx = 1\r\n",
            "no_newline.txt": "last line",
            "empty.txt": "",
            "latin1.txt": b"caf\xe9\nok\n",
            "img.bin": b"\x89PNG\x00\x01",
            "dir/b.md": "# b\n\nline\n",
        }
    )
    with GitSource(git_repo.path) as source:
        head = source.resolve("HEAD")
        assert head is not None
        shortcut = source.change(EMPTY_TREE, head).files
        patch = source._diff([EMPTY_TREE, head])
    assert shortcut == patch


def test_a_tree_with_a_binary_attribute_takes_git_s_patch(git_repo: GitRepo) -> None:
    git_repo.commit({".gitattributes": "*.dat binary\n", "x.dat": "text that git must call binary\n"})
    with GitSource(git_repo.path) as source:
        files = {f.path: f for f in source.change(EMPTY_TREE, "HEAD").files}
    assert files["x.dat"].binary and files["x.dat"].added_lines == ()


def test_a_tree_whose_listing_fails_leaves_no_git_process_behind(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_repo.commit({"a.py": "x = 1\n"})
    started: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    class RecordingPopen(real_popen):  # type: ignore[misc, valid-type]
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            started.append(self)

    def broken_listing(self: GitSnapshot) -> bool:
        raise GitError("the listing failed")

    monkeypatch.setattr(subprocess, "Popen", RecordingPopen)
    monkeypatch.setattr(GitSnapshot, "only_regular_files", broken_listing)
    with GitSource(git_repo.path) as source, pytest.raises(GitError):
        source.change(EMPTY_TREE, "HEAD")
    assert started  # the attribute check had started
    assert all(proc.returncode is not None for proc in started)


def test_a_tree_with_a_symlink_takes_git_s_patch(git_repo: GitRepo) -> None:
    git_repo.write({"real.txt": "content\n"})
    os.symlink("real.txt", git_repo.path / "link.txt")
    git_repo.commit()
    with GitSource(git_repo.path) as source:
        files = {f.path: f for f in source.change(EMPTY_TREE, "HEAD").files}
    assert list(files["link.txt"].added_lines) == [(1, "real.txt")]


def test_read_objects_streams_many_blobs_and_says_which_are_missing(git_repo: GitRepo) -> None:
    git_repo.commit({f"f{i}.txt": f"file {i}\n" * 50 for i in range(300)})
    with GitSource(git_repo.path) as source:
        snapshot = source.snapshot("HEAD")
        ids = [snapshot.blob_id(f"f{i}.txt") or "" for i in range(300)] + ["0" * 40]
        read = dict(source.read_objects(ids))
    assert read["0" * 40] is None
    assert [read[ids[i]] for i in range(300)] == [f"file {i}\n".encode() * 50 for i in range(300)]


def test_many_objects_are_read_through_two_git_processes_each_once(git_repo: GitRepo) -> None:
    git_repo.commit({f"f{i}.txt": f"file {i}\n" for i in range(PARALLEL_OBJECTS + 1)})
    with GitSource(git_repo.path) as source:
        snapshot = source.snapshot("HEAD")
        ids = [snapshot.blob_id(f"f{i}.txt") or "" for i in range(PARALLEL_OBJECTS + 1)]
        read = list(source.read_objects(ids))
    assert sorted(oid for oid, _ in read) == sorted(ids)
    assert dict(read)[ids[-1]] == f"file {PARALLEL_OBJECTS}\n".encode()


def test_a_reader_that_stops_early_does_not_hang(git_repo: GitRepo) -> None:
    git_repo.commit({f"f{i}.txt": "x" * 100_000 for i in range(40)})
    with GitSource(git_repo.path) as source:
        snapshot = source.snapshot("HEAD")
        ids = [snapshot.blob_id(f"f{i}.txt") or "" for i in range(40)] * 50
        stream = source.read_objects(ids)
        next(stream)
        stream.close()
