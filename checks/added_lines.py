"""The added lines of a change, numbered the way git numbers them: one line per `\\n`.

Every `Source` reports `ChangedFile.added_lines` through these functions (or,
for a local repository, through git's own patch read with `hunk_start`), so
the same bytes give the same line numbers whatever the source. Only `\\n` ends
a line (a form feed, a lone CR or U+2028 do not); a CR before the `\\n` is not
part of the line's text.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Sequence
from typing import overload

BINARY_SNIFF = 8000
"""Like git, a file with a NUL byte in its first 8000 bytes is binary."""


def is_binary(data: bytes) -> bool:
    return b"\0" in data[:BINARY_SNIFF]


_HUNK = re.compile(r"^@@+ (?:-\d+(?:,\d+)? )+\+(\d+)(?:,\d+)? @@")


def hunk_start(header: str) -> int | None:
    """The head line number a hunk header `@@ -a,b +c,d @@` starts at (`c`); None for any other line.

    Combined diffs (`@@@ -a -b +c @@@`) are read too.
    """
    match = _HUNK.match(header)
    return int(match.group(1)) if match else None


def from_patch(patch: str) -> list[tuple[int, str]]:
    """(line number at head, text) of every `+` line of a unified-diff patch (one file's hunks).

    Hunk headers set the head line number; context lines advance it; `-` lines
    and `\\ No newline at end of file` do not.
    """
    found: list[tuple[int, str]] = []
    number = 0
    in_hunk = False
    for line in patch.split("\n"):
        start = hunk_start(line) if line.startswith("@@") else None
        if start is not None:
            number = start
            in_hunk = True
            continue
        if not in_hunk:
            continue
        if line.startswith("+"):
            found.append((number, line[1:].removesuffix("\r")))
            number += 1
        elif line.startswith(" ") or line == "":
            number += 1
        # "-" lines and "\ No newline at end of file" do not exist at head
    return found


def _lines(text: str) -> list[str]:
    """The text's lines, one per `\\n` (a final newline ends the last line, it starts none)."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def _numbered(lines: list[str]) -> list[tuple[int, str]]:
    """(number from 1, text without a CR before the newline) of each line."""
    return [(i, t.removesuffix("\r")) for i, t in enumerate(lines, start=1)]


class WholeFile(Sequence[tuple[int, str]]):
    """Every line of an added file, as `(number, text)` pairs, split only when a pair is asked for.

    A change from the empty tree adds every line of every file; most checks only count them or
    want the text back (`text_of`), so the text is kept whole and split on first use. A file
    made with `deferred` is not even read until then: an audit whose checks never look at a
    file's lines (A9 alone reads files through the snapshot) never reads it.
    """

    __slots__ = ("_binary", "_lines", "_load", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._binary = False
        self._lines: list[tuple[int, str]] | None = None
        self._load: Callable[[], bytes | None] | None = None

    @classmethod
    def deferred(cls, load: Callable[[], bytes | None]) -> WholeFile:
        """The lines of the bytes `load()` gives, read on first use (None: an empty file)."""
        lines = cls("")
        lines._load = load
        return lines

    @property
    def binary(self) -> bool:
        """True when the bytes are binary by git's test; a binary file adds no lines."""
        self._loaded()
        return self._binary

    def _loaded(self) -> str:
        if self._load is not None:
            load, self._load = self._load, None
            data = load() or b""
            self._binary = is_binary(data)
            self._text = "" if self._binary else data.decode("utf-8", "replace")
        return self._text

    def _split(self) -> list[tuple[int, str]]:
        if self._lines is None:
            text = self._loaded()
            self._lines = _numbered(_lines(text)) if text else []
        return self._lines

    @property
    def text(self) -> str:
        """The lines joined with `\\n` (no final newline, no CR before a newline)."""
        text = self._loaded()
        if "\r" in text:
            return "\n".join(t for _, t in self._split())
        return text[:-1] if text.endswith("\n") else text

    def __len__(self) -> int:
        if self._lines is not None:
            return len(self._lines)
        text = self._loaded()
        return text.count("\n") + (0 if text.endswith("\n") or not text else 1)

    @overload
    def __getitem__(self, index: int) -> tuple[int, str]: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[tuple[int, str]]: ...

    def __getitem__(self, index: int | slice) -> tuple[int, str] | Sequence[tuple[int, str]]:
        if isinstance(index, slice) and self._lines is None and index.start is None and index.step is None:
            stop = index.stop
            if stop is not None and 0 <= stop < 1000:
                return self._head(stop)
        return self._split()[index]

    def _head(self, count: int) -> list[tuple[int, str]]:
        """The first `count` lines without splitting the rest."""
        text = self._loaded()
        if not text:
            return []
        parts = text.split("\n", count)
        if len(parts) <= count and parts[-1] == "":
            parts.pop()  # the whole text was split: its final newline ends the last line
        return _numbered(parts[:count])

    def __iter__(self) -> Iterator[tuple[int, str]]:
        return iter(self._split())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, WholeFile):
            return self.text == other.text
        return isinstance(other, Sequence) and list(self) == list(other)

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"WholeFile({len(self)} lines)"


def text_of(lines: Sequence[tuple[int, str]]) -> str:
    """The added lines' texts joined with `\\n` (a whole file's text without a second copy)."""
    if isinstance(lines, WholeFile):
        return lines.text
    return "\n".join(text for _, text in lines)


def whole(data: bytes) -> WholeFile:
    """Every line of a file's bytes, numbered from 1 (decoded as UTF-8, bad bytes replaced)."""
    return WholeFile(data.decode("utf-8", "replace"))


def between(old: bytes | None, new: bytes) -> Sequence[tuple[int, str]]:
    """The lines of `new` added against `old` (None: every line of `new`), numbered at `new`."""
    if old is None:
        return whole(new)
    new_lines = _lines(new.decode("utf-8", "replace"))
    old_lines = _lines(old.decode("utf-8", "replace"))
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    found: list[tuple[int, str]] = []
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag in ("insert", "replace"):
            found.extend((j + 1, new_lines[j].removesuffix("\r")) for j in range(j1, j2))
    return found
