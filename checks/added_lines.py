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


def _lines(data: bytes) -> list[str]:
    lines = data.decode("utf-8", "replace").split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def between(old: bytes | None, new: bytes) -> list[tuple[int, str]]:
    """The lines of `new` added against `old` (None: every line of `new`), numbered at `new`."""
    new_lines = _lines(new)
    if old is None:
        return [(i, text.removesuffix("\r")) for i, text in enumerate(new_lines, start=1)]
    matcher = difflib.SequenceMatcher(a=_lines(old), b=new_lines, autojunk=False)
    found: list[tuple[int, str]] = []
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag in ("insert", "replace"):
            found.extend((j + 1, new_lines[j].removesuffix("\r")) for j in range(j1, j2))
    return found
