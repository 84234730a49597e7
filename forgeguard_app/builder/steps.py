"""One step of a build: load it, do one thing, save it with the next step queued (one transaction).

A step is one model turn, one tool call, the sign-off sequence, the recovery
planner, a person's skip, or the end (see `state`). The `builder.step` job
carries the build id and the sequence number it expects: a job whose build
has moved on (its worker died after saving) finds another number and does
nothing, and a job whose worker died before saving runs the same step again
from the saved state, where the sign-off reuses the commits it recorded.

Commands (a tool that runs a program, the sign-off's test run) run in the
build's own virtual environment (`venv`): pytest and the project's declared
dependencies, never the app's packages. When it cannot be made (no network,
a requirement pip cannot find), the call is answered with pip's output and
the build pauses with pip's errors in the progress comment; `retry` gives the
model its turn back, and its next command tries the install again.

A cancel or an abort is seen at the start of the next step, so a running
tool call always finishes first. The progress comment is edited after the
steps that change what it shows (a plan, a sign-off, a pause, the end,
messages acknowledged), and at most every `PUBLISH_EVERY` seconds otherwise.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checks.config import AuditConfig
from checks.config_file import parse_config
from forgeguard_app.builder import github_side, signoff, store
from forgeguard_app.builder import progress as progress_view
from forgeguard_app.builder import state as st
from forgeguard_app.builder.conversation import Conversation, SignoffVerdict
from forgeguard_app.builder.conversation import FailedCheck as VerdictCheck
from forgeguard_app.builder.costs import Budget, build_costs
from forgeguard_app.builder.model import ModelFailed, ModelUnavailable, TurnSettings, take_turn
from forgeguard_app.builder.planner import plan_remediation
from forgeguard_app.builder.sandbox import Sandbox, runs_python
from forgeguard_app.builder.schemas import COMPLETE_TASK, PLAN_PHASE, SIGN_OFF_PHASE
from forgeguard_app.builder.state import BuildState
from forgeguard_app.builder.store import BuildRow
from forgeguard_app.builder.tools import FILE_TOOLS, TestRun, Toolbox, default_test_command, run_project_tests
from forgeguard_app.builder.venv import VenvResult, ensure_venv
from forgeguard_app.builder.workspace import DiskFull, Workspace
from forgeguard_app.context import JobContext
from forgeguard_app.jobs import enqueue
from forgeguard_app.llm.accounting import CallContext

if TYPE_CHECKING:
    from forgeguard_app.db import Database
    from forgeguard_app.github.client import InstallationAPI

log = logging.getLogger(__name__)

STEP_JOB = "builder.step"
PUBLISH_EVERY = 20.0
"""Seconds between progress edits for steps that change little (a tool call)."""
IDLE_TURNS_BEFORE_PAUSE = 3
VENV_TOOLS = frozenset({"run_tests", "run_command"})
"""The tools that run the project's programs: in the build's virtual environment when the program
is Python's (`runs_python`); `npm test` needs none, and `check_syntax` runs the worker's own
interpreter in the sandbox, so both work while an install fails."""


async def queue_step(conn: Any, build_id: int, seq: int) -> int:
    """Queue the build's next step (inside the caller's transaction, with the state it continues)."""
    return await enqueue(
        conn, STEP_JOB, {"build_id": build_id, "seq": seq}, order_key=store.order_key(build_id)
    )


class VenvFailed(Exception):
    """The build's virtual environment could not be made: commands cannot run."""

    def __init__(self, result: VenvResult) -> None:
        super().__init__(result.reason)
        self.result = result

    @property
    def reason(self) -> str:
        """For the progress comment."""
        return f"The build's Python environment could not be made: {self.result.reason}"

    def for_model(self, what: str) -> str:
        """For the model: what did not run, and pip's output."""
        return (
            f"{what} did not run: the build's Python environment (pytest and the declared "
            f"dependencies) could not be made. The build is paused until a person retries.\n"
            f"{self.result.reason}\n\n{self.result.output}"
        )


def build_dir(ctx: JobContext, build_id: int) -> Path:
    return Path(ctx.settings.data_dir) / "builds" / str(build_id)


def build_url(ctx: JobContext, build_id: int) -> str:
    return f"{ctx.settings.public_url.rstrip('/')}/builds/{build_id}"


def summarize(value: Any, limit: int = 160) -> str:
    """A tool's input in one short line for the log (file contents left out)."""
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            if key == "content":
                parts.append(f"content: {len(str(item)):,} chars")
            else:
                text = item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)
                parts.append(f"{key}: {text}")
        value = ", ".join(parts)
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Runner:
    """The I/O around one step of one build."""

    ctx: JobContext
    api: InstallationAPI
    build: BuildRow
    contracts: dict[str, str]
    audit_config: AuditConfig
    workspace: Workspace | None = None
    sandbox: Sandbox | None = None
    tool_logs: list[store.ToolCall] = field(default_factory=list)
    delivered: list[int] = field(default_factory=list)
    publish: bool = False

    @property
    def state(self) -> BuildState:
        return self.build.state

    @property
    def pool(self) -> Any:
        return self.ctx.db.pool

    # --- the working tree -------------------------------------------------------------------

    async def tree(self) -> Workspace:
        """The working tree: the branch head plus the saved uncommitted files (rebuilt when missing)."""
        if self.workspace is None:
            overlay = await store.load_files(self.pool, self.build.id)
            folder = build_dir(self.ctx, self.build.id)
            self.workspace = await Workspace.prepare(
                self.api,
                self.build.owner,
                self.build.repo,
                self.state.branch_head,
                root=folder / "tree",
                overlay=overlay,
                cache_dir=Path(self.ctx.settings.data_dir) / "builds" / "tarballs",
            )
        return self.workspace

    async def box(self, *, python: bool) -> Sandbox:
        """The sandbox over the working tree; for Python's programs, with the build's virtual
        environment (made or reused here; `VenvFailed` when it cannot be made)."""
        cache = Path(self.ctx.settings.data_dir) / "builds" / "cache"
        if not python:
            return Sandbox((await self.tree()).root, cache_dir=cache)
        if self.sandbox is None:
            workspace = await self.tree()
            venv = build_dir(self.ctx, self.build.id) / "venv"
            maker = Sandbox(workspace.root, cache_dir=cache)
            made = await ensure_venv(maker, venv)
            if not made.ok:
                log.warning("build %s: no virtual environment: %s", self.build.id, made.reason)
                raise VenvFailed(made)
            self.sandbox = Sandbox(workspace.root, venv=venv, cache_dir=cache)
        return self.sandbox

    # --- saving -----------------------------------------------------------------------------

    async def save(self, *, status: str | None = None, end_reason: str | None = None) -> bool:
        """The state, the tool log, the uncommitted files and the next step, in one transaction."""
        async with self.pool.acquire() as conn, conn.transaction():
            if not await store.save(conn, self.build, status=status, end_reason=end_reason):
                log.info("build %s: step already saved by another worker", self.build.id)
                return False
            for call in self.tool_logs:
                await store.log_tool_call(conn, self.build.id, call)
            if self.delivered:
                phase = self.state.phase
                await store.mark_delivered(conn, self.delivered, phase.number if phase else None)
            if self.workspace is not None:
                await store.save_files(conn, self.build.id, self.workspace.pending())
            if self.state.next != "none":
                await queue_step(conn, self.build.id, self.build.seq)
        self.tool_logs.clear()
        self.delivered.clear()
        return True

    async def show_progress(self, *, force: bool = False) -> None:
        """Edit the progress comment (never fails the step: the next edit catches up)."""
        if self.build.pull_number is None:
            return
        if not force and not self.publish:
            last = self.build.updated_at.timestamp()
            if time.time() - last < PUBLISH_EVERY:
                return
        try:
            text = await render_for(self.ctx, self.build)
            async with self.pool.acquire() as conn:
                await progress_view.publish(
                    self.api,
                    conn,
                    repository_id=self.build.repository_id,
                    owner=self.build.owner,
                    repo=self.build.repo,
                    pull_number=self.build.pull_number,
                    build_id=self.build.id,
                    text=text,
                )
        except Exception as exc:
            log.warning("build %s: the progress comment could not be updated: %s", self.build.id, exc)

    # --- the step ---------------------------------------------------------------------------

    async def run(self) -> None:
        state = self.state
        if self.build.status not in st.ACTIVE and state.next != "finish":
            return
        now = time.time()
        if state.next != "finish" and self.build.abort_requested:
            st.end(state, "aborted", f"aborted by @{self.build.abort_requested}", now)
        elif state.next != "finish" and self.build.cancel_reason and self.build.status == "running":
            st.end(state, "cancelled", self.build.cancel_reason, now)
        step = state.next
        if step == "start_phase":
            await self.start_phase()
        elif step == "model":
            await self.model_turn()
        elif step == "tool":
            await self.tool()
        elif step == "signoff":
            await self.sign_off()
        elif step == "planner":
            await self.planner()
        elif step == "skip":
            await self.skip()
        elif step == "finish":
            await self.finish()
            return
        else:
            return
        status = "paused" if state.pause is not None else None
        if await self.save(status=status):
            await self.show_progress(force=status == "paused")

    async def start_phase(self) -> None:
        state = self.state
        conversation = Conversation.from_json(state.conversation or None)
        if conversation.pending_calls():
            conversation.answer_pending("Not run: the phase was already signed off.")
        phase = st.start_phase(state, time.time())
        previous = state.phases[state.current - 1] if state.current > 0 else None
        note = None
        if previous is not None and previous.status == "skipped":
            note = (
                f"{previous.title} was skipped by a person: its last attempt is on the branch as it stands, "
                "with failing checks."
            )
        conversation.start_phase(phase.to_phase(), total=len(state.phases), note=note)
        state.conversation = conversation.to_json()
        # no edit of its own: the sign-off before it and the plan after it edit the comment

    async def model_turn(self) -> None:
        state, config = self.state, self.build.config
        phase = state.phase
        assert phase is not None
        now = time.time()
        if phase.started_at is not None and now - phase.started_at > config.phase_timeout:
            allowed = config.phase_timeout
            spoken = f"{int(allowed // 60)} minutes" if allowed >= 60 else f"{allowed:g} seconds"
            st.pause(state, "phase_timeout", f"{phase.title} ran past its {spoken}.", now)
            return
        costs = await build_costs(self.pool, self.build.id)
        budget = Budget(Decimal(str(config.max_cost_usd)), Decimal(str(config.budget_raise_usd)))
        if budget.reached(costs.total_usd, state.budget_raises):
            limit = budget.limit(state.budget_raises)
            st.pause(
                state, "budget", f"The build's budget of ${limit:.2f} is spent (${costs.total_usd:.2f}).", now
            )
            return
        conversation = Conversation.from_json(state.conversation or None)
        if conversation.pending_calls():
            state.next = "tool"
            return
        for item in await store.pending_interjections(self.pool, self.build.id):
            conversation.add_interjection(item.message, login=item.login, kind="say")
            state.acknowledged.append({"login": item.login, "message": item.message, "phase": phase.number})
            self.delivered.append(item.id)
            self.publish = True
        if state.pending_retry:
            conversation.add_interjection(
                state.pending_retry["message"], login=state.pending_retry["login"], kind="retry"
            )
            state.pending_retry = None
        for note in state.pending_notes:
            conversation.add_note(note)
        state.pending_notes = []
        if self.ctx.llm is None:
            st.pause(state, "model", "The model is not configured (ANTHROPIC_API_KEY).", now)
            state.conversation = conversation.to_json()
            return
        try:
            result = await take_turn(
                self.ctx.llm,
                conversation,
                self.contracts,
                TurnSettings(model=self.ctx.settings.builder_model),
                context=CallContext(
                    installation_id=self.build.installation_id, build_id=self.build.id, phase=phase.number
                ),
            )
        except ModelUnavailable as exc:
            st.pause(state, "model", f"The model is unavailable: {exc.reason}", now, resume="model")
            state.conversation = conversation.to_json()
            return
        except ModelFailed as exc:
            st.end(state, "failed", exc.reason, now)
            state.conversation = conversation.to_json()
            return
        state.conversation = conversation.to_json()
        if result.calls:
            state.empty_turns = 0
            state.next = "tool"
            return
        state.empty_turns = conversation.idle_turns
        if conversation.idle_turns >= IDLE_TURNS_BEFORE_PAUSE:
            st.pause(
                state, "stalled", f"The model answered {conversation.idle_turns} turns without a tool.", now
            )
            return
        state.next = "model"

    async def tool(self) -> None:
        state = self.state
        phase = state.phase
        assert phase is not None
        conversation = Conversation.from_json(state.conversation or None)
        call = conversation.next_call()
        if call is None:
            state.next = "model"
            return
        started = time.monotonic()
        text, is_error, summary = "", False, ""
        no_venv: VenvFailed | None = None
        if call.errors:
            text, is_error, summary = "\n".join(call.errors), True, "invalid input"
        elif call.name == PLAN_PHASE:
            text = st.plan_phase(state, [str(t) for t in call.input.get("tasks", [])])
            summary = f"{len(phase.plan)} tasks"
            self.publish = True
        elif call.name == COMPLETE_TASK:
            text, is_error = st.complete_task(state, int(call.input.get("task", 0)))
            summary = text
            self.publish = not is_error
        elif call.name == SIGN_OFF_PHASE:
            st.count_tool(state, call.name)
            st.begin_signoff(state, call.id, dict(call.input))
            state.conversation = conversation.to_json()
            return
        elif call.name in FILE_TOOLS:
            try:
                python = call.name in VENV_TOOLS and runs_python(call.input.get("command"))
                sandbox = await self.box(python=python)
                toolbox = Toolbox(await self.tree(), sandbox)
                result = await toolbox.run(call.name, call.input)
            except DiskFull as exc:
                st.pause(state, "error", f"The working tree is full: {exc}", time.time(), resume="tool")
                return
            except VenvFailed as exc:
                no_venv = exc
                what = f"`{call.name}` ({summarize(call.input)})"
                text, is_error, summary = exc.for_model(what), True, "no Python environment"
            else:
                text, is_error, summary = result.text, result.is_error, result.summary
        else:
            text, is_error, summary = f"Unknown tool {call.name!r}.", True, "unknown tool"
        st.count_tool(state, call.name)
        conversation.add_tool_result(call.id, text, is_error=is_error)
        self.tool_logs.append(
            store.ToolCall(
                phase=phase.number,
                attempt=phase.next_attempt,
                tool=call.name,
                input_summary=summarize(call.input),
                result_summary=summary or summarize(text),
                duration_ms=int((time.monotonic() - started) * 1000),
                error=(summary or "error") if is_error else None,
            )
        )
        state.conversation = conversation.to_json()
        if no_venv is not None:
            st.pause(state, "error", no_venv.reason, time.time())
            return
        st.after_tool(state, conversation.next_call() is not None)

    async def sign_off(self) -> None:
        state = self.state
        phase = state.phase
        assert phase is not None and state.signoff is not None and state.signoff_tool_id is not None
        workspace = await self.tree()
        started = time.monotonic()
        try:
            command = default_test_command(workspace.root)
            sandbox = await self.box(python=runs_python(command))
            run = await run_project_tests(workspace, sandbox, command=command)
        except DiskFull as exc:
            st.pause(state, "error", f"The working tree is full: {exc}", time.time(), resume="signoff")
            return
        except VenvFailed as exc:
            # Nothing is committed yet: the sign-off is answered as not run, so that after
            # `retry` the model can fix what pip could not install, or sign off again.
            conversation = Conversation.from_json(state.conversation or None)
            conversation.add_tool_result(
                state.signoff_tool_id, exc.for_model(f"`{SIGN_OFF_PHASE}`"), is_error=True
            )
            state.conversation = conversation.to_json()
            state.signoff = None
            state.signoff_tool_id = None
            st.pause(state, "error", exc.reason, time.time())
            return
        state.test_runs += 1
        phase.test_runs += 1
        if run.status == "PASS":
            state.test_runs_passed += 1
        state.last_tests = f"{run.status}: {run.passed} passed, {run.failed} failed ({run.command})"
        claimed = list(state.signoff.get("claimed_files") or [])
        claimed += [signoff.TEST_RUNS_PATH, signoff.DIFFLOG_PATH]
        job = signoff.Signoff(
            api=self.api,
            db=self.ctx.db,
            settings=self.ctx.settings,
            build=self.build,
            phase=phase,
            attempt=phase.next_attempt,
            workspace=workspace,
            config=self.audit_config,
            cache=self.ctx.worker.analysis_cache,
        )
        outcome = await signoff.sign_off(job, run, {**state.signoff, "claimed_files": claimed})
        self.tool_logs.append(
            store.ToolCall(
                phase=phase.number,
                attempt=job.attempt,
                tool=SIGN_OFF_PHASE,
                input_summary=summarize(state.signoff.get("summary", "")),
                result_summary=f"{'PASS' if outcome.passed else 'FAIL'}: {outcome.attempt.title}",
                duration_ms=int((time.monotonic() - started) * 1000),
                error=None,
            )
        )
        self.publish = True
        if not outcome.passed:
            st.after_fail(state, outcome.attempt, outcome.failed)
            return
        assert outcome.authorization_sha is not None and outcome.tree_sha is not None
        conversation = Conversation.from_json(state.conversation or None)
        conversation.add_signoff_result(
            state.signoff_tool_id,
            SignoffVerdict(True, phase.to_phase(), notes=(test_note(run), f"Attempt {job.attempt}.")),
        )
        st.after_pass(state, outcome.attempt, outcome.authorization_sha, outcome.tree_sha, time.time())
        state.signoff = None
        state.signoff_tool_id = None
        state.conversation = conversation.to_json()

    async def planner(self) -> None:
        state = self.state
        phase = state.phase
        assert phase is not None and state.signoff_tool_id is not None
        workspace = await self.tree()
        failed = [VerdictCheck(c.code, c.name, c.detail, tuple(c.findings)) for c in phase.last_failed]
        files = {}
        for path, data in workspace.snapshot().items():
            try:
                files[path] = data.decode("utf-8")
            except UnicodeDecodeError:
                continue
        plan = None
        if self.ctx.llm is not None:
            plan = await plan_remediation(
                self.ctx.llm,
                model=self.ctx.settings.planner_model,
                phase=phase.to_phase(),
                failed=failed,
                contracts=self.contracts,
                files=files,
                claimed=list((state.signoff or {}).get("claimed_files") or []),
                attempt=len(phase.attempts),
                context=CallContext(
                    installation_id=self.build.installation_id, build_id=self.build.id, phase=phase.number
                ),
            )
        state.planner_calls += 1
        phase.planner_calls += 1
        attempt = phase.attempts[-1]
        conversation = Conversation.from_json(state.conversation or None)
        conversation.add_signoff_result(
            state.signoff_tool_id,
            SignoffVerdict(
                False,
                phase.to_phase(),
                failed=tuple(failed),
                plan=plan.text() if plan is not None else None,
                notes=(f"Attempt {attempt.number} ({attempt.sha[:7]}) failed its audit: {attempt.title}.",),
            ),
        )
        state.conversation = conversation.to_json()
        st.after_planner(
            state, self.build.config.pause_after, time.time(), conversation.next_call() is not None
        )
        self.publish = True

    async def skip(self) -> None:
        state = self.state
        phase = state.phase
        assert phase is not None and phase.attempts
        last = phase.attempts[-1]
        recorded = await store.find_commit(self.pool, self.build.id, phase.number, last.number, "attempt")
        assert recorded is not None
        job = signoff.Signoff(
            api=self.api,
            db=self.ctx.db,
            settings=self.ctx.settings,
            build=self.build,
            phase=phase,
            attempt=last.number,
            workspace=await self.tree(),
            config=self.audit_config,
            cache=self.ctx.worker.analysis_cache,
        )
        login = state.skip_by or "someone"
        sha, tree = await job.authorize(last.sha, recorded.tree_sha, kind="skip", skipped_by=login)
        st.after_skip(state, last.sha, sha, tree, login, time.time())
        state.skip_by = None
        self.publish = True

    async def finish(self) -> None:
        """The end: ready for review when every phase passed; otherwise the draft stays, with the reason."""
        state = self.state
        status = state.ended or st.final_status(state)
        if state.finished_at is None:
            state.finished_at = time.time()
        reason = state.end_reason
        if status == "draft" and not reason:
            reason = "skipped: " + ", ".join(p.title for p in state.skipped)
            state.end_reason = reason
        if status == "succeeded" and not reason:
            state.end_reason = reason = "every phase passed"
        owner, repo = self.build.owner, self.build.repo
        if self.build.pull_number is not None:
            if status == "succeeded":
                node = await self.pull_node_id()
                await github_side.mark_ready(self.api, node)
            await github_side.remove_label(self.api, owner, repo, self.build.pull_number)
        await github_side.remove_label(self.api, owner, repo, self.build.issue_number)
        state.next = "none"
        if await self.save(status=status, end_reason=reason):
            await self.show_progress(force=True)
            shutil.rmtree(build_dir(self.ctx, self.build.id) / "tree", ignore_errors=True)

    async def pull_node_id(self) -> str:
        node = await self.pool.fetchval("SELECT pull_node_id FROM builds WHERE id = $1", self.build.id)
        if node:
            return str(node)
        assert self.build.pull_number is not None
        return await github_side.pull_node_id(
            self.api, self.build.owner, self.build.repo, self.build.pull_number
        )


def test_note(run: TestRun) -> str:
    return (
        f"Tests run by ForgeGuard: {run.status} ({run.passed} passed, {run.failed} failed, `{run.command}`)."
    )


async def load_extras(pool: Any, build_id: int) -> tuple[dict[str, str], AuditConfig]:
    row = await pool.fetchrow("SELECT contracts, audit_config FROM builds WHERE id = $1", build_id)
    contracts = dict(row["contracts"] or {})
    config = parse_config(row["audit_config"]) if row["audit_config"] else AuditConfig()
    return contracts, config


async def render_for(ctx: JobContext, build: BuildRow) -> str:
    """The progress comment of `build` as it stands in the database now."""
    pool = ctx.db.pool
    costs = await build_costs(pool, build.id)
    budget = Budget(Decimal(str(build.config.max_cost_usd)), Decimal(str(build.config.budget_raise_usd)))
    view = progress_view.ProgressView(
        build_id=build.id,
        status=build.status,
        build_url=build_url(ctx, build.id),
        repo_url=f"{ctx.settings.github_url.rstrip('/')}/{build.owner}/{build.repo}",
        branch=build.branch,
        issue_number=build.issue_number,
        state=build.state,
        tool_calls=await store.recent_tool_calls(pool, build.id),
        waiting=await store.pending_interjections(pool, build.id),
        cost_usd=float(costs.total_usd),
        budget_usd=float(budget.limit(build.state.budget_raises)),
        budget_raise_usd=float(build.config.budget_raise_usd),
        phase_costs=[
            progress_view.PhaseCost(
                phase=p.phase or 0,
                purpose="builder",
                input_tokens=p.usage.total_input_tokens,
                output_tokens=p.usage.output_tokens,
                cost_usd=float(p.builder_usd),
            )
            for p in costs.phases
        ]
        + [
            progress_view.PhaseCost(
                phase=p.phase or 0,
                purpose="planner",
                input_tokens=0,
                output_tokens=0,
                cost_usd=float(p.planner_usd),
            )
            for p in costs.phases
            if p.planner_calls
        ],
        tool_counts=await store.tool_counts(pool, build.id),
        end_reason=build.end_reason,
    )
    return progress_view.render_progress(view)


async def run_step(ctx: JobContext, build_id: int, seq: int) -> None:
    """The `builder.step` job's work: the step the build expects at `seq`, or nothing when it moved on."""
    build = await store.load(ctx.db.pool, build_id)
    if build is None or build.seq != seq:
        return
    if ctx.github is None:
        raise RuntimeError("no GitHub client configured")
    api = await ctx.github.installation_api(build.installation_id)
    contracts, config = await load_extras(ctx.db.pool, build_id)
    runner = Runner(ctx, api, build, contracts, config)
    try:
        await runner.run()
    except Exception as exc:
        if not ctx.final_attempt:
            raise
        log.exception("build %s: step %s failed for good", build_id, build.state.next)
        await stop_failed(
            ctx.db, build_id, seq, f"ForgeGuard hit an error it could not get past ({type(exc).__name__})"
        )


async def stop_failed(db: Database, build_id: int, seq: int | None, reason: str) -> None:
    """End a build whose steps cannot go on: `failed`, with the reason, then the end step publishes it."""
    async with db.pool.acquire() as conn, conn.transaction():
        build = await store.load(conn, build_id, for_update=True)
        if build is None or build.status not in st.ACTIVE or (seq is not None and build.seq != seq):
            return
        st.end(build.state, "failed", reason, time.time())
        if await store.save(conn, build):
            await queue_step(conn, build.id, build.seq)
