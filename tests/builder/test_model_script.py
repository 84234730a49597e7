"""The fake model scripted turn by turn: builder turns in order, planner calls answered apart."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from forgeguard_app.builder.conversation import Conversation, FailedCheck
from forgeguard_app.builder.model import ModelFailed, TurnSettings, take_turn
from forgeguard_app.builder.planner import plan_remediation
from forgeguard_app.llm import LLM
from tests.builder.model_support import sample_contracts, sample_phases
from tests.fixtures.anthropic import (
    FakeAnthropic,
    RecordedRequest,
    Scripted,
    ScriptedBuilder,
    list_directory,
    plan_phase,
    remediation_plan,
    sign_off_phase,
    turn,
)

SETTINGS = TurnSettings(model="claude-sonnet-4-6")
CONTRACTS = sample_contracts()
PHASE = sample_phases()[0]


@pytest.fixture
async def llm(fake_anthropic: FakeAnthropic) -> AsyncIterator[LLM]:
    client = LLM(fake_anthropic.settings(), None, max_retries=0)
    yield client
    await client.close()


def started() -> Conversation:
    conversation = Conversation()
    conversation.start_phase(PHASE)
    return conversation


async def test_builder_turns_and_planner_calls_are_answered_from_their_own_scripts(
    llm: LLM, fake_anthropic: FakeAnthropic
) -> None:
    script = ScriptedBuilder(
        [turn(plan_phase("a")), turn(sign_off_phase(["app/main.py"]))],
        planner=remediation_plan("Declare requests.", "Add requests to pyproject.toml."),
    )
    fake_anthropic.respond_with(script)
    conversation = started()
    first = await take_turn(llm, conversation, CONTRACTS, SETTINGS)
    conversation.add_tool_result(first.calls[0].id, "1. a")
    failed = [FailedCheck("A9", "Dependencies", "1 undeclared import", ("app/x.py:1: requests",))]
    plan = await plan_remediation(
        llm, model="claude-opus-4-6", phase=PHASE, failed=failed, contracts=CONTRACTS, files={}
    )
    second = await take_turn(llm, conversation, CONTRACTS, SETTINGS)
    assert [c.name for c in (*first.calls, *second.calls)] == ["plan_phase", "sign_off_phase"]
    assert plan is not None and plan.diagnosis == "Declare requests."
    assert (len(script.builder_requests), len(script.planner_requests)) == (2, 1)


async def test_a_script_that_runs_out_fails_the_turn_loudly(llm: LLM, fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.respond_with(ScriptedBuilder([turn(list_directory("."))]))
    conversation = started()
    first = await take_turn(llm, conversation, CONTRACTS, SETTINGS)
    conversation.add_tool_result(first.calls[0].id, "app/")
    with pytest.raises(ModelFailed, match="the builder script has no turn left"):
        await take_turn(llm, conversation, CONTRACTS, SETTINGS)


async def test_a_turn_of_a_function_sees_the_request(llm: LLM, fake_anthropic: FakeAnthropic) -> None:
    seen: list[str] = []

    def reply(request: RecordedRequest) -> Scripted:
        seen.append(request.last_user_text())
        return turn(plan_phase("a"))

    fake_anthropic.respond_with(ScriptedBuilder([reply]))
    await take_turn(llm, started(), CONTRACTS, SETTINGS)
    assert seen[0].startswith("Phase 0 -- Genesis")
