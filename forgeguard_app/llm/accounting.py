"""Usage accounting for model calls: the price table (data in prices.json), costs, the llm_calls table."""

from __future__ import annotations

import json
import logging
import pathlib
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forgeguard_app.db import Database

log = logging.getLogger(__name__)

PRICES_FILE = pathlib.Path(__file__).with_name("prices.json")
MILLION = Decimal(1_000_000)
_DATE_SUFFIX = re.compile(r"-(\d{8}|latest)$")


@dataclass(frozen=True)
class Usage:
    """Token counts of one call as the Messages API reports them."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_creation_input_tokens + other.cache_creation_input_tokens,
            self.cache_read_input_tokens + other.cache_read_input_tokens,
        )

    @property
    def total_input_tokens(self) -> int:
        """Every prompt token the model read, whether cached or not."""
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens


@dataclass(frozen=True)
class Price:
    """USD per million tokens for one model."""

    input: Decimal
    output: Decimal
    cache_write: Decimal
    cache_read: Decimal


@dataclass(frozen=True)
class CallContext:
    """What a call is about, recorded with it (ids only, never content)."""

    installation_id: int | None = None
    intake_id: int | None = None
    build_id: int | None = None
    phase: int | None = None
    """The build's phase number the call belongs to (builder and planner calls)."""


def parse_prices(data: dict[str, Any]) -> dict[str, Price]:
    """The price table from prices.json's structure."""
    return {
        name: Price(
            input=Decimal(str(p["input"])),
            output=Decimal(str(p["output"])),
            cache_write=Decimal(str(p["cache_write"])),
            cache_read=Decimal(str(p["cache_read"])),
        )
        for name, p in data["models"].items()
    }


@lru_cache(maxsize=1)
def load_prices() -> dict[str, Price]:
    """The price table shipped with the app."""
    return parse_prices(json.loads(PRICES_FILE.read_text()))


def price_for(model: str, prices: dict[str, Price] | None = None) -> Price | None:
    """The model's price; a dated name (`claude-sonnet-4-5-20250929`) falls back to its base name."""
    table = load_prices() if prices is None else prices
    if model in table:
        return table[model]
    return table.get(_DATE_SUFFIX.sub("", model))


def cost_usd(model: str, usage: Usage, prices: dict[str, Price] | None = None) -> Decimal | None:
    """What the call cost in USD, or None (with a warning) when the model is not in the table."""
    price = price_for(model, prices)
    if price is None:
        log.warning("no price for model %r: its calls are recorded with an unknown cost", model)
        return None
    total = (
        usage.input_tokens * price.input
        + usage.output_tokens * price.output
        + usage.cache_creation_input_tokens * price.cache_write
        + usage.cache_read_input_tokens * price.cache_read
    ) / MILLION
    return total.quantize(Decimal("0.000001"))


async def record_call(
    db: Database,
    *,
    purpose: str,
    model: str,
    context: CallContext,
    usage: Usage,
    cost: Decimal | None,
    duration_ms: int,
    status: str,
    error: str | None = None,
    request_id: str | None = None,
) -> None:
    """One row in llm_calls."""
    await db.pool.execute(
        """
        INSERT INTO llm_calls (purpose, model, installation_id, intake_id, build_id, phase, input_tokens,
            output_tokens, cache_creation_input_tokens, cache_read_input_tokens, cost_usd, duration_ms,
            status, error, request_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
        """,
        purpose,
        model,
        context.installation_id,
        context.intake_id,
        context.build_id,
        context.phase,
        usage.input_tokens,
        usage.output_tokens,
        usage.cache_creation_input_tokens,
        usage.cache_read_input_tokens,
        cost,
        duration_ms,
        status,
        error,
        request_id,
    )


async def intake_cost(db: Database, intake_id: int) -> Decimal:
    """The sum of the known costs of an intake's calls (calls of unknown price count as 0)."""
    value = await db.pool.fetchval(
        "SELECT coalesce(sum(cost_usd), 0) FROM llm_calls WHERE intake_id = $1", intake_id
    )
    return Decimal(value)


async def intake_usage(db: Database, intake_id: int) -> Usage:
    """The summed token counts of an intake's calls."""
    row = await db.pool.fetchrow(
        """
        SELECT coalesce(sum(input_tokens), 0) AS i, coalesce(sum(output_tokens), 0) AS o,
               coalesce(sum(cache_creation_input_tokens), 0) AS cw,
               coalesce(sum(cache_read_input_tokens), 0) AS cr
        FROM llm_calls WHERE intake_id = $1
        """,
        intake_id,
    )
    assert row is not None
    return Usage(int(row["i"]), int(row["o"]), int(row["cw"]), int(row["cr"]))
