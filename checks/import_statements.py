"""Import statements read from Python source bytes by a lexer, without building a syntax tree.

In a file that parses, the keyword `import` occurs only in import statements, so
skipping comments and string literals and reading each `import`/`from` keyword
that follows finds every import statement at any depth, including the ones
the compiler drops (`if 0:`, after `assert False`), and never prose in a
docstring. One regular expression (possessive, so it never backtracks) skips
everything that is not such a keyword; Python code runs once per import
statement, not once per token. The caller has already checked that the file
parses: on a file that does not, what this returns means nothing.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_WORD = rb"[\w\x80-\xff]"
_SPACE = rb"(?:[ \t\f]|\\\r?\n|\\\r)"
"""Space inside a statement: blanks and backslash continuations (not a bare newline)."""
_NAME = rb"[A-Za-z_\x80-\xff]" + _WORD + rb"*"
_DOTTED = _NAME + rb"(?:" + _SPACE + rb"*\." + _SPACE + rb"*" + _NAME + rb")*"
_AS = rb"(?:" + _SPACE + rb"+as" + _SPACE + rb"+" + _NAME + rb")?"

_STRINGS_AND_COMMENTS = (  # alternatives: a comment or a string literal (all quote forms)
    rb"|\#[^\r\n]*+"
    rb"|'''[^'\\]*+(?:(?:\\.|'(?!''))[^'\\]*+)*+'''"
    rb'|"""[^"\\]*+(?:(?:\\.|"(?!""))[^"\\]*+)*+"""'
    rb"|'[^'\\\r\n]*+(?:\\.[^'\\\r\n]*+)*+'"
    rb'|"[^"\\\r\n]*+(?:\\.[^"\\\r\n]*+)*+"'
)
_NEXT_KEYWORD = re.compile(
    rb"(?:[^'\"#fi]++" + _STRINGS_AND_COMMENTS + rb"|(?<=" + _WORD + rb")[fi]"
    rb"|f(?!rom(?!" + _WORD + rb"))"
    rb"|i(?!mport(?!" + _WORD + rb"))"
    rb")*+(import|from)(?!" + _WORD + rb")",
    re.DOTALL,
)
"""Everything up to the next `import` or `from` keyword outside comments and strings."""

_TO_NEXT_LINE = re.compile(rb"(?:[^'\"#\n]++" + _STRINGS_AND_COMMENTS + rb")*+\n", re.DOTALL)
"""Up to the end of the line, a string that spans lines included."""
_STATEMENT_START = re.compile(rb"(?![ \t\f\r\n#)\]}\\]|(?:else|elif|except|finally)(?!" + _WORD + rb")).")
"""A line that starts with something other than a blank, a comment, a closing bracket or a clause."""

_IMPORT_REST = re.compile(
    _SPACE + rb"*" + _DOTTED + _AS + rb"(?:" + _SPACE + rb"*," + _SPACE + rb"*" + _DOTTED + _AS + rb")*"
)
"""After `import`: `a.b as c, d`."""
_FROM_REST = re.compile(
    _SPACE
    + rb"*((?:\."
    + _SPACE
    + rb"*)*)("
    + _DOTTED
    + rb")?"
    + _SPACE
    + rb"*import(?!"
    + _WORD
    + rb")"
    + _SPACE
    + rb"*(?:\(((?:[^)#]|\#[^\r\n]*)*)\)|(\*)|("
    + _NAME
    + _AS
    + rb"(?:"
    + _SPACE
    + rb"*,"
    + _SPACE
    + rb"*"
    + _NAME
    + _AS
    + rb")*))"
)
"""After `from`: dots, the module, `import`, then `(names)`, `*` or names (`yield from` fails)."""
_ALIAS_TARGET = re.compile(_DOTTED)
_COMMENT = re.compile(rb"\#[^\r\n]*")
_BLANKS = re.compile(rb"[ \t\f\r\n\\]+")
_BOM = b"\xef\xbb\xbf"


class Statement(NamedTuple):
    """One imported module of an import statement at `line` (the line of its keyword).

    A named tuple: a large audit makes one for each of tens of thousands of imports."""

    module: str
    line: int
    level: int
    names: tuple[str, ...]


def _text(raw: bytes) -> str:
    return _BLANKS.sub(b"", raw).decode("utf-8", "replace")


def _targets(body: bytes) -> list[str]:
    """The first dotted name of each comma-separated part: `a.b as c, d` gives a.b and d."""
    found: list[str] = []
    for part in _COMMENT.sub(b"", body).split(b","):
        match = _ALIAS_TARGET.search(part)
        if match is not None:
            found.append(_text(match.group(0)))
    return found


def import_statements(data: bytes) -> list[Statement]:
    """Every imported module in the source, in order: `import a, b` gives two, `from x import y` one."""
    out: list[Statement] = []
    if data.startswith(_BOM):
        data = data[len(_BOM) :]  # else its last byte would read as part of a first `import`
    last = data.rfind(b"import")
    if last < 0:
        return out
    # Every import statement has the word `import`: the keywords are looked for up to its last
    # occurrence (and the byte after, to tell `import` from `important`), not to the end.
    stop = last + len(b"import") + 1
    line, counted, pos = 1, 0, 0
    while (keyword := _NEXT_KEYWORD.match(data, pos, stop)) is not None:
        start = keyword.start(1)
        line += data.count(b"\n", counted, start)
        counted = start
        if keyword.group(1) == b"import":
            rest = _IMPORT_REST.match(data, keyword.end())
            if rest is not None:
                out.extend(Statement(module, line, 0, ()) for module in _targets(rest.group(0)))
        else:
            rest = _FROM_REST.match(data, keyword.end())
            if rest is not None:
                names = ("*",) if rest.group(4) else tuple(_targets(rest.group(3) or rest.group(5) or b""))
                module = _text(rest.group(2)) if rest.group(2) else ""
                out.append(Statement(module, line, rest.group(1).count(b"."), names))
        pos = rest.end() if rest is not None else keyword.end()
    return out


def top_level_lines(data: bytes) -> list[int]:
    """The lines where a top-level statement may start: the ones beginning at column 0, outside
    strings, not after a backslash, with something other than a comment, a closing bracket or a
    clause (`else:`, `except …:`). A line inside brackets can look like one too: a caller that
    parses from such a line gets a syntax error, or no statement where it expected one."""
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    found = [1] if _STATEMENT_START.match(data) else []
    line, pos = 1, 0
    while (rest := _TO_NEXT_LINE.match(data, pos)) is not None and rest.end() > pos:
        line += data.count(b"\n", pos, rest.end())
        pos = rest.end()
        continued = data.endswith(b"\\\n", 0, pos) or data.endswith(b"\\\r\n", 0, pos)
        if not continued and _STATEMENT_START.match(data, pos):
            found.append(line)
    return found
