"""The builder's phases parser: the format of spec builder.md, and clear reasons when a file fails."""

from __future__ import annotations

import pytest

from forgeguard_app.intake.phases import PhasesError, parse_phases, phases_problems
from forgeguard_app.markdown import md

GOOD = """# Plan

## Phase 0 -- Genesis

Some context first.

**Objective:** A skeleton
that boots.

**Deliverables:**
- GET /health
- One test

**Exit criteria:**
- pytest passes

---

## Phase 1 — Core

**Objective:** The core.

**Deliverables:**
- Endpoints

**Exit criteria:**
- Audit passes
"""


def test_a_well_formed_file_gives_every_phase_with_its_parts() -> None:
    first, second = parse_phases(GOOD)
    assert (first.number, first.name, first.objective) == (0, "Genesis", "A skeleton that boots.")
    assert first.deliverables == ["GET /health", "One test"]
    assert first.exit_criteria == ["pytest passes"]
    assert first.context == "Some context first."
    assert (second.number, second.name) == (1, "Core")


@pytest.mark.parametrize("separator", ["--", "—", "–", "-", ":"])
def test_every_separator_of_the_spec_is_accepted(separator: str) -> None:
    text = GOOD.replace("## Phase 0 -- Genesis", f"## Phase 0 {separator} Genesis")
    assert parse_phases(text)[0].name == "Genesis"


def test_the_original_seed_plan_parses() -> None:
    from pathlib import Path

    seed = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "forgeguard-phases.md"
    phases = parse_phases(seed.read_text())
    assert [p.number for p in phases][:3] == [0, 1, 2]


def test_phases_out_of_order_are_refused_naming_both() -> None:
    text = GOOD.replace("## Phase 1 — Core", "## Phase 0 — Core")
    assert phases_problems(text) == [
        "Phase 0 (line 19) comes after Phase 0: phases must ascend by number, each number once"
    ]


def test_a_phase_heading_without_a_separator_is_refused_with_its_line() -> None:
    problems = phases_problems(GOOD.replace("## Phase 1 — Core", "## Phase 1 Core"))
    assert problems[0].startswith("line 19: heading '## Phase 1 Core' is not '## Phase <N> -- <name>'")


def test_a_phase_without_exit_criteria_is_refused() -> None:
    text = GOOD.replace("**Exit criteria:**\n- Audit passes\n", "")
    assert phases_problems(text) == ["Phase 1 (line 19) has no **Exit criteria:** bullet list"]


def test_a_file_without_phases_says_what_a_phase_looks_like() -> None:
    with pytest.raises(PhasesError, match="no phase found: each phase is a heading '## Phase <N> -- <name>'"):
        parse_phases("# Plan\n\nNothing here.\n")


def test_a_heading_inside_a_code_block_is_not_a_phase() -> None:
    text = GOOD + "\n```\n## Phase 9 -- Not real\n```\n"
    assert [p.number for p in parse_phases(text)] == [0, 1]


def test_fields_escaped_by_the_contracts_renderer_read_as_the_person_wrote_them() -> None:
    written = "Store snake_case keys & ping @team about #12 at https://example.com/a*b"
    text = (
        f"## Phase 1 -- {md('Set_up & go')}\n\n"
        f"**Objective:** {md(written)}\n\n"
        f"**Deliverables:**\n- {md(written)}\n\n"
        f"**Exit criteria:**\n- {md('`pytest` passes <100%>')}\n"
    )
    [phase] = parse_phases(text)
    assert phase.name == "Set_up & go"
    assert phase.objective == written
    assert phase.deliverables == [written]
    assert phase.exit_criteria == ["`pytest` passes <100%>"]
