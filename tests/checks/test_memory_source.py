"""The in-memory repository reports a change the way git does."""

import subprocess

from checks.memory_source import MemorySource, blob_id, diff
from checks.source import EMPTY_TREE


def test_an_added_file_has_every_line_added_with_its_number() -> None:
    [changed] = diff({}, {"a.py": "one\ntwo\n"})
    assert (changed.status, list(changed.added_lines)) == ("added", [(1, "one"), (2, "two")])


def test_a_modified_file_has_only_its_new_lines_added() -> None:
    [changed] = diff({"a.py": "one\ntwo\n"}, {"a.py": "one\nnew\ntwo\n"})
    assert (changed.status, list(changed.added_lines)) == ("modified", [(2, "new")])


def test_a_removed_file_is_listed_without_lines() -> None:
    [changed] = diff({"gone.txt": "x\n"}, {})
    assert (changed.status, list(changed.added_lines)) == ("removed", [])


def test_a_file_with_a_nul_byte_in_its_first_8000_bytes_is_binary() -> None:
    [changed, late_nul] = diff({}, {"logo.png": b"\x89PNG\0\0", "text.txt": b"x" * 8000 + b"\0"})
    assert changed.binary and not changed.added_lines
    assert not late_nul.binary


def test_blob_ids_are_the_ones_git_computes() -> None:
    data = b"hello\n"
    git = subprocess.run(["git", "hash-object", "--stdin"], input=data, capture_output=True, check=True)
    assert blob_id(data) == git.stdout.decode().strip()


def test_the_base_defaults_to_the_empty_tree_and_is_an_ancestor_of_head() -> None:
    source = MemorySource({"a.py": "x = 1\n"})
    assert source.base.commit == EMPTY_TREE
    assert source.is_ancestor(EMPTY_TREE, source.head.commit)
    assert source.change(EMPTY_TREE, source.head.commit).paths() == ["a.py"]
