"""Costs from the price table, and the llm_calls rows every call leaves."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from forgeguard_app.db import Database
from forgeguard_app.llm import LLM, CallContext, LLMUnavailable, Usage, cost_usd, intake_cost
from forgeguard_app.llm.accounting import intake_usage, parse_prices, price_for
from tests.fixtures.anthropic import FakeAnthropic, overloaded, text

PRICES = parse_prices({"models": {"m": {"input": 3, "output": 15, "cache_write": 3.75, "cache_read": 0.3}}})


def test_cost_charges_each_kind_of_token_at_its_own_price() -> None:
    usage = Usage(
        input_tokens=1_000_000,
        output_tokens=100_000,
        cache_creation_input_tokens=200_000,
        cache_read_input_tokens=2_000_000,
    )
    assert cost_usd("m", usage, PRICES) == Decimal("3") + Decimal("1.5") + Decimal("0.75") + Decimal("0.6")


def test_a_dated_model_name_uses_its_base_price() -> None:
    assert price_for("m-20250929", PRICES) == PRICES["m"]


def test_an_unknown_model_has_no_cost_and_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    assert cost_usd("mystery", Usage(input_tokens=10), PRICES) is None
    assert "no price for model 'mystery'" in caplog.text


def test_the_shipped_price_table_knows_the_default_models() -> None:
    from forgeguard_app.settings import DEFAULT_BUILDER_MODEL, DEFAULT_INTAKE_MODEL, DEFAULT_PLANNER_MODEL

    for model in (DEFAULT_INTAKE_MODEL, DEFAULT_BUILDER_MODEL, DEFAULT_PLANNER_MODEL):
        assert price_for(model) is not None, model


async def _call(llm: LLM, intake_id: int) -> Any:
    return await llm.call_tool(
        purpose="intake.turn",
        model="claude-haiku-4-5",
        system="s",
        messages=[{"role": "user", "content": "hello"}],
        tools=[],
        context=CallContext(installation_id=7, intake_id=intake_id),
    )


async def test_every_call_leaves_a_row_with_its_tokens_and_cost(
    db: Database, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.queue(text("one"))
    llm = LLM(fake_anthropic.settings(), db)
    try:
        result = await _call(llm, intake_id=1)
    finally:
        await llm.close()
    row = await db.pool.fetchrow("SELECT * FROM llm_calls")
    assert row is not None
    assert (row["purpose"], row["model"], row["installation_id"], row["intake_id"], row["status"]) == (
        "intake.turn",
        "claude-haiku-4-5",
        7,
        1,
        "ok",
    )
    assert (row["input_tokens"], row["output_tokens"]) == (
        result.usage.input_tokens,
        result.usage.output_tokens,
    )
    assert row["cost_usd"] == result.cost_usd
    assert row["duration_ms"] >= 0


async def test_a_failed_call_leaves_an_unavailable_row_without_cost(
    db: Database, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.respond_with(lambda _r: overloaded())
    llm = LLM(fake_anthropic.settings(), db, max_retries=0)
    try:
        with pytest.raises(LLMUnavailable):
            await _call(llm, intake_id=1)
    finally:
        await llm.close()
    row = await db.pool.fetchrow("SELECT status, error, cost_usd FROM llm_calls")
    assert row is not None
    assert (row["status"], row["cost_usd"]) == ("unavailable", None)
    assert "overloaded_error" in row["error"]


async def test_an_intakes_cost_is_the_sum_of_its_calls_only(
    db: Database, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.queue(text("one"), text("two"), text("three"))
    llm = LLM(fake_anthropic.settings(), db)
    try:
        results = [
            await _call(llm, intake_id=1),
            await _call(llm, intake_id=1),
            await _call(llm, intake_id=2),
        ]
    finally:
        await llm.close()
    assert await intake_cost(db, 1) == results[0].cost_usd + results[1].cost_usd
    assert await intake_usage(db, 1) == results[0].usage + results[1].usage


async def test_an_intake_without_calls_costs_nothing(db: Database) -> None:
    assert await intake_cost(db, 99) == Decimal(0)
