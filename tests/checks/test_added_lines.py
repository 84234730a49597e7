"""Added lines are numbered as git numbers them, whichever source reports them."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from checks import added_lines
from checks.gitsource import GitSource
from checks.memory_source import diff
from checks.source import EMPTY_TREE
from tests.fixtures.gitrepo import GitRepo
from tests.fixtures.openapi import CORPUS

RECORDED = CORPUS / "recorded" / "pygithub" / "repos" / "compare-commits"


def test_a_form_feed_or_a_lone_cr_does_not_end_a_line_in_memory_as_in_git(git_repo: GitRepo) -> None:
    content = b"page one\x0cpage two\nold\rmac\nlast\xe2\x80\xa8line\n"
    expected = [(1, "page one\x0cpage two"), (2, "old\rmac"), (3, "last\u2028line")]
    head = git_repo.commit({"notes.txt": content})
    with GitSource(git_repo.path) as source:
        (from_git,) = source.change(EMPTY_TREE, head).files
    (in_memory,) = diff({}, {"notes.txt": content})
    assert list(from_git.added_lines) == expected
    assert list(in_memory.added_lines) == expected
    assert added_lines.between(None, content) == expected


def test_lines_added_between_two_versions_keep_their_numbers_across_a_form_feed() -> None:
    old = b"a\x0cb\nc\n"
    new = b"a\x0cb\nnew\nc\n"
    assert added_lines.between(old, new) == [(2, "new")]


def test_inserted_and_replaced_lines_are_numbered_at_the_new_version() -> None:
    assert added_lines.between(b"a\nb\nc\n", b"a\nB\nc\nd\n") == [(2, "B"), (4, "d")]


def test_a_cr_before_the_newline_is_not_part_of_the_line() -> None:
    assert added_lines.between(None, b"one\r\ntwo\r\n") == [(1, "one"), (2, "two")]


def test_patch_lines_are_numbered_at_head_across_hunks() -> None:
    patch = "@@ -1,3 +1,4 @@\n a\n-b\n+c\n+d\n e\n@@ -10,2 +11,2 @@\n x\n-y\n+z\n\\ No newline at end of file"
    assert added_lines.from_patch(patch) == [(2, "c"), (3, "d"), (12, "z")]


def test_patch_lines_drop_a_trailing_carriage_return() -> None:
    assert added_lines.from_patch("@@ -0,0 +1,2 @@\n+one\r\n+two\r") == [(1, "one"), (2, "two")]


def test_a_patch_with_a_form_feed_numbers_lines_as_the_file_does() -> None:
    patch = "@@ -0,0 +1,2 @@\n+page one\x0cpage two\n+next"
    assert added_lines.from_patch(patch) == added_lines.between(None, b"page one\x0cpage two\nnext\n")


def test_recorded_compare_patches_yield_githubs_addition_counts() -> None:
    recorded = json.loads((RECORDED / "Repository.testCompareCommitPagination.1.json").read_text())
    files = recorded["response_body"]["files"]
    assert files
    for f in files:
        if "patch" in f:
            assert len(added_lines.from_patch(f["patch"])) == f["additions"], f["filename"]


def test_recorded_compare_first_added_line_number() -> None:
    recorded = json.loads((RECORDED / "Repository.testCompareCommitPagination.1.json").read_text())
    blame = recorded["response_body"]["files"][0]
    assert blame["filename"] == ".git-blame-ignore-revs"
    assert added_lines.from_patch(blame["patch"])[:2] == [(9, ""), (10, "# Add pyupgrade to pre-commit")]


def test_a_hunk_header_gives_its_head_start_line() -> None:
    assert added_lines.hunk_start("@@ -3,2 +7,4 @@ def f():") == 7
    assert added_lines.hunk_start("@@ -0,0 +1 @@") == 1
    assert added_lines.hunk_start("@@@ -1,2 -1,2 +1,3 @@@") == 1
    assert added_lines.hunk_start("+@@ -1 +1 @@") is None


def _reference(text: str) -> list[tuple[int, str]]:
    """Every line of `text` the way git numbers them, split eagerly."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [(i, t.removesuffix("\r")) for i, t in enumerate(lines, start=1)]


@given(st.text(alphabet="ab\n\r\u2028", max_size=40), st.integers(min_value=0, max_value=12))
def test_a_whole_file_reads_as_its_lines_split_eagerly(text: str, count: int) -> None:
    lines = added_lines.WholeFile(text)
    expected = _reference(text)
    assert len(lines) == len(expected)
    assert lines[:count] == expected[:count]
    assert added_lines.text_of(lines) == "\n".join(t for _, t in expected)
    assert list(lines) == expected and lines == expected and len(lines) == len(expected)


def test_a_whole_file_is_counted_and_joined_without_being_split() -> None:
    lines = added_lines.whole(b"import os\r\nx = 1\n")
    assert len(lines) == 2
    assert lines[:1] == [(1, "import os")]
    assert lines._lines is None
    assert added_lines.text_of(lines) == "import os\nx = 1"
