"""The phases parser: `Forge/Contracts/phases.md` as the builder reads it (spec builder.md).

Each phase is a level-2 heading `## Phase <N> -- <name>` (`—`, `–`, `-` or
`:` also separate), and under it `**Objective:**` (a paragraph),
`**Deliverables:**` and `**Exit criteria:**` (bullet lists); anything else
under the heading is context. Phases ascend by N. A file that does not parse
yields every reason, each naming its line.
"""

from __future__ import annotations

import html
import itertools
import re
from dataclasses import dataclass, field

_HEADING = re.compile(r"^##(?!#)\s*(.*?)\s*#*\s*$")
_PHASE = re.compile(r"^Phase\s+(\d+)\s*(?:--|—|–|-|:)\s*(\S.*?)\s*$", re.IGNORECASE)
_LABEL = re.compile(
    r"^\*\*\s*(objective|deliverables|exit criteria)\s*(?::\*\*|\*\*\s*:)\s*(.*)$", re.IGNORECASE
)
_OTHER_LABEL = re.compile(r"^\*\*[^*]+\*\*")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*\S)\s*$")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_BACKSLASH_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


@dataclass
class Phase:
    """One phase of the build plan."""

    number: int
    name: str
    objective: str = ""
    deliverables: list[str] = field(default_factory=list)
    exit_criteria: list[str] = field(default_factory=list)
    context: str = ""
    line: int = 0


class PhasesError(ValueError):
    """phases.md does not parse; `problems` says why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("phases.md does not parse: " + "; ".join(problems))
        self.problems = problems


def parse_phases(text: str) -> list[Phase]:
    """The phases in file order, their fields as a reader sees them; raises PhasesError with every problem."""
    phases, problems = _parse(text)
    if problems:
        raise PhasesError(problems)
    for phase in phases:
        phase.name = as_read(phase.name)
        phase.objective = as_read(phase.objective)
        phase.deliverables = [as_read(item) for item in phase.deliverables]
        phase.exit_criteria = [as_read(item) for item in phase.exit_criteria]
    return phases


def as_read(markdown: str) -> str:
    """Inline Markdown as a reader sees it: the escapes the contracts' renderer adds are undone.

    The intake writes answers into phases.md escaped (`\\_`, `&amp;`, a zero-width
    space after `@` or `#`); the builder tells the model, names commits and writes
    the ledger with the text a person reads on GitHub.
    """
    return html.unescape(_BACKSLASH_ESCAPE.sub(r"\1", markdown)).replace("\u200b", "")


def phases_problems(text: str) -> list[str]:
    """Why `text` is not a valid phases.md (empty when it is)."""
    return _parse(text)[1]


def _parse(text: str) -> tuple[list[Phase], list[str]]:
    phases: list[Phase] = []
    problems: list[str] = []
    current: Phase | None = None
    label: str | None = None
    context: list[str] = []
    in_fence = False

    def close() -> None:
        if current is not None:
            kept = [line for line in context if not _RULE.match(line)]
            current.context = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()

    for number, raw in enumerate(text.replace("\r\n", "\n").lstrip("\ufeff").split("\n"), start=1):
        line = raw.rstrip()
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        if heading:
            close()
            current, label, context = None, None, []
            title = heading.group(1)
            match = _PHASE.match(title)
            if match:
                current = Phase(number=int(match.group(1)), name=match.group(2), line=number)
                phases.append(current)
            elif title.lower().startswith("phase"):
                problems.append(
                    f"line {number}: heading '## {title}' is not '## Phase <N> -- <name>' "
                    "(a number, then --, —, –, - or :, then the name)"
                )
            continue
        if current is None:
            continue
        found = None if in_fence else _LABEL.match(line.strip())
        if found:
            label = found.group(1).lower()
            rest = found.group(2).strip()
            if label == "objective":
                current.objective = rest
            elif rest:
                problems.append(f"line {number}: put the {label} of Phase {current.number} in a bullet list")
            continue
        if label and not in_fence and _OTHER_LABEL.match(line.strip()):
            label = None
        if label == "objective":
            if line.strip() and not _BULLET.match(line):
                current.objective = f"{current.objective} {line.strip()}".strip()
                continue
            if current.objective:
                label = None
        elif label in ("deliverables", "exit criteria"):
            bullet = _BULLET.match(line)
            items = current.deliverables if label == "deliverables" else current.exit_criteria
            if bullet:
                items.append(bullet.group(1))
                continue
            if line.startswith(("  ", "\t")) and line.strip() and items:
                items[-1] = f"{items[-1]} {line.strip()}"
                continue
            if line.strip() or items:
                label = None
        context.append(line)
    close()
    problems.extend(_check(phases))
    return phases, problems


def _check(phases: list[Phase]) -> list[str]:
    if not phases:
        return ["no phase found: each phase is a heading '## Phase <N> -- <name>'"]
    problems = []
    for phase in phases:
        where = f"Phase {phase.number} (line {phase.line})"
        if not phase.objective:
            problems.append(f"{where} has no **Objective:** paragraph")
        if not phase.deliverables:
            problems.append(f"{where} has no **Deliverables:** bullet list")
        if not phase.exit_criteria:
            problems.append(f"{where} has no **Exit criteria:** bullet list")
    for before, after in itertools.pairwise(phases):
        if after.number <= before.number:
            problems.append(
                f"Phase {after.number} (line {after.line}) comes after Phase {before.number}: "
                "phases must ascend by number, each number once"
            )
    return problems
