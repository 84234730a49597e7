"""A7 Verification hierarchy order: Static, Runtime, Behavior, Contract, in that order.

The keywords are read from the diff log's `## Verification` section as whole
words, ignoring case; a line whose label starts with the keyword is
preferred to a mention elsewhere, and lines that are only a TODO placeholder
do not count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from checks import governance
from checks.context import AuditContext, Verdict
from checks.difflog import is_level2_heading

CODE = "A7"
NAME = "Verification hierarchy order"

KEYWORDS: tuple[tuple[str, str], ...] = (
    ("Static", r"static"),
    ("Runtime", r"runtime"),
    ("Behavior", r"behaviou?r"),
    ("Contract", r"contract"),
)
_LABEL_PREFIX = re.compile(r"^\s*(?:#+\s*|>\s*)*(?:(?:[-*+]|\d+[.)])\s+)?(?:\[[ xX]\]\s+)?[*_`]*\s*")
_PLACEHOLDER_LABEL = re.compile(
    r"^(?:static|runtime|behaviou?r|contract)\b[*_`]*\s*(?::|-|—|–)?\s*[*_`]*\s*", re.IGNORECASE
)
_TODO = re.compile(r"^TODO\b", re.IGNORECASE)


def wants(ctx: AuditContext) -> Iterable[str]:
    return governance.difflog_candidates(ctx)


def section_lines(text: str) -> list[str] | None:
    """The lines after the first `## Verification…` heading up to the next level-2 heading."""
    lines = text.replace("\r\n", "\n").split("\n")
    for i, line in enumerate(lines):
        if line.startswith("## Verification"):
            body: list[str] = []
            for following in lines[i + 1 :]:
                if is_level2_heading(following):
                    break
                body.append(following)
            return body
    return None


def is_placeholder(line: str) -> bool:
    """A line that is only `TODO` (optionally after a keyword label), e.g. `- Static: TODO`."""
    rest = _LABEL_PREFIX.sub("", line, count=1)
    rest = _PLACEHOLDER_LABEL.sub("", rest, count=1).strip()
    return bool(_TODO.match(rest))


def positions(lines: list[str]) -> dict[str, tuple[int, int]]:
    """Where each keyword is: (line index, column), a labelled line preferred."""
    found: dict[str, tuple[int, int]] = {}
    candidates = [(i, line) for i, line in enumerate(lines) if line.strip() and not is_placeholder(line)]
    for name, pattern in KEYWORDS:
        label = re.compile(rf"^{pattern}\b", re.IGNORECASE)
        word = re.compile(rf"\b{pattern}\b", re.IGNORECASE)
        for i, line in candidates:
            if label.match(_LABEL_PREFIX.sub("", line, count=1)):
                found[name] = (i, 0)
                break
        else:
            for i, line in candidates:
                match = word.search(line)
                if match:
                    found[name] = (i, match.start())
                    break
    return found


def run(ctx: AuditContext) -> Verdict:
    if not ctx.governed:
        return Verdict("skip", governance.NOT_GOVERNED)
    loaded = governance.load_difflog(ctx)
    if loaded is None:
        return Verdict("fail", "diff log missing")
    lines = section_lines(loaded[1].text)
    if lines is None:
        return Verdict("fail", "The diff log has no ## Verification section.")
    found = positions(lines)
    expected = [name for name, _ in KEYWORDS]
    missing = [name for name in expected if name not in found]
    if missing:
        return Verdict("fail", f"Missing verification keywords: {', '.join(missing)}.")
    seen = sorted(expected, key=lambda name: found[name])
    if seen != expected:
        return Verdict(
            "fail",
            f"Verification keywords are out of order: saw {', '.join(seen)}; expected {', '.join(expected)}.",
        )
    return Verdict("pass", "Verification keywords in order: Static, Runtime, Behavior, Contract.")
