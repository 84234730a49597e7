"""Finding commands in a comment's text (pure).

A command is a line that starts with `/forge` or `@<app-slug>` (up to three
spaces of indentation allowed, as Markdown allows), followed by the command
name and its arguments: `/forge <command> [arguments]`. Lines inside fenced
code blocks, indented code blocks, HTML comments (from wherever in a line
they open, up to their `-->`) and quotes (`>`) are not commands, and neither
is a line that starts with inline code. `/forge` alone
means `help`.

A comment may hold several command lines: all are found, in order, but only
the first one is run; the reply names the others as ignored (running several
commands from one comment would make the acknowledgement reactions ambiguous).

`text` is the command's free text: the rest of its line and the lines after it
up to the next command line, for commands that take prose (`revise`, `reject`,
`say`, `retry`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from forgeguard_app.commands.command import Command
from forgeguard_app.commands.thread import Place
from forgeguard_app.settings import Settings

DEFAULT_SLUG = "forgeguard"
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class ParsedCommand:
    """One command line found in a comment."""

    name: str
    """Lower-cased command word as written (may be unknown)."""
    args: str
    """The rest of the command's line."""
    text: str
    """The rest of the line plus the following lines up to the next command line."""
    line: int
    """0-based line number in the comment."""


def app_slug(settings: Settings) -> str:
    """The app's slug for `@<slug>` commands (`GITHUB_APP_SLUG`, written by `/setup`)."""
    return settings.app_slug.strip().lower() or DEFAULT_SLUG


_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")


def _in_html_comment_after(line: str, inside: bool) -> bool:
    """Whether an HTML comment is still open at the end of `line` (open at its start when `inside`).

    A comment may open anywhere in a line (`Looks good <!--`), not only at its start, and hides
    the lines after it up to its `-->`; `<!--` inside inline code opens nothing.
    """
    text = _INLINE_CODE.sub("", line) if not inside else line
    position = 0
    while True:
        if inside:
            end = text.find("-->", position)
            if end < 0:
                return True
            inside, position = False, end + 3
        else:
            start = text.find("<!--", position)
            if start < 0:
                return False
            inside, position = True, start + 4


def _prefix_pattern(slug: str) -> re.Pattern[str]:
    return re.compile(
        r"^ {0,3}(?:/forge|@" + re.escape(slug) + r"(?:\[bot\])?)(?=\s|$)(?P<rest>.*)$",
        re.IGNORECASE,
    )


def _command_lines(body: str) -> list[tuple[int, str, bool]]:
    """Each line with its number and whether it may hold a command (outside code, quotes, comments)."""
    out: list[tuple[int, str, bool]] = []
    fence: str | None = None
    in_html_comment = False
    for number, line in enumerate(body.replace("\r\n", "\n").replace("\r", "\n").split("\n")):
        if fence is not None:
            stripped = line.strip()
            if stripped.startswith(fence) and set(stripped) == {fence[0]}:
                fence = None
            out.append((number, line, False))
            continue
        if in_html_comment:
            in_html_comment = _in_html_comment_after(line, inside=True)
            out.append((number, line, False))
            continue
        opened = _FENCE.match(line)
        if opened:
            fence = opened.group(1)
            out.append((number, line, False))
            continue
        lead = line.lstrip(" ")
        in_html_comment = _in_html_comment_after(line, inside=False)
        if lead.startswith("<!--"):
            out.append((number, line, False))
            continue
        indented_code = len(line) - len(lead) >= 4 or line.startswith("\t")
        quoted = lead.startswith(">")
        out.append((number, line, not (indented_code or quoted)))
    return out


def parse(body: str | None, slug: str = DEFAULT_SLUG) -> list[ParsedCommand]:
    """Every command line of a comment, in order."""
    if not body:
        return []
    prefix = _prefix_pattern(slug)
    lines = _command_lines(body)
    found: list[tuple[int, str, str]] = []  # (index in lines, name, args)
    for index, (_number, line, eligible) in enumerate(lines):
        if not eligible:
            continue
        match = prefix.match(line)
        if not match:
            continue
        rest = match.group("rest").strip()
        word = _NAME.match(rest)
        if word is None and rest:
            name, args = rest.split(None, 1)[0].lower(), rest.split(None, 1)[1:] or [""]
            found.append((index, name, args[0].strip()))
            continue
        name = word.group(0).lower() if word else "help"
        args = rest[word.end() :].strip() if word else ""
        found.append((index, name, args))
    commands: list[ParsedCommand] = []
    for position, (index, name, args) in enumerate(found):
        end = found[position + 1][0] if position + 1 < len(found) else len(lines)
        following = "\n".join(line for _n, line, _e in lines[index + 1 : end])
        text = (args + "\n" + following).strip() if following.strip() else args
        commands.append(ParsedCommand(name=name, args=args, text=text, line=lines[index][0]))
    return commands


def first_command(body: str | None, slug: str = DEFAULT_SLUG) -> ParsedCommand | None:
    """The command a comment runs: its first command line, or None."""
    commands = parse(body, slug)
    return commands[0] if commands else None


def suggest(name: str, known: Iterable[str]) -> str | None:
    """The closest of the `known` command names to an unknown word, if any is close enough."""
    matches = difflib.get_close_matches(name.lower(), list(known), n=1, cutoff=0.5)
    return matches[0] if matches else None


def misplaced(command: Command, places: frozenset[Place]) -> bool:
    """True when `command` is not allowed in a thread that is `places`."""
    return not (command.places & places)
