"""Comments removed from source text, keeping every other character's line and column.

Comments are replaced by spaces (newlines kept), so a match in the stripped
text is at the same line as in the file. Python uses its tokenizer, JS/TS
tree-sitter; other languages a small scanner that knows their comment markers
and string quotes. Text of an unknown kind is returned as it is.
"""

from __future__ import annotations

import io
import tokenize

from checks import imports_js

Style = tuple[tuple[str, ...], tuple[tuple[str, str], ...], str]
"""(line comment markers, block comment delimiters, string quotes)"""

_C_BLOCK = (("/*", "*/"),)
_HASH: Style = (("#",), (), "\"'")
_HCL: Style = (("#", "//"), _C_BLOCK, "\"'")
_C: Style = (("//",), _C_BLOCK, "\"'")
_GO: Style = (("//",), _C_BLOCK, "\"'`")
_PHP: Style = (("//", "#"), _C_BLOCK, "\"'")
_CSS: Style = ((), _C_BLOCK, "\"'")
_SQL: Style = (("--",), _C_BLOCK, "'")
_MARKUP: Style = ((), (("<!--", "-->"),), "")


def _styles() -> dict[str, Style]:
    table: dict[str, Style] = {}
    groups: list[tuple[str, Style]] = [
        ("sh bash zsh yml yaml toml rb pl r cfg conf ini ps1 cmake mk dockerfile env properties", _HASH),
        ("tf hcl", _HCL),
        ("c h cc cpp hpp cxx java kt kts rs cs swift scala dart proto groovy gradle m mm zig sol", _C),
        ("scss less sass", _C),
        ("go", _GO),
        ("php", _PHP),
        ("css", _CSS),
        ("sql", _SQL),
        ("html htm xml svg vue svelte", _MARKUP),
    ]
    for extensions, style in groups:
        for ext in extensions.split():
            table[ext] = style
    return table


_STYLES = _styles()
_NAMED = {"Dockerfile": "dockerfile", "Makefile": "mk", "makefile": "mk", ".env": "env"}


def _blank(text: str) -> str:
    return "".join(c if c == "\n" else " " for c in text)


def _strip_python(text: str) -> str:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return _strip_generic(text, *_HASH)
    lines = text.splitlines(keepends=True)
    for tok in tokens:
        if tok.type == tokenize.COMMENT:
            row, col = tok.start
            line = lines[row - 1]
            end = tok.end[1]
            lines[row - 1] = line[:col] + " " * (end - col) + line[end:]
    return "".join(lines)


def _strip_js(text: str, path: str) -> str:
    data = text.encode("utf-8")
    spans = imports_js.analyse(data, path).comments
    if not spans:
        return text
    out = bytearray(data)
    for start, end in spans:
        out[start:end] = bytes(b if b == 0x0A else 0x20 for b in data[start:end])
    return out.decode("utf-8", "replace")


def _strip_generic(
    text: str, line_markers: tuple[str, ...], blocks: tuple[tuple[str, str], ...], quotes: str
) -> str:
    out: list[str] = []
    i, n = 0, len(text)
    starters = {m[0] for m in line_markers} | {b[0][0] for b in blocks} | set(quotes)
    while i < n:
        c = text[i]
        if c not in starters:
            out.append(c)
            i += 1
            continue
        if c in quotes:
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
            continue
        block = next((b for b in blocks if text.startswith(b[0], i)), None)
        if block is not None:
            j = text.find(block[1], i + len(block[0]))
            j = n if j == -1 else j + len(block[1])
            out.append(_blank(text[i:j]))
            i = j
            continue
        if any(text.startswith(m, i) for m in line_markers):
            j = text.find("\n", i)
            j = n if j == -1 else j
            out.append(" " * (j - i))
            i = j
            continue
        out.append(c)
        i += 1
    return "".join(out)


def strip_comments(text: str, path: str) -> str:
    """`text` (the content of `path`) with its comments blanked out."""
    name = path.rsplit("/", 1)[-1]
    if name.endswith((".py", ".pyi")):
        return _strip_python(text)
    if imports_js.is_js(name):
        return _strip_js(text, name)
    ext = _NAMED.get(name) or (name.rsplit(".", 1)[-1].lower() if "." in name else "")
    style = _STYLES.get(ext)
    if style is None:
        return text
    return _strip_generic(text, *style)
