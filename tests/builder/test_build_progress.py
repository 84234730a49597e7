"""The build's progress comment as a pure function of its state: escaped, folded, under GitHub's limit."""

from __future__ import annotations

from forgeguard_app.builder.progress import ProgressView, render_progress
from forgeguard_app.builder.state import Attempt, BuildState, FailedCheck, PhaseState, Task, pause
from forgeguard_app.builder.store import ToolCall


def view(state: BuildState, status: str = "running", **more: object) -> ProgressView:
    return ProgressView(
        build_id=7,
        status=status,
        build_url="https://forgeguard.test/builds/7",
        repo_url="https://github.com/octo-org/shelf",
        branch="forge/build-1",
        issue_number=1,
        state=state,
        **more,  # type: ignore[arg-type]
    )


def test_untrusted_text_is_escaped_in_the_plan_the_tool_log_and_the_findings() -> None:
    phase = PhaseState(1, "Items", status="running")
    phase.plan = [Task("ping @octo-org/admins and <img src=x onerror=alert(1)>")]
    phase.last_failed = [FailedCheck("A1", "Scope compliance", "see [here](http://evil.test)", ["@someone"])]
    state = BuildState(phases=[phase])
    pause(state, "failures", "The audit failed.", 0.0)
    call = ToolCall(1, 1, "write_file", "path: @team", "![x](http://evil.test/t.png)", 12, None)

    text = render_progress(view(state, "paused", tool_calls=[call]))

    assert "@octo-org/admins" not in text and "<img" not in text
    assert "](http://evil.test" not in text and "![x]" not in text
    assert "`/forge retry [message]`" in text


def test_a_long_build_stays_under_githubs_limit_with_old_phases_folded() -> None:
    phases = [PhaseState(n, f"Phase name {n} " + "x" * 200, status="passed") for n in range(1, 60)]
    for phase in phases:
        phase.attempts = [Attempt(k, f"{k:040x}", "failure") for k in range(1, 15)]
    phases.append(PhaseState(60, "Last", status="running", plan=[Task("t " * 300) for _ in range(30)]))
    state = BuildState(phases=phases, current=59)
    calls = [ToolCall(60, 1, "read_file", "path: " + "a/" * 200, "r" * 500, 5, None) for _ in range(8)]

    text = render_progress(view(state, tool_calls=calls))

    assert len(text) < 65_536
    assert "<details><summary>" in text and "earlier phases" in text
    assert "#### Now: Phase 60 -- Last" in text


def test_the_end_of_a_build_shows_its_summary() -> None:
    passed = PhaseState(1, "Items", status="passed")
    skipped = PhaseState(2, "Loans", status="skipped", skipped_by="octocat", failures=3)
    state = BuildState(phases=[passed, skipped], current=2, audits=4, loopbacks=3, planner_calls=3)
    state.end_reason = "skipped: Phase 2 -- Loans"

    text = render_progress(view(state, "draft", tool_counts={"write_file": 4, "run_tests": 2}))

    assert "left as a draft" in text
    assert "Phases passed: 1 of 2; skipped: Phase 2 -- Loans" in text
    assert "Audits: 4, loopbacks: 3, planner calls: 3" in text
    assert "run\\_tests 2" in text
