"""Inputs the model-side builder tests share: the sample project's real contracts and its phases."""

from __future__ import annotations

from functools import lru_cache

from forgeguard_app.intake.contracts_prose import Principle, Prose
from forgeguard_app.intake.contracts_render import render_contracts
from forgeguard_app.intake.phases import Phase, parse_phases
from forgeguard_app.intake.state import Answers
from tests.intake.scripted import SAMPLE

PROSE = Prose(
    overview="Shelf is a lending library for a small community: a catalogue, loans and reminders.",
    principles=(
        Principle("Small first", "Ship the smallest thing that lends a book."),
        Principle("Data is sacred", "Never lose a loan record."),
        Principle("Plain", "Readable over clever."),
    ),
)


@lru_cache(maxsize=1)
def _contracts() -> dict[str, str]:
    return render_contracts(Answers(SAMPLE), PROSE)


def sample_contracts() -> dict[str, str]:
    """The contracts (and forge.json, evidence skeletons) the intake renders for the sample project."""
    return dict(_contracts())


def sample_phases() -> list[Phase]:
    return parse_phases(_contracts()["Forge/Contracts/phases.md"])
