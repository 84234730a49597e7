"""The short replies of the command layer (pure): help, unknown command, wrong place, builder, refusals."""

from __future__ import annotations

import re

import jinja2

from forgeguard_app.commands.grammar import ParsedCommand, suggest
from forgeguard_app.commands.table import COMMANDS, Command

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("forgeguard_app", "templates/commands"),
    autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
    keep_trailing_newline=True,
    trim_blocks=False,
)


def code(text: str, limit: int = 60) -> str:
    """User text shown as inline code: backticks and line breaks removed, length capped."""
    clean = re.sub(r"[`\r\n]+", " ", text).strip()
    if len(clean) > limit:
        clean = clean[:limit] + "…"
    return f"`{clean}`"


def help_text(slug: str) -> str:
    """`/forge help`: the table of commands."""
    return _env.get_template("help.md.j2").render(commands=COMMANDS, slug=slug).strip()


def unknown_command(name: str) -> str:
    """The reply to a command word that is not in the table."""
    guess = suggest(name)
    hint = f" Did you mean `/forge {guess}`?" if guess else ""
    return f"I don't know the command {code(name)}.{hint} `/forge help` lists the commands."


def wrong_place(command: Command, here: str) -> str:
    """The reply to a known command used where it does not apply."""
    return (
        f"`/forge {command.name}` works in {'an' if command.where[0] in 'aeiou' else 'a'} "
        f"{command.where}, not in this {here}."
        if command.where != "anywhere"
        else f"`/forge {command.name}` cannot run here."
    )


def builder_unavailable(command: Command) -> str:
    """Builder commands are recognised but the builder is a later release."""
    return (
        f"`/forge {command.name}` belongs to the builder, which is not available in this release "
        "of ForgeGuard yet; nothing was done."
    )


def ignored_others(others: list[ParsedCommand]) -> str:
    """The note added when a comment holds more than one command line."""
    names = ", ".join(f"`/forge {c.name}`" for c in others)
    return f"Only the first command of a comment runs; ignored: {names}."
