"""Benchmark: input tokens a scripted five-phase build sends, with prompt caching and compaction and without.

Runs the real builder turn (`forgeguard_app.builder.model.take_turn`), the
real conversation and the real Anthropic SDK (streaming) against the fake
Messages API of the tests, whose prefix cache honours `cache_control`
breakpoints like the API (minimum cacheable prefix 1024 tokens, tokens
counted as ceil(characters / 4)). The scripted model builds a five-phase
project: per phase it plans, lists and reads files, writes four modules and a
test file, checks their syntax, runs the tests, marks its tasks and signs
off; phases 2 and 4 fail their first audit (an undeclared import) and are
repaired after the recovery planner's plan. Tool results are synthesised
with realistic sizes (files of 3–6 KB, test output of 2 KB). The contracts
are the intake's sample contracts grown to a realistic size (about 40 KB:
a 30-route physics.yaml, a 12-table schema, 120 design decisions, five phases).

Two runs on fresh servers:
- optimized: breakpoints on the tools, the instructions, the contracts and
  the conversation's last block; compaction near the context window;
- baseline: no cache_control, no compaction, the whole history every call.

"Billable input tokens" are input-token equivalents at Anthropic's prices:
uncached input x 1, cache writes x 1.25, cache reads x 0.1. Builder calls
only (the planner's two calls are reported apart; they are the same in both
runs). The target is a ratio (optimized / baseline) under 0.35.

    .venv/bin/python bench/builder_cache.py [--model claude-sonnet-4-6] [--context-tokens 200000] [--check]
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import sys
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from forgeguard_app.builder.conversation import Conversation, FailedCheck, SignoffVerdict  # noqa: E402
from forgeguard_app.builder.model import TurnSettings, take_turn  # noqa: E402
from forgeguard_app.builder.planner import plan_remediation  # noqa: E402
from forgeguard_app.intake.phases import Phase, parse_phases  # noqa: E402
from forgeguard_app.llm import LLM, Usage, cost_usd  # noqa: E402
from tests.builder.model_support import sample_contracts  # noqa: E402
from tests.fixtures.anthropic import (  # noqa: E402
    FakeAnthropic,
    Reply,
    ScriptedBuilder,
    check_syntax,
    complete_task,
    list_directory,
    plan_phase,
    read_file,
    remediation_plan,
    run_tests,
    sign_off_phase,
    turn,
    write_file,
)

TARGET = 0.35
PHASES = 5
FAILING_PHASES = (2, 4)
AREAS = ("core", "catalogue", "loans", "members", "reports")
FINDING = "app/{area}/client.py:1: `requests` is imported but not declared in pyproject.toml"


def realistic_contracts() -> dict[str, str]:
    """The sample contracts, grown to the size of a real project's."""
    files = sample_contracts()
    routes = "".join(
        f"  /api/{area}/{item}:\n    get:\n      summary: List {item} of {area}\n"
        f"      responses: {{'200': {{description: the {item}}}}}\n"
        f"    post:\n      summary: Create a {item} in {area}\n"
        f"      responses: {{'201': {{description: created}}}}\n"
        for area in AREAS
        for item in ("items", "history", "search", "export", "settings", "audit")
    )
    files["Forge/Contracts/physics.yaml"] = files["Forge/Contracts/physics.yaml"] + routes
    tables = "".join(
        f"\n## Table `{name}`\n\nHolds the {name} of the library.\n\n| column | type | constraints |\n"
        "| --- | --- | --- |\n"
        + "".join(f"| {col} | text | not null |\n" for col in ("id", "name", "created_at", "notes"))
        for name in (
            "books", "members", "loans", "reservations", "shelves", "authors",
            "publishers", "reminders", "fines", "events", "volunteers", "audit_log",
        )
    )  # fmt: skip
    files["Forge/Contracts/schema.md"] = files["Forge/Contracts/schema.md"] + tables
    phases = "# Phases\n\n" + "".join(
        f"## Phase {n} -- {AREAS[n].title()}\n\n**Objective:** Deliver the {AREAS[n]} part of Shelf: "
        f"its data access, services, HTTP handlers and tests, within the boundaries.\n\n"
        "**Deliverables:**\n"
        + "".join(f"- `app/{AREAS[n]}/{m}.py`: the {m} of {AREAS[n]}\n" for m in ("models", "service", "api"))
        + "- tests for every route\n\n**Exit criteria:**\n- `pytest -q` passes\n"
        f"- every route of physics.yaml under /api/{AREAS[n]} answers\n\nContext: "
        + "The volunteers use phones at the desk. " * 12
        + "\n\n"
        for n in range(PHASES)
    )
    files["Forge/Contracts/phases.md"] = phases
    decisions = "".join(
        f"- Decision {i}: the {AREAS[i % PHASES]} module keeps its rule {i} in the service layer, "
        "logs every change to audit_log and answers errors as problem+json (RFC 9457).\n"
        for i in range(120)
    )
    files["Forge/Contracts/blueprint.md"] = (
        files["Forge/Contracts/blueprint.md"] + "\n## Decisions\n\n" + decisions
    )
    return files


def code(path: str, size: int) -> str:
    """Plausible Python source of about `size` characters."""
    lines = [f'"""{path}: generated for the benchmark."""', "", "from __future__ import annotations", ""]
    n = 0
    while sum(len(line) + 1 for line in lines) < size:
        lines += [
            f"def handler_{n}(request: dict[str, object]) -> dict[str, object]:",
            f'    """Answer request {n} with the matching records."""',
            f"    rows = [r for r in request.get('rows', []) if r != {n}]  # type: ignore[attr-defined]",
            "    return {'count': len(rows), 'rows': rows}",
            "",
        ]
        n += 1
    return "\n".join(lines)


def phase_script(number: int) -> list[Reply]:
    """The scripted model's turns for one phase (a failed first sign-off where FAILING_PHASES says)."""
    area = AREAS[number]
    modules = [f"app/{area}/{m}.py" for m in ("models", "service", "api", "client")]
    test = f"tests/test_{area}.py"
    claimed = [*modules, test]
    turns = [
        turn(plan_phase(*(f"Write {m}" for m in modules), f"Test {area}", "Run the tests"), say="Planning."),
        turn(list_directory("."), read_file("pyproject.toml")),
    ]
    if number:
        previous = AREAS[number - 1]
        turns.append(turn(read_file(f"app/{previous}/service.py"), read_file(f"app/{previous}/api.py")))
    for index, module in enumerate(modules, start=1):
        turns.append(turn(write_file(module, code(module, 3000 + 500 * index)), say=f"Writing {module}."))
        turns.append(turn(check_syntax(module), complete_task(index)))
    turns += [
        turn(write_file(test, code(test, 4000))),
        turn(run_tests(f"pytest -q {test}")),
        turn(run_tests("pytest -q"), complete_task(len(modules) + 1), complete_task(len(modules) + 2)),
        turn(sign_off_phase(claimed)),
    ]
    if number in FAILING_PHASES:
        turns += [
            turn(read_file("pyproject.toml"), say="Declaring requests."),
            turn(write_file("pyproject.toml", code("pyproject.toml", 1200))),
            turn(run_tests("pytest -q")),
            turn(sign_off_phase([*claimed, "pyproject.toml"])),
        ]
    return turns


def tool_result(name: str, data: dict[str, Any]) -> str:
    """What the sandbox would answer, at a realistic size."""
    if name == "read_file":
        return code(str(data["path"]), 5000)
    if name == "list_directory":
        return "\n".join(["Forge/", "app/", "tests/", "pyproject.toml", "README.md"])
    if name == "write_file":
        return f"Wrote {len(str(data['content']).encode())} bytes to {data['path']}"
    if name == "run_tests":
        return "exit code 0; 14 passed, 0 failed\n" + "tests/test_x.py::test_case PASSED\n" * 55
    if name == "check_syntax":
        return "No errors"
    if name == "plan_phase":
        return "\n".join(f"{i}. {t}" for i, t in enumerate(data["tasks"], start=1))
    return "Done."


@dataclass(frozen=True)
class RunFigures:
    calls: int
    usage: Usage
    billable_input: Decimal
    cost: Decimal | None
    compactions: int
    planner: Usage


def billable(usage: Usage) -> Decimal:
    """Input-token equivalents: uncached x1, cache writes x1.25, cache reads x0.1."""
    return (
        Decimal(usage.input_tokens)
        + Decimal(usage.cache_creation_input_tokens) * Decimal("1.25")
        + Decimal(usage.cache_read_input_tokens) * Decimal("0.1")
    )


async def build(
    llm: LLM, settings: TurnSettings, phases: list[Phase], contracts: dict[str, str]
) -> Conversation:
    """Drive the scripted build: each turn's calls answered in order, sign-offs audited by the script."""
    conversation = Conversation()
    failed_once: set[int] = set()
    for phase in phases:
        conversation.start_phase(phase, total=len(phases))
        passed = False
        while not passed:
            await take_turn(llm, conversation, contracts, settings)
            while (call := conversation.next_call()) is not None:
                if call.errors:
                    conversation.add_tool_result(call.id, "\n".join(call.errors), is_error=True)
                elif call.name != "sign_off_phase":
                    conversation.add_tool_result(call.id, tool_result(call.name, call.input))
                elif phase.number in FAILING_PHASES and phase.number not in failed_once:
                    failed_once.add(phase.number)
                    area = AREAS[phase.number]
                    failed = [
                        FailedCheck("A9", "Dependencies", "1 undeclared import", (FINDING.format(area=area),))
                    ]
                    plan = await plan_remediation(
                        llm, model=settings.model, phase=phase, failed=failed, contracts=contracts, files={}
                    )
                    verdict = SignoffVerdict(False, phase, tuple(failed), plan.text() if plan else None)
                    conversation.add_signoff_result(call.id, verdict)
                else:
                    conversation.add_signoff_result(
                        call.id, SignoffVerdict(True, phase, notes=("Tests: PASS",))
                    )
                    passed = True
    return conversation


async def run(model: str, context_tokens: int, *, optimized: bool) -> RunFigures:
    server = FakeAnthropic()
    await server.start()
    turns = [t for n in range(PHASES) for t in phase_script(n)]
    plan = remediation_plan("requests is not declared.", "Add `requests>=2.31` to pyproject.toml.")
    script = ScriptedBuilder(turns, planner=plan)
    server.respond_with(script)
    contracts = realistic_contracts()
    phases = parse_phases(contracts["Forge/Contracts/phases.md"])
    settings = TurnSettings(model=model, context_tokens=context_tokens, cache=optimized, compact=optimized)
    llm = LLM(server.settings(), None, max_retries=0)
    try:
        conversation = await build(llm, settings, phases, contracts)
    finally:
        await llm.close()
        await server.close()
    if script.turns:
        raise SystemExit(f"the scripted build stopped with {len(script.turns)} turns left")
    usage = sum((Usage(**r.usage) for r in script.builder_requests), Usage())
    planner = sum((Usage(**r.usage) for r in script.planner_requests), Usage())
    return RunFigures(
        len(script.builder_requests),
        usage,
        billable(usage),
        cost_usd(model, usage),
        conversation.compactions,
        planner,
    )


def report(model: str, context_tokens: int, optimized: RunFigures, baseline: RunFigures) -> str:
    ratio = optimized.billable_input / baseline.billable_input

    def row(label: str, a: object, b: object) -> str:
        return f"{label:<36}{a!s:>14}{b!s:>18}"

    rows = [
        f"Scripted five-phase build, model {model}, context window {context_tokens:,} tokens, "
        f"contracts {sum(len(t) for t in realistic_contracts().values()):,} characters",
        "(fake Messages API, tokens = ceil(chars/4); builder calls only)",
        "",
        row("", "baseline", "cached+compacted"),
        row("model calls", baseline.calls, optimized.calls),
        row("uncached input tokens", baseline.usage.input_tokens, optimized.usage.input_tokens),
        row(
            "cache write tokens",
            baseline.usage.cache_creation_input_tokens,
            optimized.usage.cache_creation_input_tokens,
        ),
        row(
            "cache read tokens",
            baseline.usage.cache_read_input_tokens,
            optimized.usage.cache_read_input_tokens,
        ),
        row("all prompt tokens", baseline.usage.total_input_tokens, optimized.usage.total_input_tokens),
        row("compactions", baseline.compactions, optimized.compactions),
        row(
            "billable input (x1, x1.25, x0.1)",
            f"{baseline.billable_input:.0f}",
            f"{optimized.billable_input:.0f}",
        ),
        row("cost USD (incl. output)", f"{baseline.cost or 0:.4f}", f"{optimized.cost or 0:.4f}"),
        row(
            "planner prompt tokens (apart)",
            baseline.planner.total_input_tokens,
            optimized.planner.total_input_tokens,
        ),
        "",
        f"ratio billable input cached/baseline: {ratio:.3f} (target < {TARGET:.2f})",
        f"ratio of all prompt tokens (compaction alone): "
        f"{optimized.usage.total_input_tokens / baseline.usage.total_input_tokens:.3f}",
    ]
    return "\n".join(rows)


async def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--model", default="claude-sonnet-4-6")
    parser.add_argument("--context-tokens", type=int, default=200_000)
    parser.add_argument("--check", action="store_true", help="exit 1 when the ratio misses the target")
    args = parser.parse_args()
    optimized = await run(args.model, args.context_tokens, optimized=True)
    baseline = await run(args.model, args.context_tokens, optimized=False)
    print(report(args.model, args.context_tokens, optimized, baseline))
    ratio = optimized.billable_input / baseline.billable_input
    return 1 if args.check and ratio >= Decimal(str(TARGET)) else 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
