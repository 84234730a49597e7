"""What the builder's commands do: start a build, and say, retry, skip, abort, cancel, status.

Each function takes a `Request` (who asked where) and returns an `Answer`
(the reply, or None when the progress comment says it; and whether it
worked). Permissions are the router's; these functions refuse, with the
reason, what the build's state does not allow. A command that continues a
build saves the state and queues its next step in one transaction.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gidgethub.abc import GitHubAPI

from checks.config_file import CONFIG_PATH, parse_config
from forgeguard_app.builder import github_side, steps, store
from forgeguard_app.builder import progress as progress_view
from forgeguard_app.builder import state as st
from forgeguard_app.builder.state import BuilderConfig, PhaseState
from forgeguard_app.commands import gitdata
from forgeguard_app.commands import progress_comment as comments
from forgeguard_app.commands import store as contracts_store
from forgeguard_app.commands.thread import Thread
from forgeguard_app.context import JobContext
from forgeguard_app.intake.phases import PhasesError, parse_phases
from forgeguard_app.jobs import dispatch_pending
from forgeguard_app.markdown import md

if TYPE_CHECKING:
    from forgeguard_app.db import Database

log = logging.getLogger(__name__)

PHASES_PATH = "Forge/Contracts/phases.md"


@dataclass(frozen=True)
class Request:
    """A permitted person's builder command."""

    ctx: JobContext
    api: GitHubAPI
    thread: Thread
    login: str
    comment_id: int
    args: str = ""
    text: str = ""

    @property
    def message(self) -> str:
        """The command's words: the rest of its line, then the following lines."""
        return "\n".join(part for part in (self.args.strip(), self.text.strip()) if part)


@dataclass(frozen=True)
class Answer:
    reply: str | None
    ok: bool


def refuse(text: str) -> Answer:
    return Answer(text, False)


async def issue_of(db: Database, thread: Thread) -> int | None:
    """The intake issue a thread belongs to: the issue itself, or the issue of its contracts or build PR."""
    if not thread.is_pull_request:
        return thread.number
    async with db.pool.acquire() as conn:
        pull = await contracts_store.by_pull(conn, thread.repository_id, thread.number)
        if pull is not None:
            return pull.issue_number
        build = await store.by_pull(conn, thread.repository_id, thread.number)
        return build.issue_number if build is not None else None


async def is_build_pull(db: Database, repository_id: int, number: int) -> bool:
    """Whether pull request `number` is a build's pull request (`Place.BUILD_PR`)."""
    async with db.pool.acquire() as conn:
        return await store.by_pull(conn, repository_id, number) is not None


# --- /forge build ------------------------------------------------------------------------


async def start(req: Request) -> Answer:
    """Start a build of the approved contracts of this thread's issue, or say why not."""
    db, thread, api = req.ctx.db, req.thread, req.api
    issue = await issue_of(db, thread)
    if issue is None:
        return refuse("A build starts from the contracts pull request, its issue or the build pull request.")
    async with db.pool.acquire() as conn:
        contracts = await contracts_store.by_issue(conn, thread.repository_id, issue)
        active = await store.active_for_issue(conn, thread.repository_id, issue)
        running = await store.running_in_repository(conn, thread.repository_id)
        started = await store.started_in_last_hour(conn, thread.installation_id)
    if contracts is None:
        return refuse(f"Issue #{issue} has no contracts yet: run the intake and approve its contracts first.")
    if contracts.state != "approved":
        return refuse(
            f"The contracts of #{issue} are not approved ({contracts.state}): "
            f"`/forge approve` in #{contracts.pull_number} first."
        )
    if active is not None:
        where = f" in #{active.pull_number}" if active.pull_number else ""
        return refuse(
            f"A build of #{issue} is already {active.status}{where}: one build per issue at a time."
        )
    if running is not None:
        return refuse(
            f"Build #{running.id} (issue #{running.issue_number}) is running in this repository and only one "
            "runs at a time: try again when it ends."
        )
    config_text = await gitdata.read_file(api, thread.owner, thread.repo, CONFIG_PATH, thread.default_branch)
    audit_config = parse_config(config_text) if config_text is not None else None
    config = BuilderConfig.from_section(audit_config.raw.get("builder") if audit_config else None)
    if started >= config.max_builds_per_hour:
        return refuse(
            f"This installation started {started} builds in the last hour; the limit is "
            f"{config.max_builds_per_hour} (`builder.max_builds_per_hour`). Try again later."
        )
    head = await gitdata.branch_head(api, thread.owner, thread.repo, contracts.branch)
    if head is None:
        return refuse(f"The contracts branch `{contracts.branch}` is gone: nothing to build from.")
    files = await github_side.contracts_files(api, thread.owner, thread.repo, head)
    try:
        phases = parse_phases(files.get(PHASES_PATH, ""))
    except PhasesError as exc:
        problems = "\n".join(f"- {p}" for p in exc.problems[:10])
        return refuse(f"`{PHASES_PATH}` does not parse, so there is nothing to build:\n{problems}")
    branch = st.build_branch(issue)
    if await gitdata.branch_head(api, thread.owner, thread.repo, branch) is not None:
        async with db.pool.acquire() as conn:
            earlier = await store.latest_for_issue(conn, thread.repository_id, issue)
        return refuse(leftover_branch(branch, earlier))
    tree = await gitdata.commit_tree_sha(api, thread.owner, thread.repo, head)
    state = st.new_state([PhaseState.from_phase(p) for p in phases], contracts_head=head, branch_tree=tree)
    async with db.pool.acquire() as conn:
        build_id = await store.create_build(
            conn,
            installation_id=thread.installation_id,
            repository_id=thread.repository_id,
            owner=thread.owner,
            repo=thread.repo,
            default_branch=contracts.base_branch or thread.default_branch,
            issue_number=issue,
            contracts_pull=contracts.pull_number,
            contracts_branch=contracts.branch,
            branch=branch,
            started_by=req.login,
            state=state,
            config=config,
        )
        if build_id is None:
            return refuse(f"A build of #{issue} is already active: one build per issue at a time.")
        await conn.execute(
            "UPDATE builds SET contracts = $2, audit_config = $3 WHERE id = $1", build_id, files, config_text
        )
    try:
        pull = await open_build(req, build_id, issue, contracts.project, contracts.pull_number, head)
    except Exception as exc:
        await steps.stop_failed(
            db, build_id, None, f"the build could not start on GitHub ({type(exc).__name__})"
        )
        await dispatch_pending(db.pool)
        raise
    return Answer(
        f"Building the contracts of #{issue} in #{pull.number}: {len(phases)} phases, "
        "one commit and one audit each. The progress comment there says where it stands "
        "and what to type when it needs you.",
        True,
    )


def leftover_branch(branch: str, earlier: store.BuildRow | None) -> str:
    """Why a new build cannot start while its branch holds other work, and how to clear it.

    A build starts from the contracts on a branch of its own; the app never force-moves a branch,
    so the person removes the old one (its commits stay reachable from its pull request)."""
    what = f"The branch `{branch}` already exists"
    if earlier is not None:
        where = f" (draft #{earlier.pull_number})" if earlier.pull_number else ""
        what += f": build #{earlier.id} ended ({earlier.status}) on it{where}"
    return (
        f"{what}. A new build starts from the approved contracts on a fresh branch: close that pull request "
        f"and delete `{branch}` (its commits stay reachable from the closed pull request), then "
        "`/forge build` again."
    )


async def open_build(
    req: Request, build_id: int, issue: int, project: str, contracts_pull: int, head: str
) -> github_side.PullRequest:
    """Branch, draft pull request, label, progress comment, the issue's link; then the first step."""
    db, thread, api = req.ctx.db, req.thread, req.api
    owner, repo = thread.owner, thread.repo
    build = await store.load(db.pool, build_id)
    assert build is not None
    await github_side.ensure_branch(api, owner, repo, build.branch, head)
    body = (
        f"ForgeGuard builds the approved contracts of #{issue} (#{contracts_pull}) here, phase by phase: "
        "each phase is one commit audited by ForgeGuard, then an evidence-only authorization commit.\n\n"
        f"Started by @{req.login}. Progress in the comment below.\n"
    )
    title = f"Forge build: {project}" if project else f"Forge build of #{issue}"
    pull = await github_side.open_draft(
        api, owner, repo, title=title, head=build.branch, base=build.default_branch, body=body
    )
    async with db.pool.acquire() as conn:
        await store.set_pull(conn, build_id, pull.number)
        await conn.execute("UPDATE builds SET pull_node_id = $2 WHERE id = $1", build_id, pull.node_id)
    build.pull_number = pull.number
    await github_side.add_label(api, owner, repo, pull.number)
    await github_side.add_label(api, owner, repo, issue)
    url = steps.build_url(req.ctx, build_id)
    async with db.pool.acquire() as conn:
        text = await steps.render_for(req.ctx, build)
        await progress_view.publish(
            api,
            conn,
            repository_id=thread.repository_id,
            owner=owner,
            repo=repo,
            pull_number=pull.number,
            build_id=build_id,
            text=text,
        )
        await comments.show(
            api,
            conn,
            repository_id=thread.repository_id,
            owner=owner,
            repo=repo,
            issue_number=issue,
            kind=progress_view.LINK_KIND,
            key=str(build_id),
            text=progress_view.issue_link_text(build_id, pull.html_url, url),
        )
        async with conn.transaction():
            await steps.queue_step(conn, build_id, build.seq)
    await dispatch_pending(db.pool)
    return pull


# --- commands on a build -----------------------------------------------------------------


async def _build_of(req: Request) -> tuple[int | None, store.BuildRow | None]:
    issue = await issue_of(req.ctx.db, req.thread)
    if issue is None:
        return None, None
    async with req.ctx.db.pool.acquire() as conn:
        return issue, await store.latest_for_issue(conn, req.thread.repository_id, issue)


def _no_build(issue: int | None, build: store.BuildRow | None) -> Answer | None:
    if build is None:
        where = f" of #{issue}" if issue is not None else " here"
        return refuse(f"There is no build{where}: `/forge build` starts one from approved contracts.")
    if not build.active:
        return refuse(f"Build #{build.id} of #{build.issue_number} has ended ({build.status}).")
    return None


async def _continue(req: Request, build_id: int, change: Any) -> Answer | None:
    """Apply `change(build)` (None or a refusal) to the locked build, save it and queue its next step."""
    async with req.ctx.db.pool.acquire() as conn, conn.transaction():
        build = await store.load(conn, build_id, for_update=True)
        assert build is not None
        refusal = change(build)
        if refusal is not None:
            return refusal  # type: ignore[no-any-return]
        status = "running" if build.state.ended is None else build.status
        if not await store.save(conn, build, status=status):
            return refuse("The build moved on meanwhile; try again.")
        if build.state.next != "none":
            await steps.queue_step(conn, build.id, build.seq)
    await dispatch_pending(req.ctx.db.pool)
    return None


async def say(req: Request) -> Answer:
    """Guidance for the builder, added before its next model turn, acknowledged in the progress comment."""
    issue, build = await _build_of(req)
    refusal = _no_build(issue, build)
    if refusal is not None or build is None:
        return refusal or refuse("no build")
    message = req.message
    if not message:
        return refuse("`/forge say <message>`: the message is missing.")
    async with req.ctx.db.pool.acquire() as conn:
        await store.add_interjection(conn, build.id, req.login, req.comment_id, message)
    await refresh_progress(req, build.id)
    return Answer(None, True)


async def retry(req: Request) -> Answer:
    """A paused build tries again (the pause counter afresh), with the person's message for the model."""
    issue, build = await _build_of(req)
    refusal = _no_build(issue, build)
    if refusal is not None or build is None:
        return refusal or refuse("no build")
    message = req.message or None

    def change(row: store.BuildRow) -> Answer | None:
        if row.state.pause is None:
            return refuse(f"Build #{row.id} is not paused: `/forge retry` continues a paused build.")
        st.resume(row.state, message, req.login, time.time())
        return None

    refused = await _continue(req, build.id, change)
    return refused or Answer(None, True)


async def skip(req: Request) -> Answer:
    """A phase paused after failed audits is accepted as it stands; the build goes on from there."""
    issue, build = await _build_of(req)
    refusal = _no_build(issue, build)
    if refusal is not None or build is None:
        return refusal or refuse("no build")

    def change(row: store.BuildRow) -> Answer | None:
        pause, phase = row.state.pause, row.state.phase
        if pause is None or phase is None or pause.kind != "failures" or not phase.attempts:
            return refuse(
                f"Build #{row.id} has no phase paused after failed audits: "
                "`/forge skip` accepts such a phase."
            )
        row.state.pause = None
        row.state.skip_by = req.login
        row.state.next = "skip"
        return None

    refused = await _continue(req, build.id, change)
    return refused or Answer(None, True)


async def abort(req: Request) -> Answer:
    """A paused build ends now; a running one at the start of its next step."""
    issue, build = await _build_of(req)
    refusal = _no_build(issue, build)
    if refusal is not None or build is None:
        return refusal or refuse("no build")
    if build.status == "running":
        async with req.ctx.db.pool.acquire() as conn:
            await store.request_abort(conn, build.id, req.login)
        return Answer(None, True)

    def change(row: store.BuildRow) -> Answer | None:
        st.end(row.state, "aborted", f"aborted by @{req.login}", time.time())
        row.state.pause = None
        return None

    refused = await _continue(req, build.id, change)
    return refused or Answer(None, True)


async def cancel(req: Request) -> Answer:
    """A running build stops at the next safe point (after the tool call in progress)."""
    issue, build = await _build_of(req)
    refusal = _no_build(issue, build)
    if refusal is not None or build is None:
        return refusal or refuse("no build")
    if build.status != "running":
        return refuse(
            f"Build #{build.id} is {build.status}, not running: `/forge abort` ends a paused build."
        )
    async with req.ctx.db.pool.acquire() as conn:
        await store.request_cancel(conn, build.id, st.CANCELLED_BY_COMMAND)
    return Answer(None, True)


async def status_text(db: Database, thread: Thread) -> str | None:
    """Where the build of this thread's issue stands, in a few lines; None when there is no build."""
    issue = await issue_of(db, thread)
    if issue is None:
        return None
    async with db.pool.acquire() as conn:
        build = await store.latest_for_issue(conn, thread.repository_id, issue)
    if build is None:
        return None
    state = build.state
    words = progress_view.STATUS_WORDS.get(build.status, build.status)
    lines = [
        f"**Build #{build.id}** of #{issue}: {words}"
        + (f" in #{build.pull_number}" if build.pull_number else "")
    ]
    for phase in state.phases:
        lines.append(f"- {md(phase.title)}: {progress_view.phase_state(phase)}")
    if state.pause is not None:
        lines.append(f"\nPaused: {md(state.pause.reason)}")
    if build.end_reason and not build.active:
        lines.append(f"\nEnded: {md(build.end_reason)}")
    return "\n".join(lines)


async def refresh_progress(req: Request, build_id: int) -> None:
    """Edit the progress comment now (after a command that changes what it shows)."""
    build = await store.load(req.ctx.db.pool, build_id)
    if build is None or build.pull_number is None:
        return
    try:
        text = await steps.render_for(req.ctx, build)
        async with req.ctx.db.pool.acquire() as conn:
            await progress_view.publish(
                req.api,
                conn,
                repository_id=build.repository_id,
                owner=build.owner,
                repo=build.repo,
                pull_number=build.pull_number,
                build_id=build.id,
                text=text,
            )
    except Exception as exc:
        log.warning("build %s: the progress comment could not be updated: %s", build_id, exc)
