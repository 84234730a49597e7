"""The intake commands that need no model: back, edit, restart, contracts now; and the state's round trip."""

from __future__ import annotations

import pytest

from forgeguard_app.intake.sections import SECTION_KEYS, UnknownSection, validate_section
from forgeguard_app.intake.state import IntakeState, answers_now, back, edit, restart
from tests.intake.scripted import SAMPLE


def recorded(*keys: str) -> IntakeState:
    state = IntakeState(title="Shelf")
    for key in keys:
        state.record(key, SAMPLE[key], f"{key} noted")
    return state


def test_recording_moves_to_the_first_section_still_open() -> None:
    state = recorded("product_intent", "tech_stack")
    assert state.current == "database_schema"


def test_the_state_survives_a_json_round_trip() -> None:
    state = recorded("product_intent")
    state.add_turn("user", "hello")
    assert IntakeState.from_json(state.to_json()) == state


def test_back_reopens_the_previous_section_keeping_its_answer_to_start_from() -> None:
    state = back(recorded("product_intent", "tech_stack"))
    assert state.current == "tech_stack"
    assert "tech_stack" not in state.sections
    assert state.revising["tech_stack"] == SAMPLE["tech_stack"]


def test_back_after_the_last_section_reopens_the_phase_breakdown() -> None:
    state = back(recorded(*SECTION_KEYS))
    assert state.current == "phase_breakdown" and not state.finished


def test_back_does_not_change_the_state_it_was_given() -> None:
    original = recorded("product_intent", "tech_stack")
    back(original)
    assert original.current == "database_schema"


def test_edit_accepts_a_short_section_name() -> None:
    assert edit(recorded("product_intent", "tech_stack"), "stack").current == "tech_stack"


def test_edit_of_an_unknown_section_suggests_the_closest() -> None:
    with pytest.raises(UnknownSection, match="Did you mean `deployment_target`"):
        edit(recorded(), "deploymnt_target")


def test_restart_keeps_only_the_title() -> None:
    assert restart(recorded("product_intent", "tech_stack")) == IntakeState(title="Shelf")


def test_contracts_now_fills_missing_sections_with_marked_defaults() -> None:
    answers = answers_now(recorded("product_intent", "tech_stack"))
    assert answers.defaults == frozenset(SECTION_KEYS[2:])
    assert answers["tech_stack"] == SAMPLE["tech_stack"]


def test_every_default_is_valid_for_its_section() -> None:
    answers = answers_now(IntakeState(title="A project"))
    for key in SECTION_KEYS:
        assert validate_section(key, answers[key]) == [], key


def test_the_default_product_intent_is_named_after_the_issue() -> None:
    assert answers_now(IntakeState(title="Book lending")).sections["product_intent"]["name"] == "Book lending"


def test_a_reopened_section_keeps_its_previous_answer_for_contracts_now() -> None:
    answers = answers_now(back(recorded(*SECTION_KEYS)))
    assert answers["phase_breakdown"] == SAMPLE["phase_breakdown"]
    assert "phase_breakdown" not in answers.defaults


def test_a_bad_regular_expression_in_a_boundary_is_refused() -> None:
    layers = [
        {"name": "api", "description": "d", "glob": "app/**", "forbidden": [{"pattern": "(", "reason": "r"}]}
    ]
    problems = validate_section("architectural_boundaries", {"layers": layers})
    assert problems and "not a valid regular expression" in problems[0]


def test_an_endpoint_listed_twice_is_refused() -> None:
    endpoint = {"method": "GET", "path": "/a", "summary": "a"}
    problems = validate_section("api_endpoints", {"router_dirs": ["app"], "endpoints": [endpoint, endpoint]})
    assert problems == ["endpoints/1: GET /a is listed twice"]
