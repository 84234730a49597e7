"""One builder turn against the fake Messages API, through the real SDK and streaming."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from forgeguard_app.builder.conversation import (
    NUDGE_END_TURN,
    NUDGE_MAX_TOKENS,
    TRUNCATED_ERROR,
    Conversation,
)
from forgeguard_app.builder.model import ModelFailed, ModelUnavailable, TurnSettings, take_turn
from forgeguard_app.db import Database
from forgeguard_app.llm import LLM, CallContext
from tests.builder.model_support import sample_contracts, sample_phases
from tests.fixtures.anthropic import (
    ErrorReply,
    FakeAnthropic,
    cut_tool_call,
    list_directory,
    overloaded,
    overloaded_for,
    plan_phase,
    rate_limited_for,
    read_file,
    text,
    turn,
    validate_request,
    write_file,
)

MODEL = "claude-sonnet-4-6"
SETTINGS = TurnSettings(model=MODEL)
CONTRACTS = sample_contracts()
PHASE0 = sample_phases()[0]


@pytest.fixture
async def make_llm(fake_anthropic: FakeAnthropic) -> AsyncIterator[Callable[..., LLM]]:
    made: list[LLM] = []

    def make(db: Database | None = None, max_retries: int = 2) -> LLM:
        llm = LLM(fake_anthropic.settings(), db, max_retries=max_retries)
        made.append(llm)
        return llm

    yield make
    for llm in made:
        await llm.close()


def started() -> Conversation:
    conversation = Conversation()
    conversation.start_phase(PHASE0, total=2)
    return conversation


def answer_all(conversation: Conversation, text: str = "ok") -> None:
    while (call := conversation.next_call()) is not None:
        conversation.add_tool_result(call.id, "\n".join(call.errors) or text, is_error=bool(call.errors))


async def test_a_turn_is_streamed_with_the_contracts_the_tools_and_four_breakpoints(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    fake_anthropic.queue(turn(plan_phase("Skeleton", "Health check")))
    await take_turn(make_llm(), started(), CONTRACTS, SETTINGS)
    (request,) = fake_anthropic.requests
    assert request.streamed
    assert request.tool_names[0] == "plan_phase" and len(request.tool_names) == 11
    assert '<contract path="Forge/Contracts/builder_contract.md">' in request.system_text
    assert request.last_user_text().startswith("Phase 0 -- Genesis")
    marks = [t for t in request.body["tools"] if "cache_control" in t]
    marks += [b for b in request.body["system"] if "cache_control" in b]
    marks += [b for m in request.body["messages"] for b in m["content"] if "cache_control" in b]
    assert len(marks) == 4


async def test_several_tool_calls_in_one_turn_come_back_in_order_and_are_appended(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    fake_anthropic.stream_chunk = 5
    fake_anthropic.queue(
        turn(list_directory("."), read_file("app/main.py"), write_file("app/x.py", "x = 1\n"), say="Looking.")
    )
    conversation = started()
    result = await take_turn(make_llm(), conversation, CONTRACTS, SETTINGS)
    assert [(c.name, c.input, c.errors) for c in result.calls] == [
        ("list_directory", {"path": "."}, ()),
        ("read_file", {"path": "app/main.py"}, ()),
        ("write_file", {"path": "app/x.py", "content": "x = 1\n"}, ()),
    ]
    assert result.text == "Looking."
    assert [c.id for c in conversation.pending_calls()] == [c.id for c in result.calls]


async def test_an_invalid_tool_input_comes_back_flagged_not_raised(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    fake_anthropic.queue(turn(("write_file", {"path": "app/x.py"}), ("approve_pr", {})))
    conversation = started()
    result = await take_turn(make_llm(), conversation, CONTRACTS, SETTINGS)
    assert result.calls[0].errors == ("(top level): 'content' is a required property",)
    assert result.calls[1].errors[0].startswith("unknown tool 'approve_pr'")
    assert [c.errors for c in conversation.pending_calls()] == [c.errors for c in result.calls]


async def test_a_tool_call_cut_at_max_tokens_is_answered_with_an_error_and_the_build_goes_on(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    long_file = "def handler():\n    return 1\n" * 50
    fake_anthropic.queue(
        cut_tool_call(
            "write_file", {"path": "app/big.py", "content": long_file}, keep=60, before=(plan_phase("a"),)
        ),
        turn(write_file("app/big.py", "x = 1\n")),
    )
    llm = make_llm()
    conversation = started()
    result = await take_turn(llm, conversation, CONTRACTS, SETTINGS)
    assert result.stop_reason == "max_tokens"
    assert [c.errors for c in result.calls] == [(), (TRUNCATED_ERROR,)]
    assert result.calls[1].input.get("path") == "app/big.py"
    answer_all(conversation)
    second = await take_turn(llm, conversation, CONTRACTS, SETTINGS)
    sent = fake_anthropic.requests[1].tool_results()[1]
    sent.pop("cache_control")
    assert sent == {
        "type": "tool_result",
        "tool_use_id": result.calls[1].id,
        "content": TRUNCATED_ERROR,
        "is_error": True,
    }
    assert second.calls[0].errors == ()


async def test_a_text_cut_at_max_tokens_asks_the_model_to_go_on(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    reply = text("I will now write the app, starting with")
    reply.stop_reason = "max_tokens"
    fake_anthropic.queue(reply, turn(plan_phase("a")))
    llm = make_llm()
    conversation = started()
    result = await take_turn(llm, conversation, CONTRACTS, SETTINGS)
    assert result.idle and result.notes == [NUDGE_MAX_TOKENS]
    await take_turn(llm, conversation, CONTRACTS, SETTINGS)
    assert fake_anthropic.requests[1].last_user_text() == NUDGE_MAX_TOKENS


async def test_a_turn_without_tool_calls_gets_a_nudge_and_counts_as_idle(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    fake_anthropic.queue(text("Done, I think."), text("Still thinking."))
    llm = make_llm()
    conversation = started()
    await take_turn(llm, conversation, CONTRACTS, SETTINGS)
    result = await take_turn(llm, conversation, CONTRACTS, SETTINGS)
    assert result.notes == [NUDGE_END_TURN]
    assert conversation.idle_turns == 2
    assert conversation.ready


async def test_an_overload_for_a_while_is_retried_by_the_sdk(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    fake_anthropic.queue(*overloaded_for(3), turn(plan_phase("a")))
    result = await take_turn(make_llm(max_retries=4), started(), CONTRACTS, SETTINGS)
    assert [c.name for c in result.calls] == ["plan_phase"]
    assert [r.status for r in fake_anthropic.requests] == [529, 529, 529, 200]


async def test_an_overload_that_persists_raises_model_unavailable_and_leaves_the_conversation(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    fake_anthropic.queue(*overloaded_for(3))
    conversation = started()
    before = conversation.to_json()
    with pytest.raises(ModelUnavailable) as raised:
        await take_turn(make_llm(max_retries=2), conversation, CONTRACTS, SETTINGS)
    assert raised.value.reason == "overloaded_error: Overloaded"
    assert conversation.to_json() == before


async def test_an_overload_in_the_middle_of_the_stream_raises_model_unavailable(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    fake_anthropic.respond_with(lambda _r: overloaded(mid_stream=True))
    with pytest.raises(ModelUnavailable):
        await take_turn(make_llm(max_retries=0), started(), CONTRACTS, SETTINGS)


async def test_a_rate_limit_that_persists_raises_model_unavailable(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    fake_anthropic.queue(*rate_limited_for(2))
    with pytest.raises(ModelUnavailable, match="rate_limit_error"):
        await take_turn(make_llm(max_retries=1), started(), CONTRACTS, SETTINGS)


async def test_a_bad_request_raises_model_failed(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    fake_anthropic.queue(
        ErrorReply(400, "invalid_request_error", "tools.0.name: String should match pattern")
    )
    with pytest.raises(ModelFailed, match="String should match pattern"):
        await take_turn(make_llm(), started(), CONTRACTS, SETTINGS)


async def test_a_turn_with_unanswered_calls_is_refused_before_any_request(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    fake_anthropic.queue(turn(list_directory(".")))
    llm = make_llm()
    conversation = started()
    await take_turn(llm, conversation, CONTRACTS, SETTINGS)
    with pytest.raises(ValueError, match="answer every pending tool call"):
        await take_turn(llm, conversation, CONTRACTS, SETTINGS)
    assert len(fake_anthropic.requests) == 1


async def test_the_second_turn_reads_the_tools_system_and_history_from_the_cache(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    fake_anthropic.queue(turn(list_directory(".")), turn(read_file("app/main.py")))
    llm = make_llm()
    conversation = started()
    first = await take_turn(llm, conversation, CONTRACTS, SETTINGS)
    answer_all(conversation, "app/\nForge/")
    second = await take_turn(llm, conversation, CONTRACTS, SETTINGS)
    assert first.usage.cache_read_input_tokens == 0 and first.usage.cache_creation_input_tokens > 1024
    assert second.usage.cache_read_input_tokens >= first.usage.cache_creation_input_tokens
    assert second.usage.input_tokens < 50


async def test_near_the_context_limit_the_turn_compacts_first(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    fake_anthropic.queue(turn(read_file("a.py")), turn(plan_phase("a")))
    llm = make_llm()
    conversation = started()
    await take_turn(llm, conversation, CONTRACTS, SETTINGS)
    answer_all(conversation, "x" * 40_000)
    sign_off = {
        "summary": "s",
        "claimed_files": [],
        "verification": dict.fromkeys(("static", "runtime", "behavior", "contract"), "n"),
    }
    conversation.add_assistant(
        [{"type": "tool_use", "id": "s0", "name": "sign_off_phase", "input": sign_off}]
    )
    conversation.add_tool_result("s0", "PASS: Phase 0 -- Genesis")
    conversation.start_phase(sample_phases()[1])
    result = await take_turn(llm, conversation, CONTRACTS, TurnSettings(model=MODEL, context_tokens=20_000))
    assert result.compacted
    sent = fake_anthropic.requests[-1]
    assert validate_request(sent.body) is None
    assert "x" * 1000 not in str(sent.body["messages"])


async def test_a_prompt_the_api_finds_too_long_is_compacted_and_sent_once_more(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    fake_anthropic.queue(
        turn(read_file("a.py")),
        ErrorReply(400, "invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum"),
        turn(plan_phase("a")),
    )
    llm = make_llm()
    conversation = started()
    await take_turn(llm, conversation, CONTRACTS, SETTINGS)
    answer_all(conversation, "x" * 40_000)
    result = await take_turn(llm, conversation, CONTRACTS, SETTINGS)
    assert result.compacted and [c.name for c in result.calls] == ["plan_phase"]
    refused, sent = fake_anthropic.requests[1:]
    assert len(str(sent.body["messages"])) < len(str(refused.body["messages"])) - 30_000


async def test_every_call_is_recorded_as_builder_with_the_build_and_the_phase(
    db: Database, fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    fake_anthropic.queue(turn(plan_phase("a")))
    context = CallContext(installation_id=7, build_id=42, phase=0)
    result = await take_turn(make_llm(db), started(), CONTRACTS, SETTINGS, context=context)
    row = await db.pool.fetchrow(
        "SELECT purpose, model, build_id, phase, cost_usd, input_tokens FROM llm_calls"
    )
    assert dict(row) == {
        "purpose": "builder",
        "model": MODEL,
        "build_id": 42,
        "phase": 0,
        "cost_usd": result.cost_usd,
        "input_tokens": result.usage.input_tokens,
    }
    assert result.cost_usd is not None and result.cost_usd > 0
