"""Reading the diff log, `updatedifflog.md` (spec §3).

The diff log is Markdown with level-2 (`## `) sections. This module finds the
sections, the claimed files, `BASE_HEAD:`, the cycle status, the phase and the
header (everything before `## Minimal Diff Hunks`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CLAIM_SECTIONS = ("files changed", "files created", "files modified")
NONE_CLAIMS = ("(none)", "(none detected)")
_SEPARATORS = (" - ", " — ", " – ", " (", ": ")
_QUOTES = "`\"'"
_EMPHASIS = ("**", "__", "*", "_")
_PATH_CHAR = re.compile(r"[\w./-]")
_BULLET = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])\s+(.*)$")
_CHECKBOX = re.compile(r"^\[[ xX]\]\s+")
_TABLE_SEPARATOR = re.compile(r"^\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
_PATH_LIKE = re.compile(r"^\S*(?:/\S*|\S\.\w+)$")
_PHASE = re.compile(r"\bPhase\s+\d+\b.*")
_KEY_VALUE = re.compile(r"^(?:[-*+]\s+)?[*_]*\s*([A-Za-z][\w ]*?)\s*[*_]*\s*:\s*[*_]*\s*(.*?)\s*$")


@dataclass
class Section:
    """One `## ` section: its heading text, first line number (1-based) and body lines."""

    title: str
    line: int
    lines: list[str] = field(default_factory=list)

    @property
    def body(self) -> str:
        return "\n".join(self.lines)


@dataclass
class DiffLog:
    """A parsed diff log."""

    text: str
    sections: list[Section]

    def section(self, prefix: str) -> Section | None:
        """The first section whose heading starts with `prefix` (ignoring case)."""
        wanted = prefix.lower()
        for section in self.sections:
            if section.title.lower().startswith(wanted):
                return section
        return None

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")

    @property
    def header(self) -> str:
        """Everything before the `## Minimal Diff Hunks` section (all of it when there is none)."""
        hunks = self.section("Minimal Diff Hunks")
        if hunks is None:
            return self.text
        return "\n".join(self.lines[: hunks.line - 1])

    @property
    def metadata(self) -> dict[str, str]:
        """`Key: value` lines of `## Cycle Metadata` (bullets and bold keys allowed)."""
        section = self.section("Cycle Metadata")
        values: dict[str, str] = {}
        if section is None:
            return values
        for line in section.lines:
            match = _KEY_VALUE.match(line.strip())
            if match and match.group(1).strip() not in values:
                values[match.group(1).strip()] = match.group(2)
        return values

    @property
    def base_head(self) -> str | None:
        value = self.metadata.get("BASE_HEAD")
        if not value:
            return None
        token = value.split()[0].strip(_QUOTES + "*_")
        return token or None

    @property
    def status(self) -> str | None:
        section = self.section("Cycle Status")
        if section is None:
            return None
        for line in section.lines:
            match = _KEY_VALUE.match(line.strip())
            if match and match.group(1).strip().lower() == "status":
                return match.group(2).strip(_QUOTES + "*_ ") or None
        return None

    @property
    def claimed(self) -> list[str]:
        """The claimed files of every Files Changed/Created/Modified section, in order, once each."""
        claims: list[str] = []
        for section in self.sections:
            if section.title.lower().startswith(CLAIM_SECTIONS):
                for path in claimed_in(section.lines):
                    if path not in claims:
                        claims.append(path)
        return claims

    @property
    def phase(self) -> str | None:
        """The first `Phase N …` in the text, to the end of its line."""
        for line in self.lines:
            match = _PHASE.search(line)
            if match:
                return match.group(0).strip().rstrip("*`_#").strip() or None
        return None


def parse(text: str) -> DiffLog:
    text = text.replace("\r\n", "\n")
    sections: list[Section] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if is_level2_heading(line):
            sections.append(Section(line[3:].strip(), number))
        elif sections:
            sections[-1].lines.append(line)
    return DiffLog(text, sections)


def is_level2_heading(line: str) -> bool:
    return line.startswith("## ") or line.rstrip() == "##"


def claimed_in(lines: list[str]) -> list[str]:
    """Paths claimed by the bullets and table rows of one section.

    Top-level bullets are the claims and bullets nested under them describe
    the change, except where the nested bullets are themselves paths: then the
    top-level bullet is a group label (`- Backend` over `  - app/x.py`).
    """
    bullets = [(len(m.group(1).expandtabs(4)), m.group(2)) for m in map(_BULLET.match, lines) if m]
    top = min((indent for indent, _ in bullets), default=0)
    groups: list[tuple[str | None, list[str | None]]] = []
    for indent, text in bullets:
        path = claim_path(_CHECKBOX.sub("", text))
        if indent == top or not groups:
            groups.append((path, []))
        else:
            groups[-1][1].append(path)
    claims: list[str] = []
    for label, nested in groups:
        nested_paths = [p for p in nested if p and _PATH_LIKE.match(p)]
        if nested_paths:
            claims.extend(nested_paths)
        elif label:
            claims.append(label)
    claims.extend(_table_claims(lines))
    return claims


def _table_claims(lines: list[str]) -> list[str]:
    rows = [line.strip() for line in lines]
    claims: list[str] = []
    for i, row in enumerate(rows):
        if not row.startswith("|") or _TABLE_SEPARATOR.match(row):
            continue
        if i + 1 < len(rows) and _TABLE_SEPARATOR.match(rows[i + 1]) and rows[i + 1].startswith("|"):
            continue  # the header row
        first = row.strip("|").split("|")[0]
        path = claim_path(first)
        if path:
            claims.append(path)
    return claims


def claim_path(text: str) -> str | None:
    """The path part of one bullet or table cell (spec §3), or None when it claims nothing.

    A path wrapped in backticks or quotes is taken whole (it may contain a
    separator); otherwise wrappers are removed and the text is cut at the
    first ` - `, ` — `, ` – `, ` (` or `: `.
    """
    text = _unemphasize(text.strip())
    if text.lower().startswith(NONE_CLAIMS):
        return None
    if text and text[0] in _QUOTES:
        closing = text.find(text[0], 1)
        path = text[1:closing] if closing > 0 else text[1:]
        path = path.strip(_QUOTES)
    else:
        path = "".join(ch for ch in text if ch not in _QUOTES)
        cut = min((i for i in (path.find(sep) for sep in _SEPARATORS) if i >= 0), default=len(path))
        path = path[:cut]
    path = path.strip()
    if path.endswith(":"):
        path = path[:-1].rstrip()
    while path.startswith("./"):
        path = path[2:]
    if not path or path.lower() in NONE_CLAIMS:
        return None
    return path


def _unemphasize(text: str) -> str:
    """Bold or italic markers removed when they wrap the whole path (`**app/x.py** - why`).

    Underscores inside a path are part of it: `app/__init__.py` stays as it is.
    """
    for marker in _EMPHASIS:
        if not text.startswith(marker):
            continue
        closing = text.find(marker, len(marker))
        inner = text[len(marker) : closing]
        after = text[closing + len(marker) :]
        if closing > len(marker) and inner.strip() == inner and (not after or not _PATH_CHAR.match(after)):
            return (inner + after).strip()
    return text


def split_claimed(value: str) -> list[str]:
    """`--claimed-files a,b`: comma-separated paths, normalized like diff-log claims."""
    claims: list[str] = []
    for part in value.split(","):
        path = part.strip().strip(_QUOTES).strip()
        while path.startswith("./"):
            path = path[2:]
        if path and path not in claims:
            claims.append(path)
    return claims
