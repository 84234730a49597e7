"""Benchmark: input tokens a scripted eight-section intake sends, with and without caching and trimming.

Runs the real questionnaire (`forgeguard_app.intake.conversation`) and the
real Anthropic SDK against the fake Messages API of the tests, whose prefix
cache honours `cache_control` breakpoints like the API (minimum cacheable
prefix 1024 tokens, tokens counted as ceil(characters / 4)). The scripted model
answers every section with the sample project of the tests.

Two runs on fresh servers:
- optimized: prompt caching (breakpoints after the system prompt and after the
  turn's answer) and history trimming (the last few turns verbatim);
- baseline: no cache_control, whole transcript every call.

"Billable input tokens" are input-token equivalents at Anthropic's prices:
uncached input x 1, cache writes x 1.25, cache reads x 0.1. The target is a
ratio (optimized / baseline) under 0.40.

    .venv/bin/python bench/intake_cost.py [--model claude-sonnet-4-5] [--check]
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import sys
from dataclasses import dataclass
from decimal import Decimal

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from forgeguard_app.intake.conversation import Questionnaire  # noqa: E402
from forgeguard_app.intake.sections import SECTION_KEYS  # noqa: E402
from forgeguard_app.intake.state import IntakeState  # noqa: E402
from forgeguard_app.llm import LLM, Usage, cost_usd  # noqa: E402
from tests.fixtures.anthropic import FakeAnthropic  # noqa: E402
from tests.intake.scripted import scripted_model  # noqa: E402

TARGET = 0.40
ANSWERS = {
    "product_intent": (
        "We run a small community library out of a church hall, about 3,000 books and 250 members. Today "
        "loans are written in a paper ledger and we lose track of overdue books. We want a web app called "
        "Shelf where volunteers can look up a book, lend it to a member with a due date, take it back, and "
        "see what is overdue. Members should be able to search the catalogue from home. Payments, fines "
        "and inter-library loans are out of scope."
    ),
    "tech_stack": (
        "Python is what our volunteers know. FastAPI for the backend seems right, with PostgreSQL because "
        "the hosting we were offered includes it. A small React frontend is fine, one of us knows it. Tests "
        "with pytest. Keep dependencies in pyproject.toml, and use SQLAlchemy for the database access."
    ),
    "database_schema": (
        "Books with title, author, ISBN (unique when present) and shelf location; members with name and "
        "email; loans linking a book and a member with the lending date, due date and return date. A book "
        "can only have one open loan at a time. We do not need history beyond the loans themselves."
    ),
    "api_endpoints": (
        "Listing and searching books, fetching one book, adding and editing books (volunteers only), "
        "lending (create a loan) and returning (close a loan), listing overdue loans, and a health check. "
        "Handlers under app/api please."
    ),
    "ui_requirements": (
        "Two screens for now: the catalogue with a search box, and the loans screen with overdue loans at "
        "the top. Large type, high contrast, usable on a phone, because volunteers often use their own "
        "phones at the desk."
    ),
    "architectural_boundaries": (
        "Keep HTTP handlers free of SQL, keep the database code out of the web layer, and services should "
        "not import FastAPI. The usual api / services / repositories split under app/ is fine."
    ),
    "deployment_target": (
        "Render, with their managed PostgreSQL. It starts with uvicorn. Environment: DATABASE_URL and a "
        "SECRET_KEY for sessions."
    ),
    "phase_breakdown": (
        "Start with a skeleton that boots, then the catalogue, then loans and returns, then the overdue "
        "list and the frontend. Each phase with tests."
    ),
}


@dataclass(frozen=True)
class RunFigures:
    calls: int
    usage: Usage
    billable_input: Decimal
    cost: Decimal | None


def billable(usage: Usage) -> Decimal:
    """Input-token equivalents: uncached x1, cache writes x1.25, cache reads x0.1."""
    return (
        Decimal(usage.input_tokens)
        + Decimal(usage.cache_creation_input_tokens) * Decimal("1.25")
        + Decimal(usage.cache_read_input_tokens) * Decimal("0.1")
    )


async def run(model: str, *, optimized: bool) -> RunFigures:
    server = FakeAnthropic()
    await server.start()
    server.respond_with(scripted_model)
    llm = LLM(server.settings(), None, max_retries=0)
    try:
        questionnaire = Questionnaire(llm, model, cache=optimized, trim=optimized)
        outcome = await questionnaire.start(IntakeState(title="Shelf"))
        for key in SECTION_KEYS:
            outcome = await questionnaire.answer(outcome.state, ANSWERS[key])
        if not outcome.finished:
            raise SystemExit("the scripted intake did not finish")
    finally:
        await llm.close()
        await server.close()
    usage = Usage()
    for request in server.requests:
        usage = usage + Usage(**request.usage)
    return RunFigures(len(server.requests), usage, billable(usage), cost_usd(model, usage))


def report(model: str, optimized: RunFigures, baseline: RunFigures) -> str:
    ratio = optimized.billable_input / baseline.billable_input
    rows = [
        f"Scripted eight-section intake, model {model} (fake Messages API, tokens = ceil(chars/4))",
        "",
        f"{'':<34}{'baseline':>14}{'cached+trimmed':>16}",
        f"{'model calls':<34}{baseline.calls:>14}{optimized.calls:>16}",
        f"{'uncached input tokens':<34}{baseline.usage.input_tokens:>14}{optimized.usage.input_tokens:>16}",
        f"{'cache write tokens':<34}{baseline.usage.cache_creation_input_tokens:>14}"
        f"{optimized.usage.cache_creation_input_tokens:>16}",
        f"{'cache read tokens':<34}{baseline.usage.cache_read_input_tokens:>14}"
        f"{optimized.usage.cache_read_input_tokens:>16}",
        f"{'all prompt tokens':<34}{baseline.usage.total_input_tokens:>14}"
        f"{optimized.usage.total_input_tokens:>16}",
        f"{'billable input (x1, x1.25, x0.1)':<34}{baseline.billable_input:>14.0f}"
        f"{optimized.billable_input:>16.0f}",
        f"{'cost USD (incl. output)':<34}{baseline.cost or 0:>14.4f}{optimized.cost or 0:>16.4f}",
        "",
        f"ratio billable input cached/baseline: {ratio:.3f} (target < {TARGET:.2f})",
        f"ratio of all prompt tokens (trimming alone): "
        f"{optimized.usage.total_input_tokens / baseline.usage.total_input_tokens:.3f}",
    ]
    return "\n".join(rows)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="claude-sonnet-4-5")
    parser.add_argument("--check", action="store_true", help="exit 1 when the ratio misses the target")
    args = parser.parse_args()
    optimized = await run(args.model, optimized=True)
    baseline = await run(args.model, optimized=False)
    print(report(args.model, optimized, baseline))
    ratio = optimized.billable_input / baseline.billable_input
    return 1 if args.check and ratio >= Decimal(str(TARGET)) else 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
