"""W2 Audit ledger integrity: the ledger exists, is only ever appended to, and its
iteration numbers increase.

Iterations are compared per phase (the heading text before `Iteration`), since
every phase counts its own iterations from 1.
"""

from __future__ import annotations

from collections.abc import Iterable

from checks import governance
from checks.context import AuditContext, Verdict
from checks.ledger import entry_headings
from checks.model import Finding

CODE = "W2"
NAME = "Audit ledger integrity"


def wants(ctx: AuditContext) -> Iterable[str]:
    return [ctx.gpath(governance.LEDGER)]


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").split("\n")


def rewritten_line(base: str, head: str) -> tuple[int, str, str | None] | None:
    """Where head stops continuing base: (line number, base line, head line or None), or None."""
    old = base.replace("\r\n", "\n").rstrip("\n")
    new = head.replace("\r\n", "\n")
    if not old or new.rstrip("\n") == old or new.startswith(old + "\n"):
        return None
    old_lines, new_lines = _lines(old), _lines(new)
    for number, old_line in enumerate(old_lines, start=1):
        new_line = new_lines[number - 1] if number <= len(new_lines) else None
        if old_line != new_line:
            return number, old_line, new_line
    return None


def iteration_problems(text: str) -> list[tuple[int, str]]:
    """(line, message) for each heading whose iteration does not exceed its phase's previous one."""
    last: dict[str, int] = {}
    problems: list[tuple[int, str]] = []
    for number, phase, iteration in entry_headings(text):
        previous = last.get(phase)
        if previous is not None and iteration <= previous:
            problems.append((number, f"Iteration {iteration} of '{phase}' follows Iteration {previous}"))
        last[phase] = iteration if previous is None else max(previous, iteration)
    return problems


def _quote(line: str) -> str:
    line = line.strip()
    return f"'{line if len(line) <= 80 else line[:77] + '...'}'"


def run(ctx: AuditContext) -> Verdict:
    if not ctx.governed:
        return Verdict("skip", governance.NOT_GOVERNED)
    path = ctx.gpath(governance.LEDGER)
    text = ctx.text(path)
    if text is None:
        return Verdict("warn", "audit_ledger.md missing")
    if not text.strip():
        return Verdict("warn", "audit_ledger.md is empty")
    base_text = ctx.text(path, ctx.base) if ctx.base is not None else None
    if base_text is not None:
        differs = rewritten_line(base_text, text)
        if differs is not None:
            number, old, new = differs
            return Verdict(
                "warn",
                f"audit_ledger.md was rewritten: line {number} was {_quote(old)}, "
                f"now {'removed' if new is None else _quote(new)}",
                [
                    Finding(
                        path,
                        "an earlier ledger line was changed; the ledger is append-only",
                        level="warning",
                        start_line=number,
                    )
                ],
            )
    problems = iteration_problems(text)
    if problems:
        return Verdict(
            "warn",
            f"audit_ledger.md iteration numbers do not increase: {problems[0][1]} (line {problems[0][0]})",
            [Finding(path, message, level="warning", start_line=line) for line, message in problems],
        )
    return Verdict("pass", "audit_ledger.md is present and append-only.")
