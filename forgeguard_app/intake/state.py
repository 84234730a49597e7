"""An intake's state as data: recorded sections, the current section, the trimmed transcript, questions.

Pure values that round-trip through JSON (the store keeps them in jsonb
columns), and the commands that change them without the model: back, edit,
restart, contracts now.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal

from forgeguard_app.intake.sections import BY_KEY, SECTION_KEYS, default_section, resolve_section

TRANSCRIPT_LIMIT = 40
"""Turns kept in the stored transcript (the model sees fewer; sections are kept as data)."""


@dataclass(frozen=True)
class Turn:
    """One message of the conversation as people saw it."""

    role: Literal["user", "assistant"]
    text: str


@dataclass(frozen=True)
class Question:
    """A question the model asked, with the default it suggests."""

    text: str
    suggestion: str | None = None


@dataclass
class IntakeState:
    """Everything the questionnaire needs to continue after a restart."""

    title: str = ""
    """The issue's title: the project's working name."""
    current: str | None = SECTION_KEYS[0]
    """The section being asked about; None when all eight are recorded."""
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    understood: dict[str, str] = field(default_factory=dict)
    """Per recorded section, what the model understood, in a sentence."""
    revising: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Sections reopened by `back`/`edit`: their previous data, for the model to start from."""
    transcript: list[Turn] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    invalid_streak: int = 0
    finished: bool = False

    @property
    def remaining(self) -> list[str]:
        return [k for k in SECTION_KEYS if k not in self.sections]

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "current": self.current,
            "sections": self.sections,
            "understood": self.understood,
            "revising": self.revising,
            "transcript": [{"role": t.role, "text": t.text} for t in self.transcript],
            "questions": [{"text": q.text, "suggestion": q.suggestion} for q in self.questions],
            "invalid_streak": self.invalid_streak,
            "finished": self.finished,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IntakeState:
        return cls(
            title=data.get("title", ""),
            current=data.get("current"),
            sections={k: v for k, v in data.get("sections", {}).items() if k in BY_KEY},
            understood=dict(data.get("understood", {})),
            revising=dict(data.get("revising", {})),
            transcript=[Turn(t["role"], t["text"]) for t in data.get("transcript", [])],
            questions=[Question(q["text"], q.get("suggestion")) for q in data.get("questions", [])],
            invalid_streak=int(data.get("invalid_streak", 0)),
            finished=bool(data.get("finished", False)),
        )

    def copy(self) -> IntakeState:
        return IntakeState.from_json(copy.deepcopy(self.to_json()))

    def add_turn(self, role: Literal["user", "assistant"], text: str) -> None:
        self.transcript.append(Turn(role, text))
        del self.transcript[:-TRANSCRIPT_LIMIT]

    def record(self, key: str, data: dict[str, Any], understood: str) -> None:
        """Store a validated section and move on to the first section not yet recorded."""
        self.sections[key] = data
        self.understood[key] = understood
        self.revising.pop(key, None)
        self.invalid_streak = 0
        self.current = self.remaining[0] if self.remaining else None


def reopen(state: IntakeState, key: str) -> IntakeState:
    """`edit <section>`: the section is asked about again, its previous answer kept as a starting point."""
    new = state.copy()
    if key in new.sections:
        new.revising[key] = new.sections.pop(key)
        new.understood.pop(key, None)
    new.current = key
    new.questions = []
    new.finished = False
    new.invalid_streak = 0
    return new


def edit(state: IntakeState, name: str) -> IntakeState:
    """`edit <section>` with a name as a person typed it; raises UnknownSection with a suggestion."""
    return reopen(state, resolve_section(name))


def back(state: IntakeState) -> IntakeState:
    """`back`: reopen the section before the current one (the last one when all are recorded)."""
    if state.current is None:
        target = SECTION_KEYS[-1]
    else:
        index = SECTION_KEYS.index(state.current)
        target = SECTION_KEYS[max(index - 1, 0)]
    return reopen(state, target)


def restart(state: IntakeState) -> IntakeState:
    """`intake restart`: everything forgotten but the issue's title."""
    return IntakeState(title=state.title)


@dataclass(frozen=True)
class Answers:
    """The structured answers the contracts are rendered from; `defaults` names the sections filled in."""

    sections: dict[str, dict[str, Any]]
    defaults: frozenset[str] = frozenset()

    def __getitem__(self, key: str) -> dict[str, Any]:
        return self.sections[key]


def answers_now(state: IntakeState) -> Answers:
    """`contracts`: the answers so far, every missing section filled with its marked default."""
    sections = copy.deepcopy(state.sections)
    defaults = set()
    for key in SECTION_KEYS:
        if key in sections:
            continue
        if key in state.revising:
            sections[key] = copy.deepcopy(state.revising[key])
        else:
            sections[key] = default_section(key, project_name=state.title)
            defaults.add(key)
    return Answers(sections, frozenset(defaults))
