"""The LLM wrapper against the fake Messages API, through the real SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest

from forgeguard_app.llm import LLM, LLMError, LLMUnavailable, text_block, tool
from tests.fixtures.anthropic import ErrorReply, FakeAnthropic, overloaded, rate_limited, text, tool_call

ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"colour": {"type": "string", "enum": ["red", "blue"]}},
    "required": ["colour"],
    "additionalProperties": False,
}
TOOLS = [tool("answer", "Give the answer.", ANSWER_SCHEMA)]
MESSAGES: list[dict[str, Any]] = [{"role": "user", "content": "Which colour?"}]


@pytest.fixture
async def llms(fake_anthropic: FakeAnthropic) -> AsyncIterator[list[LLM]]:
    made: list[LLM] = []
    yield made
    for llm in made:
        await llm.close()


@pytest.fixture
def make_llm(fake_anthropic: FakeAnthropic, llms: list[LLM]) -> Callable[..., LLM]:
    def make(server: FakeAnthropic, **kwargs: Any) -> LLM:
        llm = LLM(server.settings(), None, **kwargs)
        llms.append(llm)
        return llm

    return make


async def call(llm: LLM, **overrides: Any) -> Any:
    params: dict[str, Any] = {
        "purpose": "test",
        "model": "claude-haiku-4-5",
        "system": "You answer with the tool.",
        "messages": MESSAGES,
        "tools": TOOLS,
    }
    params.update(overrides)
    return await llm.call_tool(**params)


async def test_a_tool_call_comes_back_with_its_input(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    fake_anthropic.queue(tool_call("answer", {"colour": "red"}))
    result = await call(make_llm(fake_anthropic))
    assert [(t.name, t.input, t.valid) for t in result.tool_uses] == [("answer", {"colour": "red"}, True)]
    assert result.stop_reason == "tool_use"


async def test_a_streamed_call_assembles_the_tool_input_from_json_deltas(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    long_input = {"colour": "blue"}
    fake_anthropic.queue(tool_call("answer", long_input, say="Here is a fairly long preamble of text."))
    fake_anthropic.stream_chunk = 3
    result = await call(make_llm(fake_anthropic), stream=True)
    assert fake_anthropic.requests[0].streamed
    assert [t.input for t in result.tool_uses] == [long_input]
    assert result.text == "Here is a fairly long preamble of text."


async def test_a_streamed_call_reports_the_final_usage(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    fake_anthropic.queue(tool_call("answer", {"colour": "blue"}))
    result = await call(make_llm(fake_anthropic), stream=True)
    sent = fake_anthropic.requests[0].usage
    assert result.usage.input_tokens == sent["input_tokens"] > 0
    assert result.usage.output_tokens == sent["output_tokens"] > 1


async def test_long_outputs_are_streamed_without_asking(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    fake_anthropic.queue(tool_call("answer", {"colour": "red"}))
    await call(make_llm(fake_anthropic), max_tokens=16000)
    assert fake_anthropic.requests[0].streamed


async def test_a_tool_input_that_breaks_the_schema_is_flagged_with_the_reason(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    fake_anthropic.queue(tool_call("answer", {"colour": "green"}))
    result = await call(make_llm(fake_anthropic))
    use = result.tool_uses[0]
    assert not use.valid
    assert "colour: 'green' is not one of ['red', 'blue']" in use.errors


async def test_a_call_to_an_unknown_tool_is_flagged(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    fake_anthropic.queue(tool_call("approve", {}))
    result = await call(make_llm(fake_anthropic))
    assert result.tool_uses[0].errors == ("unknown tool 'approve'; the tools are answer",)


async def test_usage_reports_cache_writes_then_cache_reads(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    long_system = [text_block("Rules of the game. " * 400, cache=True)]
    fake_anthropic.queue(text("one"), text("two"))
    llm = make_llm(fake_anthropic)
    first = await call(llm, system=long_system)
    second = await call(llm, system=long_system)
    assert first.usage.cache_creation_input_tokens > 1024 and first.usage.cache_read_input_tokens == 0
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert second.usage.cache_creation_input_tokens == 0


async def test_the_cost_comes_from_the_price_table(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    fake_anthropic.queue(text("hello"))
    result = await call(make_llm(fake_anthropic), model="claude-haiku-4-5")
    u = result.usage
    expected = (Decimal(u.input_tokens) * 1 + Decimal(u.output_tokens) * 5) / 1_000_000
    assert result.cost_usd == expected.quantize(Decimal("0.000001"))


async def test_an_unknown_model_costs_none_instead_of_failing(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    fake_anthropic.queue(text("hello"))
    result = await call(make_llm(fake_anthropic), model="claude-imaginary-9")
    assert result.cost_usd is None


async def test_rate_limits_are_retried_by_the_sdk(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    fake_anthropic.queue(rate_limited(), overloaded(), tool_call("answer", {"colour": "red"}))
    result = await call(make_llm(fake_anthropic, max_retries=3))
    assert result.first("answer") is not None
    assert [r.status for r in fake_anthropic.requests] == [429, 529, 200]


async def test_persistent_overload_raises_llm_unavailable(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    fake_anthropic.respond_with(lambda _request: overloaded())
    with pytest.raises(LLMUnavailable, match="overloaded_error"):
        await call(make_llm(fake_anthropic, max_retries=2))
    assert len(fake_anthropic.requests) == 3


async def test_persistent_rate_limits_on_a_stream_raise_llm_unavailable(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    fake_anthropic.respond_with(lambda _request: rate_limited())
    with pytest.raises(LLMUnavailable, match="rate_limit_error"):
        await call(make_llm(fake_anthropic, max_retries=1), stream=True)


async def test_an_overload_in_the_middle_of_a_stream_raises_llm_unavailable(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    fake_anthropic.queue(overloaded(mid_stream=True))
    with pytest.raises(LLMUnavailable):
        await call(make_llm(fake_anthropic), stream=True)


async def test_a_wrong_api_key_is_an_llm_error_not_unavailability(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    llm = make_llm(fake_anthropic)
    fake_anthropic.api_key = "sk-ant-other"
    with pytest.raises(LLMError) as caught:
        await call(llm)
    assert not isinstance(caught.value, LLMUnavailable)
    assert "authentication_error" in str(caught.value)


async def test_the_error_message_never_contains_the_api_key(
    fake_anthropic: FakeAnthropic, make_llm: Callable[..., LLM]
) -> None:
    fake_anthropic.queue(ErrorReply(400, "invalid_request_error", "bad request"))
    with pytest.raises(LLMError) as caught:
        await call(make_llm(fake_anthropic))
    assert fake_anthropic.api_key not in str(caught.value)


def test_an_llm_without_an_api_key_refuses_to_start() -> None:
    from forgeguard_app.settings import Settings

    with pytest.raises(LLMError, match="ANTHROPIC_API_KEY"):
        LLM(Settings.from_mapping({}), None)
