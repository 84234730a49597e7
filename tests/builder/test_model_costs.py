"""A build's cost per phase and in total from the recorded calls, and the budget arithmetic."""

from __future__ import annotations

from decimal import Decimal

from forgeguard_app.builder.costs import Budget, budget_from_config, build_costs
from forgeguard_app.db import Database
from forgeguard_app.llm.accounting import CallContext, Usage, record_call


async def record(
    db: Database, purpose: str, build_id: int, phase: int | None, usd: str | None, tokens: int
) -> None:
    await record_call(
        db,
        purpose=purpose,
        model="claude-sonnet-4-6",
        context=CallContext(build_id=build_id, phase=phase),
        usage=Usage(input_tokens=tokens, output_tokens=1),
        cost=Decimal(usd) if usd is not None else None,
        duration_ms=5,
        status="ok",
    )


async def test_costs_are_summed_per_phase_and_purpose_for_one_build(db: Database) -> None:
    await record(db, "builder", 1, 0, "0.10", 100)
    await record(db, "builder", 1, 0, "0.20", 200)
    await record(db, "planner", 1, 0, "0.50", 300)
    await record(db, "builder", 1, 1, "1.00", 400)
    await record(db, "builder", 2, 0, "9.00", 999)
    costs = await build_costs(db.pool, 1)
    assert [
        (p.phase, p.builder_usd, p.planner_usd, p.builder_calls, p.planner_calls) for p in costs.phases
    ] == [
        (0, Decimal("0.30"), Decimal("0.50"), 2, 1),
        (1, Decimal("1.00"), Decimal("0"), 1, 0),
    ]
    assert costs.total_usd == Decimal("1.80")
    assert costs.planner_calls == 1
    assert costs.phase(0).usage == Usage(input_tokens=600, output_tokens=3)


async def test_a_call_of_unknown_price_counts_as_zero_and_is_flagged(db: Database) -> None:
    await record(db, "builder", 1, 0, None, 100)
    costs = await build_costs(db.pool, 1)
    assert costs.total_usd == Decimal(0)
    assert costs.phase(0).unpriced_calls == 1


async def test_a_build_without_calls_costs_nothing(db: Database) -> None:
    costs = await build_costs(db.pool, 77)
    assert costs.total_usd == Decimal(0) and costs.phase(3).total_usd == Decimal(0)


def test_the_budget_is_reached_at_the_maximum() -> None:
    budget = Budget(Decimal(25), Decimal(25))
    assert not budget.reached(Decimal("24.99"), raises=0)
    assert budget.reached(Decimal("25.00"), raises=0)


def test_each_retry_after_a_budget_pause_raises_the_limit_by_the_configured_amount() -> None:
    budget = Budget(Decimal(25), Decimal(10))
    assert budget.limit(2) == Decimal(45)
    assert not budget.reached(Decimal(30), raises=1)
    assert budget.left(Decimal(30), raises=1) == Decimal(5)
    assert budget.left(Decimal(60), raises=1) == Decimal(0)


def test_the_budget_comes_from_the_builder_section_with_defaults() -> None:
    assert budget_from_config(None) == (Budget(Decimal(25), Decimal(25)), [])
    assert budget_from_config({"max_cost_usd": 5}) == (Budget(Decimal(5), Decimal(5)), [])
    assert budget_from_config({"max_cost_usd": 5, "budget_raise_usd": 2.5}) == (
        Budget(Decimal(5), Decimal("2.5")),
        [],
    )


def test_a_bad_budget_value_is_reported_and_the_default_applies() -> None:
    budget, errors = budget_from_config({"max_cost_usd": "lots"})
    assert budget == Budget(Decimal(25), Decimal(25))
    assert errors == ["builder.max_cost_usd must be a positive number of USD, found 'lots'; 25 applies"]
