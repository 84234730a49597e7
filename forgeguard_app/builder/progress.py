"""The build's progress comment, rendered from its state (pure), and published in the build pull request.

One comment in the build pull request, edited in place (found again by its
hidden marker, `commands.progress_comment`); the issue gets one comment that links to
it. Every value from outside ForgeGuard (plans, tool inputs, findings, people's
messages, file paths) is untrusted: the template escapes every value for
Markdown unless it is marked `Trusted`. The text stays under GitHub's 65,536
characters: finished phases beyond the last few fold into `<details>`, and
the cut of `commands.progress_comment.compose` is the last resort.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from forgeguard_app.builder.state import BuildState, PhaseState
from forgeguard_app.builder.store import Interjection, ToolCall
from forgeguard_app.commands import progress_comment as comments
from forgeguard_app.markdown import Trusted, markdown_env

KIND = "build"
LINK_KIND = "build-link"
MAX_TEXT = 60_000
OPEN_PHASES = 4
"""Phases shown in full besides the current one; older finished phases are folded."""


_ENV = markdown_env("templates/builder", trim_blocks=True, lstrip_blocks=True)

STATUS_WORDS = {
    "running": "🔨 building",
    "paused": "⏸️ paused: waiting for a command",
    "succeeded": "✅ every phase passed: ready for review",
    "draft": "📝 finished with skipped phases: left as a draft",
    "aborted": "🛑 aborted",
    "cancelled": "🛑 cancelled",
    "failed": "💥 stopped",
    "timed_out": "⌛ timed out",
}


def phase_state(phase: PhaseState) -> str:
    """pending, running, passed, failed k times, paused, skipped: in words with an icon."""
    failed = (
        f", failed {phase.failures} {'time' if phase.failures == 1 else 'times'}" if phase.failures else ""
    )
    if phase.status == "passed":
        return f"✅ passed{failed}"
    if phase.status == "skipped":
        who = f" by @{phase.skipped_by}" if phase.skipped_by else ""
        return f"⏭️ skipped{who}{failed}"
    if phase.status == "paused":
        return f"⏸️ paused{failed}"
    if phase.status == "running":
        if not phase.failures:
            return "🔨 running"
        return f"🔁 failed {phase.failures} {'time' if phase.failures == 1 else 'times'}, retrying"
    return "⏳ pending"


def format_cost(value: float) -> str:
    return f"${value:.4f}" if value < 1 else f"${value:.2f}"


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


@dataclass(frozen=True)
class PhaseCost:
    phase: int
    purpose: str
    input_tokens: int
    output_tokens: int
    cost_usd: float


@dataclass
class ProgressView:
    """Everything the comment shows besides the state: links, the tool log's tail, costs."""

    build_id: int
    status: str
    build_url: str
    repo_url: str
    branch: str
    issue_number: int
    state: BuildState
    tool_calls: list[ToolCall] = field(default_factory=list)
    waiting: list[Interjection] = field(default_factory=list)
    cost_usd: float = 0.0
    budget_usd: float = 25.0
    budget_raise_usd: float = 25.0
    phase_costs: list[PhaseCost] = field(default_factory=list)
    tool_counts: dict[str, int] = field(default_factory=dict)
    end_reason: str | None = None
    now: float = field(default_factory=time.time)


def _commit_link(view: ProgressView, sha: str) -> Trusted:
    return Trusted(f"[`{sha[:7]}`]({view.repo_url}/commit/{sha})")


def _check_link(view: ProgressView, run_id: int | None) -> Trusted:
    return Trusted(f"[check run]({view.repo_url}/runs/{run_id})") if run_id else Trusted("")


def _phase_rows(view: ProgressView) -> list[dict[str, Any]]:
    rows = []
    for index, phase in enumerate(view.state.phases):
        attempts = [
            {
                "number": a.number,
                "commit": _commit_link(view, a.sha),
                "check": _check_link(view, a.check_run_id),
                "conclusion": a.conclusion,
                "ref": a.ref,
            }
            for a in phase.attempts
        ]
        rows.append(
            {
                "index": index,
                "title": phase.title,
                "state": Trusted(phase_state(phase)),
                "phase": phase,
                "attempts": attempts,
                "done": phase.status in ("passed", "skipped"),
            }
        )
    return rows


def _costs_by_phase(view: ProgressView) -> list[dict[str, Any]]:
    table: dict[int, dict[str, Any]] = {}
    for cost in view.phase_costs:
        row = table.setdefault(
            cost.phase, {"phase": cost.phase, "builder": 0.0, "planner": 0.0, "input": 0, "output": 0}
        )
        row["builder" if cost.purpose != "planner" else "planner"] += cost.cost_usd
        row["input"] += cost.input_tokens
        row["output"] += cost.output_tokens
    return [
        {
            **row,
            "builder": Trusted(format_cost(row["builder"])),
            "planner": Trusted(format_cost(row["planner"])),
        }
        for _, row in sorted(table.items())
    ]


def render_progress(view: ProgressView) -> str:
    """The comment's text (without the marker)."""
    state = view.state
    rows = _phase_rows(view)
    current = state.phase
    done = [r for r in rows if r["done"]]
    folded = done[:-OPEN_PHASES] if len(done) > OPEN_PHASES else []
    shown = [r for r in rows if r not in folded]
    elapsed = (state.finished_at or view.now) - state.started_at
    calls = [
        {
            "tool": Trusted(f"`{c.tool}`"),
            "input": c.input_summary,
            "result": c.error or c.result_summary,
            "error": c.error is not None,
            "duration": Trusted(f"{c.duration_ms / 1000:.1f}s"),
        }
        for c in view.tool_calls
    ]
    context: dict[str, Any] = {
        "view": view,
        "state": state,
        "status": Trusted(STATUS_WORDS.get(view.status, view.status)),
        "ended": view.status not in ("running", "paused"),
        "build_link": Trusted(f"[build #{view.build_id}]({view.build_url})"),
        "branch": Trusted(f"`{view.branch}`"),
        "folded": folded,
        "shown": shown,
        "current": current,
        "plan": current.plan if current else [],
        "tool_calls": calls,
        "acknowledged": state.acknowledged,
        "waiting": view.waiting,
        "cost": Trusted(format_cost(view.cost_usd)),
        "budget": Trusted(format_cost(view.budget_usd)),
        "budget_raise": Trusted(format_cost(view.budget_raise_usd)),
        "pause": state.pause,
        "paused_phase": current if state.pause is not None else None,
        "elapsed": Trusted(format_seconds(elapsed)),
        "passed": [p for p in state.phases if p.status == "passed"],
        "skipped": [p for p in state.phases if p.status == "skipped"],
        "tool_counts": sorted(view.tool_counts.items()),
        "phase_costs": _costs_by_phase(view),
        "end_reason": view.end_reason or state.end_reason,
    }
    text = _ENV.get_template("progress.md.j2").render(context)
    if len(text) > MAX_TEXT:
        context["tool_calls"] = calls[-3:]
        context["folded"] = [r for r in rows if r["done"]]
        context["shown"] = [r for r in rows if not r["done"]]
        text = _ENV.get_template("progress.md.j2").render(context)
    return text


def issue_link_text(build_id: int, pull_url: str, build_url: str) -> str:
    """The one comment in the issue: where the build happens."""
    return (
        f"🔨 ForgeGuard is building these contracts in {pull_url} "
        f"(progress there, and on [the build's page]({build_url})).\n"
    )


async def publish(
    api: Any,
    conn: Any,
    *,
    repository_id: int,
    owner: str,
    repo: str,
    pull_number: int,
    build_id: int,
    text: str,
) -> int:
    """Create or edit the progress comment in the build pull request."""
    return await comments.show(
        api,
        conn,
        repository_id=repository_id,
        owner=owner,
        repo=repo,
        issue_number=pull_number,
        kind=KIND,
        key=str(build_id),
        text=text,
    )
