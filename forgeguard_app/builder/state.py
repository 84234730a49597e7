"""A build's state (builder.md §State) as plain data, and the decisions that move it on.

Nothing here does I/O. `steps` loads a `BuildState` from the `builds` row,
asks these functions what happens next, does the I/O, and saves the state
with the next step queued in the same transaction. The state is JSON through
`to_json` / `from_json`, so a worker that dies loses nothing a step saved.

A build is a sequence of steps, each one of `Step`:

- `start_phase`: the model is told the phase (the turn names it `Phase <N> -- <name>`);
- `model`: one model turn; its tool calls wait in the conversation, answered one per `tool` step;
- `tool`: the first pending tool call is executed;
- `signoff`: tests, evidence, audit, attempt commit, check run, and on a pass the authorization;
- `planner`: the recovery planner after a failed audit, then the retry (or the pause);
- `skip`: a person's `/forge skip` puts the last attempt on the branch with its authorization;
- `finish`: the end (ready for review, or the draft with the reason).

A paused or ended build has no step (`next` is `none`); a command queues one.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from forgeguard_app.intake.phases import Phase

Step = Literal["start_phase", "model", "tool", "signoff", "planner", "skip", "finish", "none"]
Status = Literal["running", "paused", "succeeded", "draft", "aborted", "cancelled", "failed", "timed_out"]
PhaseStatus = Literal["pending", "running", "passed", "paused", "skipped"]
PauseKind = Literal["failures", "budget", "model", "phase_timeout", "error", "stalled"]

ACTIVE: frozenset[str] = frozenset({"running", "paused"})
ENDED: frozenset[str] = frozenset({"succeeded", "draft", "aborted", "cancelled", "failed", "timed_out"})
CANCELLED_BY_COMMAND = "cancelled by a person's `/forge cancel`"
"""The end reason of a build stopped by `/forge cancel` (other stops say theirs: `stops`)."""

EMPTY_TURNS_BEFORE_PAUSE = 3
"""Model turns in a row without a tool call before the build pauses (the model is stuck talking)."""


@dataclass
class Task:
    """One task of the current phase's plan (`plan_phase`), ticked by `complete_task`."""

    text: str
    done: bool = False


@dataclass
class FailedCheck:
    """A check that failed in the phase's last audit, for the pause message and the model."""

    code: str
    name: str
    detail: str
    findings: list[str] = field(default_factory=list)


@dataclass
class Attempt:
    """One attempt commit of a phase and its audit."""

    number: int
    sha: str
    conclusion: str
    check_run_id: int | None = None
    ref: str | None = None
    audit_id: int | None = None
    title: str = ""


@dataclass
class PhaseState:
    """One phase of the build and how it went."""

    number: int
    name: str
    objective: str = ""
    deliverables: list[str] = field(default_factory=list)
    exit_criteria: list[str] = field(default_factory=list)
    status: PhaseStatus = "pending"
    failures: int = 0
    """Failed audits of this phase, over the whole build."""
    failures_since_retry: int = 0
    """Failed audits since the phase started or since the last `/forge retry` (the pause counter)."""
    base_head: str = ""
    """The branch head when the phase started (the diff log's BASE_HEAD)."""
    attempts: list[Attempt] = field(default_factory=list)
    authorization_sha: str | None = None
    skipped_by: str | None = None
    plan: list[Task] = field(default_factory=list)
    last_failed: list[FailedCheck] = field(default_factory=list)
    started_at: float | None = None
    finished_at: float | None = None
    tool_calls: int = 0
    test_runs: int = 0
    planner_calls: int = 0

    @property
    def title(self) -> str:
        """`Phase <N> -- <name>`, the way every message names a phase."""
        return f"Phase {self.number} -- {self.name}"

    @property
    def next_attempt(self) -> int:
        return len(self.attempts) + 1

    def to_phase(self) -> Phase:
        """The phase as the contracts' parser gives it (what the prompt and the verdict name)."""
        return Phase(
            number=self.number,
            name=self.name,
            objective=self.objective,
            deliverables=list(self.deliverables),
            exit_criteria=list(self.exit_criteria),
        )

    @classmethod
    def from_phase(cls, phase: Phase) -> PhaseState:
        return cls(
            number=phase.number,
            name=phase.name,
            objective=phase.objective,
            deliverables=list(phase.deliverables),
            exit_criteria=list(phase.exit_criteria),
        )


@dataclass
class Pause:
    """Why a build waits for a person, and which step a `retry` runs."""

    kind: PauseKind
    reason: str
    since: float
    resume: Step = "model"


@dataclass
class BuildState:
    """Everything a build needs to go on from where it stopped."""

    phases: list[PhaseState]
    current: int = 0
    next: Step = "start_phase"
    signoff: dict[str, Any] | None = None
    """The `sign_off_phase` input waiting for the sign-off sequence."""
    signoff_tool_id: str | None = None
    conversation: dict[str, Any] = field(default_factory=dict)
    """The model's conversation, as `builder.conversation` serializes it."""
    pause: Pause | None = None
    branch_head: str = ""
    branch_tree: str = ""
    contracts_head: str = ""
    budget_raises: int = 0
    """Retries after a budget pause: each raises the budget by the configured amount."""
    skip_by: str | None = None
    empty_turns: int = 0
    retry_message: str | None = None
    pending_notes: list[str] = field(default_factory=list)
    """Trusted text from the app for the model's next user turn (nudges)."""
    pending_retry: dict[str, str] | None = None
    """A `/forge retry` message (login, message) for the model's next turn, framed as untrusted."""
    acknowledged: list[dict[str, Any]] = field(default_factory=list)
    """Interjections delivered to the model: login, message, phase (shown in the progress comment)."""
    ended: str | None = None
    end_reason: str | None = None
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    tool_counts: dict[str, int] = field(default_factory=dict)
    audits: int = 0
    loopbacks: int = 0
    planner_calls: int = 0
    test_runs: int = 0
    test_runs_passed: int = 0
    last_tests: str | None = None

    # -- views

    @property
    def phase(self) -> PhaseState | None:
        """The phase being built, or None once every phase is done."""
        return self.phases[self.current] if 0 <= self.current < len(self.phases) else None

    @property
    def all_passed(self) -> bool:
        return all(p.status == "passed" for p in self.phases)

    @property
    def skipped(self) -> list[PhaseState]:
        return [p for p in self.phases if p.status == "skipped"]

    # -- JSON

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BuildState:
        data = dict(data)
        phases = []
        for raw in data.pop("phases"):
            raw = dict(raw)
            raw["plan"] = [Task(**t) for t in raw.get("plan", [])]
            raw["last_failed"] = [FailedCheck(**f) for f in raw.get("last_failed", [])]
            raw["attempts"] = [Attempt(**a) for a in raw.get("attempts", [])]
            phases.append(PhaseState(**raw))
        pause = data.get("pause")
        data["pause"] = Pause(**pause) if pause else None
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(phases=phases, **{k: v for k, v in data.items() if k in known})


# --------------------------------------------------------------------------- transitions


def new_state(phases: list[PhaseState], *, contracts_head: str, branch_tree: str) -> BuildState:
    """A build that starts with its first phase, on a branch made at `contracts_head`."""
    return BuildState(
        phases=phases,
        branch_head=contracts_head,
        branch_tree=branch_tree,
        contracts_head=contracts_head,
    )


def start_phase(state: BuildState, now: float) -> PhaseState:
    """The current phase begins: running, its BASE_HEAD the branch head; the model turn follows."""
    phase = state.phase
    assert phase is not None, "no phase left to start"
    phase.status = "running"
    phase.base_head = state.branch_head
    phase.started_at = now
    phase.failures_since_retry = 0
    phase.plan = []
    state.next = "model"
    state.empty_turns = 0
    return phase


def after_model_turn(state: BuildState, has_calls: bool) -> None:
    """The model answered: its tool calls run one by one; a turn without one is nudged, then paused."""
    if has_calls:
        state.empty_turns = 0
        state.next = "tool"
        return
    state.empty_turns += 1
    if state.empty_turns >= EMPTY_TURNS_BEFORE_PAUSE:
        pause(
            state,
            "stalled",
            f"The model answered {state.empty_turns} turns in a row without using a tool.",
            time.time(),
            resume="model",
        )
        return
    state.pending_notes.append(
        "Use the tools to work on the phase, and call sign_off_phase when its deliverables are done."
    )
    state.next = "model"


def after_tool(state: BuildState, more_calls: bool) -> None:
    """A tool ran: the next pending tool call, or the next model turn, follows."""
    state.next = "tool" if more_calls else "model"


def count_tool(state: BuildState, name: str) -> None:
    state.tool_counts[name] = state.tool_counts.get(name, 0) + 1
    if state.phase is not None:
        state.phase.tool_calls += 1


def plan_phase(state: BuildState, tasks: list[str]) -> str:
    """`plan_phase`: the plan replaces the previous one; the result numbers the tasks."""
    phase = state.phase
    assert phase is not None
    phase.plan = [Task(t.strip()) for t in tasks if t.strip()]
    lines = [f"{i}. {t.text}" for i, t in enumerate(phase.plan, start=1)]
    return f"Plan for {phase.title}:\n" + "\n".join(lines)


def complete_task(state: BuildState, number: int) -> tuple[str, bool]:
    """`complete_task`: tick task `number` (from 1); an error when there is no such task."""
    phase = state.phase
    assert phase is not None
    if not 1 <= number <= len(phase.plan):
        return f"There is no task {number}: the plan has {len(phase.plan)} tasks.", True
    phase.plan[number - 1].done = True
    left = sum(1 for t in phase.plan if not t.done)
    return f"Task {number} done ({left} left).", False


def begin_signoff(state: BuildState, tool_id: str, signoff: dict[str, Any]) -> None:
    """`sign_off_phase` was called: the app's sign-off sequence is the next step."""
    state.signoff = dict(signoff)
    state.signoff_tool_id = tool_id
    state.next = "signoff"


def after_pass(
    state: BuildState, attempt: Attempt, authorization_sha: str, tree_sha: str, now: float
) -> None:
    """The audit passed: the branch moved to the authorization; the next phase, or the end."""
    phase = state.phase
    assert phase is not None
    phase.attempts.append(attempt)
    phase.status = "passed"
    phase.authorization_sha = authorization_sha
    phase.finished_at = now
    phase.last_failed = []
    state.branch_head = authorization_sha
    state.branch_tree = tree_sha
    state.audits += 1
    _leave_phase(state)


def after_fail(state: BuildState, attempt: Attempt, failed: list[FailedCheck]) -> None:
    """The audit failed: the attempt is kept on its own ref; the recovery planner is next."""
    phase = state.phase
    assert phase is not None
    phase.attempts.append(attempt)
    phase.failures += 1
    phase.failures_since_retry += 1
    phase.last_failed = failed
    state.audits += 1
    state.loopbacks += 1
    state.next = "planner"


def after_planner(state: BuildState, pause_after: int, now: float, more_calls: bool) -> bool:
    """After the planner: the model tries again, or the build pauses; True when it paused."""
    phase = state.phase
    assert phase is not None
    state.signoff = None
    state.signoff_tool_id = None
    if phase.failures_since_retry >= pause_after:
        pause(
            state,
            "failures",
            f"The audit of {phase.title} failed {phase.failures_since_retry} times in a row.",
            now,
            resume="model",
        )
        return True
    state.next = "tool" if more_calls else "model"
    return False


def after_skip(
    state: BuildState, attempt_sha: str, skip_sha: str, tree_sha: str, login: str, now: float
) -> None:
    """A person skipped the paused phase: its last attempt and the skip entry are on the branch."""
    phase = state.phase
    assert phase is not None
    phase.status = "skipped"
    phase.skipped_by = login
    phase.authorization_sha = skip_sha
    phase.finished_at = now
    state.branch_head = skip_sha
    state.branch_tree = tree_sha
    state.pause = None
    state.signoff = None
    state.signoff_tool_id = None
    _leave_phase(state)


def _leave_phase(state: BuildState) -> None:
    state.current += 1
    if state.phase is None:
        state.next = "finish"
    else:
        state.next = "start_phase"


def pause(state: BuildState, kind: PauseKind, reason: str, now: float, *, resume: Step = "model") -> None:
    """The build waits for a person: no step is queued until a command."""
    state.pause = Pause(kind=kind, reason=reason, since=now, resume=resume)
    if state.phase is not None:
        state.phase.status = "paused"
    state.next = "none"


def resume(state: BuildState, message: str | None, login: str, now: float) -> Step:
    """`/forge retry [message]`: the pause counter starts afresh; the paused step runs again."""
    assert state.pause is not None, "the build is not paused"
    kind = state.pause.kind
    step = state.pause.resume
    state.pause = None
    phase = state.phase
    if phase is not None:
        phase.status = "running"
        phase.failures_since_retry = 0
        phase.started_at = now
    if kind == "budget":
        state.budget_raises += 1
    state.empty_turns = 0
    if message:
        state.pending_retry = {"login": login, "message": message}
    elif kind == "failures" and phase is not None:
        state.pending_notes.append(f"A person asked you to retry {phase.title}. Fix the failed checks above.")
    state.next = step
    return step


def end(state: BuildState, status: Status, reason: str, now: float) -> None:
    """The build is over; `finish` publishes it."""
    state.ended = status
    state.end_reason = reason
    state.finished_at = now
    state.next = "finish"


def final_status(state: BuildState) -> Status:
    """How a build that went through all its phases ends: ready, or a draft when one was skipped."""
    return "succeeded" if state.all_passed else "draft"


def commit_message(phase: PhaseState, attempt: int) -> str:
    """`forge: Phase <N> -- <name>`, with `(attempt k)` from the second attempt on."""
    suffix = f" (attempt {attempt})" if attempt > 1 else ""
    return f"forge: {phase.title}{suffix}"


def attempt_ref(issue_number: int, phase: PhaseState, attempt: int) -> str:
    """Where a failed attempt is kept: `refs/forge/attempts/<issue>/phase-<N>/<k>`."""
    return f"refs/forge/attempts/{issue_number}/phase-{phase.number}/{attempt}"


def build_branch(issue_number: int) -> str:
    return f"forge/build-{issue_number}"


def parse_duration(text: object, default: float) -> float:
    """`24h`, `60m`, `90s`, `2d` or a number of seconds; `default` for anything else."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text) if text > 0 else default
    if not isinstance(text, str):
        return default
    value = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        if value and value[-1] in units:
            number = float(value[:-1])
            return number * units[value[-1]] if number > 0 else default
        number = float(value)
    except ValueError:
        return default
    return number if number > 0 else default


@dataclass(frozen=True)
class BuilderConfig:
    """The `builder:` section of `.github/forgeguard.yml` on the default branch, with the defaults."""

    max_cost_usd: float = 25.0
    budget_raise_usd: float = 25.0
    pause_after: int = 3
    pause_timeout: float = 24 * 3600.0
    phase_timeout: float = 60 * 60.0
    max_builds_per_hour: int = 5

    @classmethod
    def from_section(cls, raw: object) -> BuilderConfig:
        if not isinstance(raw, dict):
            return cls()
        default = cls()

        def number(key: str, fallback: float) -> float:
            value = raw.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                return float(value)
            return fallback

        max_cost = number("max_cost_usd", default.max_cost_usd)
        return cls(
            max_cost_usd=max_cost,
            budget_raise_usd=number("budget_raise_usd", max_cost),
            pause_after=int(number("pause_after", default.pause_after)),
            pause_timeout=parse_duration(raw.get("pause_timeout"), default.pause_timeout),
            phase_timeout=parse_duration(raw.get("phase_timeout"), default.phase_timeout),
            max_builds_per_hour=int(number("max_builds_per_hour", default.max_builds_per_hour)),
        )

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> BuilderConfig:
        if not data:
            return cls()
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
