"""The short replies of the command layer (pure): help, unknown command, wrong place, ignored commands."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from forgeguard_app.commands.command import Command
from forgeguard_app.commands.grammar import ParsedCommand, suggest
from forgeguard_app.markdown import Trusted, code, markdown_env

_env = markdown_env("templates/commands")


def help_text(slug: str, commands: Sequence[Command]) -> str:
    """`/forge help`: the table of commands."""
    rows = [
        {
            "usage": Trusted(c.usage),
            "where": Trusted(c.where),
            "summary": Trusted(c.summary),
            "available": c.available,
        }
        for c in commands
    ]
    return _env.get_template("help.md.j2").render(commands=rows, slug=slug).strip()


def unknown_command(name: str, known: Iterable[str]) -> str:
    """The reply to a command word that is not in the table."""
    guess = suggest(name, known)
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


def ignored_others(others: Sequence[ParsedCommand]) -> str:
    """The note added when a comment holds more than one command line."""
    names = ", ".join(code(f"/forge {c.name}") for c in others)
    return f"Only the first command of a comment runs; ignored: {names}."
