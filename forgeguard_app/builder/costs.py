"""What a build's model calls cost, per phase and in total, and the budget arithmetic.

The figures come from `llm_calls` (one row per call, purpose `builder` or
`planner`, with the build id and the phase), so they survive restarts and
need no counter of their own. The budget is the repository's
`builder: {max_cost_usd: 25}`; each `/forge retry` after a budget pause
raises it by `budget_raise_usd` (the same amount unless configured).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from forgeguard_app.db import Executor
from forgeguard_app.llm.accounting import Usage

BUILDER = "builder"
PLANNER = "planner"
DEFAULT_MAX_COST_USD = Decimal(25)
ZERO = Decimal(0)


@dataclass(frozen=True)
class PhaseCost:
    """The calls of one phase (phase None: calls not tied to a phase)."""

    phase: int | None
    builder_usd: Decimal = ZERO
    planner_usd: Decimal = ZERO
    builder_calls: int = 0
    planner_calls: int = 0
    usage: Usage = field(default_factory=Usage)
    unpriced_calls: int = 0
    """Calls of a model missing from prices.json (counted as 0 USD)."""

    @property
    def total_usd(self) -> Decimal:
        return self.builder_usd + self.planner_usd


@dataclass(frozen=True)
class BuildCosts:
    """Per phase (in phase order) and in total."""

    phases: list[PhaseCost] = field(default_factory=list)

    @property
    def total_usd(self) -> Decimal:
        return sum((p.total_usd for p in self.phases), ZERO)

    @property
    def planner_calls(self) -> int:
        return sum(p.planner_calls for p in self.phases)

    @property
    def usage(self) -> Usage:
        return sum((p.usage for p in self.phases), Usage())

    def phase(self, number: int | None) -> PhaseCost:
        """The cost of one phase (zero when it made no call)."""
        return next((p for p in self.phases if p.phase == number), PhaseCost(number))


async def build_costs(db: Executor, build_id: int) -> BuildCosts:
    """The recorded calls of a build, summed per phase and purpose (failed calls count with their tokens)."""
    rows = await db.fetch(
        """
        SELECT phase, purpose, count(*) AS calls, coalesce(sum(cost_usd), 0) AS usd,
               count(*) FILTER (WHERE cost_usd IS NULL AND status = 'ok') AS unpriced,
               coalesce(sum(input_tokens), 0) AS i, coalesce(sum(output_tokens), 0) AS o,
               coalesce(sum(cache_creation_input_tokens), 0) AS cw,
               coalesce(sum(cache_read_input_tokens), 0) AS cr
        FROM llm_calls WHERE build_id = $1
        GROUP BY phase, purpose
        ORDER BY phase NULLS FIRST, purpose
        """,
        build_id,
    )
    merged: dict[int | None, PhaseCost] = {}
    for row in rows:
        phase = row["phase"]
        before = merged.get(phase, PhaseCost(phase))
        usage = Usage(int(row["i"]), int(row["o"]), int(row["cw"]), int(row["cr"]))
        usd, calls = Decimal(row["usd"]), int(row["calls"])
        is_planner = row["purpose"] == PLANNER
        merged[phase] = PhaseCost(
            phase=phase,
            builder_usd=before.builder_usd + (ZERO if is_planner else usd),
            planner_usd=before.planner_usd + (usd if is_planner else ZERO),
            builder_calls=before.builder_calls + (0 if is_planner else calls),
            planner_calls=before.planner_calls + (calls if is_planner else 0),
            usage=before.usage + usage,
            unpriced_calls=before.unpriced_calls + int(row["unpriced"]),
        )
    return BuildCosts(list(merged.values()))


@dataclass(frozen=True)
class Budget:
    """The configured maximum, raised by `raise_by` at each retry after a budget pause."""

    max_cost_usd: Decimal = DEFAULT_MAX_COST_USD
    raise_by: Decimal = DEFAULT_MAX_COST_USD

    def limit(self, raises: int) -> Decimal:
        """The budget after `raises` retries that followed a budget pause."""
        return self.max_cost_usd + self.raise_by * max(raises, 0)

    def reached(self, spent: Decimal, raises: int) -> bool:
        """True when `spent` has reached the budget: the build pauses before its next model call."""
        return spent >= self.limit(raises)

    def left(self, spent: Decimal, raises: int) -> Decimal:
        """What remains (never negative)."""
        return max(self.limit(raises) - spent, ZERO)


def budget_from_config(builder: Mapping[str, Any] | None) -> tuple[Budget, list[str]]:
    """The budget from `.github/forgeguard.yml`'s `builder:` section, and the mistakes found (defaults apply).

    Keys: `max_cost_usd` (default 25) and `budget_raise_usd` (default: `max_cost_usd`).
    """
    section = builder or {}
    errors: list[str] = []

    def amount(key: str, default: Decimal) -> Decimal:
        value = section.get(key)
        if value is None:
            return default
        try:
            parsed = Decimal(str(value)) if not isinstance(value, bool) else None
        except InvalidOperation:
            parsed = None
        if parsed is None or not parsed.is_finite() or parsed <= 0:
            errors.append(
                f"builder.{key} must be a positive number of USD, found {value!r}; {default} applies"
            )
            return default
        return parsed

    maximum = amount("max_cost_usd", DEFAULT_MAX_COST_USD)
    return Budget(maximum, amount("budget_raise_usd", maximum)), errors
