"""The recovery planner: after a failed audit, a separate model call writes a remediation plan.

It reads the findings, the contracts and the current files (bounded: the
files the findings name first, then the claimed files, then the rest) and
answers through one tool, `remediation_plan`, whose input is checked against
a JSON schema. It never acts: the plan is text the builder reads in the
`sign_off_phase` result. The planner's failure is not the build's: any
error, an unavailable model or an invalid answer gives None, and the builder
gets the findings alone.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from forgeguard_app.builder.conversation import FailedCheck
from forgeguard_app.builder.prompt import CONTRACTS_DIR, contracts_text, fence, phase_title, render_template
from forgeguard_app.intake.phases import Phase
from forgeguard_app.llm.accounting import CallContext, Usage
from forgeguard_app.llm.client import LLM, LLMError, text_block, tool

log = logging.getLogger(__name__)

PURPOSE = "planner"
TOOL_NAME = "remediation_plan"
MAX_TOKENS = 4096
MAX_FILE_CHARS = 16_000
MAX_FILES_CHARS = 80_000
MAX_STEPS = 12

PLAN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "diagnosis": {"type": "string", "minLength": 1, "maxLength": 2000},
        "steps": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_STEPS,
            "items": {
                "type": "object",
                "properties": {
                    "action": {"type": "string", "minLength": 1, "maxLength": 1000},
                    "path": {"type": "string", "maxLength": 1000},
                    "fixes": {"type": "array", "items": {"type": "string", "maxLength": 10}},
                },
                "required": ["action"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["diagnosis", "steps"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class PlanStep:
    action: str
    path: str | None = None
    fixes: tuple[str, ...] = ()
    """The check codes (A1, A9…) this step addresses."""


@dataclass(frozen=True)
class RemediationPlan:
    """The planner's answer, and what the call cost."""

    diagnosis: str
    steps: tuple[PlanStep, ...]
    usage: Usage = field(default_factory=Usage)

    def text(self) -> str:
        """The plan as the builder reads it (inside the `sign_off_phase` result)."""
        lines = [self.diagnosis.strip(), ""]
        for number, step in enumerate(self.steps, start=1):
            where = f" (`{step.path}`)" if step.path else ""
            fixes = f" [{', '.join(step.fixes)}]" if step.fixes else ""
            lines.append(f"{number}. {step.action.strip()}{where}{fixes}")
        return "\n".join(lines).strip()


def planner_tools() -> list[dict[str, Any]]:
    return [
        tool(
            TOOL_NAME,
            "Give the remediation plan: what went wrong, then the steps that fix every finding.",
            PLAN_SCHEMA,
            cache=True,
        )
    ]


def select_files(
    files: Mapping[str, str], failed: Sequence[FailedCheck], claimed: Sequence[str] = ()
) -> list[tuple[str, str]]:
    """The files to show the planner, as (path, text): named in findings first, then claimed, then the rest.

    The contracts are left out (the system prompt holds them). Each file is
    cut at MAX_FILE_CHARS and all together stop at MAX_FILES_CHARS.
    """
    shown = [p for p in files if not p.startswith(f"{CONTRACTS_DIR}/")]  # the contracts are in the system
    named = [p for p in shown if any(f.startswith(f"{p}:") or f == p for c in failed for f in c.findings)]
    order = list(dict.fromkeys([*named, *(p for p in claimed if p in shown), *sorted(shown)]))
    out: list[tuple[str, str]] = []
    budget = MAX_FILES_CHARS
    for path in order:
        if budget <= 0:
            break
        text = files[path]
        limit = min(MAX_FILE_CHARS, budget)
        if len(text) > limit:
            text = text[:limit] + f"\n[… cut at {limit:,} of {len(files[path]):,} characters …]"
        budget -= len(text)
        out.append((path, text))
    return out


def planner_request(
    phase: Phase,
    failed: Sequence[FailedCheck],
    contracts: Mapping[str, str],
    files: Mapping[str, str],
    claimed: Sequence[str] = (),
    *,
    attempt: int | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The planner call's (system, messages): instructions and contracts cached; findings, files as data."""
    system = [
        text_block(render_template("planner.md.j2"), cache=True),
        text_block(contracts_text(contracts), cache=True),
    ]
    body = render_template(
        "planner_turn.md.j2",
        title=phase_title(phase),
        attempt=attempt,
        failed=failed,
        files=[(fence(p), t) for p, t in select_files(files, failed, claimed)],
    )
    return system, [{"role": "user", "content": [{"type": "text", "text": body}]}]


async def plan_remediation(
    llm: LLM,
    *,
    model: str,
    phase: Phase,
    failed: Sequence[FailedCheck],
    contracts: Mapping[str, str],
    files: Mapping[str, str],
    claimed: Sequence[str] = (),
    attempt: int | None = None,
    context: CallContext | None = None,
) -> RemediationPlan | None:
    """Ask the planner model (settings `planner_model`) for a plan; None when it cannot give a valid one.

    `files` maps working-tree paths to text (the core passes the current
    files; binary files left out). The call is recorded with purpose
    `planner` (put the build id and phase in `context`).
    """
    system, messages = planner_request(phase, failed, contracts, files, claimed, attempt=attempt)
    try:
        result = await llm.call_tool(
            purpose=PURPOSE,
            model=model,
            system=system,
            messages=messages,
            tools=planner_tools(),
            tool_choice={"type": "tool", "name": TOOL_NAME},
            max_tokens=MAX_TOKENS,
            context=context,
        )
    except LLMError as exc:
        log.warning("the recovery planner failed, the builder gets the findings alone: %s", exc)
        return None
    use = result.first(TOOL_NAME)
    if use is None or not use.valid:
        why = "; ".join(use.errors) if use is not None else "no remediation_plan call"
        log.warning("the recovery planner gave no valid plan (%s): the builder gets the findings alone", why)
        return None
    steps = tuple(
        PlanStep(
            action=s["action"],
            path=s.get("path") or None,
            fixes=tuple(s.get("fixes", [])),
        )
        for s in use.input["steps"]
    )
    return RemediationPlan(diagnosis=use.input["diagnosis"], steps=steps, usage=result.usage)
