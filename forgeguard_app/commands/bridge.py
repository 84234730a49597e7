"""The commands' side of the intake: what each queued command or answer does, through `IntakeService`.

The intake core (`forgeguard_app.intake.service`) loads, steps and saves the
questionnaire and renders the contracts; this module posts the progress
comment, labels the issue, commits the contracts and manages the pull request.

When the model is unavailable the progress comment says so and the job is
retried with backoff (the intake is `waiting_model`, its answers still
queued); if every retry fails the intake resumes with the next answer or
`/forge intake`. Nothing a comment says can approve or reject: those happen
only through the `approve` and `reject` commands of a permitted person.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from gidgethub.abc import GitHubAPI

from forgeguard_app.commands import contracts_pr, gitdata, progress, replies, review, store
from forgeguard_app.commands.flow import Comment, Thread
from forgeguard_app.commands.table import Place
from forgeguard_app.context import JobContext
from forgeguard_app.db import Database
from forgeguard_app.intake.contracts import ContractsInvalid
from forgeguard_app.intake.sections import UnknownSection
from forgeguard_app.intake.service import IntakeService, StepResult
from forgeguard_app.intake.store import IntakeRecord, IntakeStore
from forgeguard_app.llm.client import LLMError, LLMUnavailable

if TYPE_CHECKING:
    from forgeguard_app.commands.jobs import Work
    from forgeguard_app.context import EventContext

log = logging.getLogger(__name__)

PROGRESS_KIND = "intake"
ANSWERING = ("active", "waiting_model")


class ModelWaiting(Exception):
    """The model was unavailable: the job is retried later (the intake waits, nothing is lost)."""


# ---------------------------------------------------------------------------------------------- lookups


async def intake_of(db: Database, repository_id: int, issue_number: int) -> IntakeRecord | None:
    return await IntakeStore(db).find(repository_id, issue_number)


async def intake_exists(db: Database, repository_id: int, issue_number: int) -> bool:
    return await intake_of(db, repository_id, issue_number) is not None


async def intake_accepts_answers(db: Database, repository_id: int, issue_number: int) -> bool:
    """True while the issue's intake is asking questions (so a plain comment is an answer)."""
    record = await intake_of(db, repository_id, issue_number)
    return record is not None and record.status in ANSWERING and not record.state.finished


# ---------------------------------------------------------------------------------------------- answers


async def queue_answer(db: Database, thread: Thread, comment: Comment) -> bool:
    """Put a comment in the intake's answer queue (once per comment id)."""
    record = await intake_of(db, thread.repository_id, thread.number)
    if record is None:
        return False
    return await IntakeStore(db).enqueue_answer(
        record.id, comment_id=comment.id, author=comment.login, body=comment.body
    )


async def edit_answer(db: Database, thread: Thread, comment: Comment) -> bool:
    """An edited comment replaces its answer while that is still queued (see `flow`)."""
    record = await intake_of(db, thread.repository_id, thread.number)
    if record is None:
        return False
    changed = await IntakeStore(db).edit_answer(record.id, comment.id, comment.body)
    log.info("edited comment %s %s", comment.id, "replaced its queued answer" if changed else "ignored")
    return changed


async def drop_answer(db: Database, thread: Thread, comment: Comment) -> bool:
    """A deleted comment withdraws its answer while that is still queued (see `flow`)."""
    record = await intake_of(db, thread.repository_id, thread.number)
    if record is None:
        return False
    dropped = await IntakeStore(db).drop_answer(record.id, comment.id)
    log.info("deleted comment %s %s", comment.id, "dropped its queued answer" if dropped else "ignored")
    return dropped


# ------------------------------------------------------------------------------------------ quick commands


def _pull_line(pull: store.ContractsPull) -> str:
    state = {
        "open": "open for review",
        "approved": f"approved by @{pull.decided_by} at {(pull.decided_sha or '')[:12]}",
        "rejected": f"rejected by @{pull.decided_by}" + (f" ({pull.reason})" if pull.reason else ""),
    }[pull.state]
    return f"Contracts pull request #{pull.pull_number} (`{pull.branch}`): {state}."


async def status_text(db: Database, thread: Thread, places: frozenset[Place]) -> str:
    """`/forge status`: where this issue's intake and contracts stand."""
    async with db.pool.acquire() as conn:
        if thread.is_pull_request:
            pull = await store.by_pull(conn, thread.repository_id, thread.number)
            if pull is None:
                return (
                    "This pull request is not a contracts pull request. ForgeGuard audits it on every push; "
                    "`/forge audit` audits its head commit again."
                )
            return f"{_pull_line(pull)} From the intake in #{pull.issue_number}."
        pull = await store.by_issue(conn, thread.repository_id, thread.number)
    record = await intake_of(db, thread.repository_id, thread.number)
    if record is None:
        return "There is no intake in this issue. `/forge intake` starts one."
    service = IntakeService(db, None, "")
    text = await service.progress(record)
    return text + (f"\n\n{_pull_line(pull)}" if pull else "")


async def request_audit(ctx: EventContext, api: GitHubAPI, thread: Thread, comment: Comment) -> str:
    """`/forge audit` in a pull request: queue an audit of its head commit."""
    from forgeguard_app.checkruns.jobs import enqueue_audit

    pull = await api.getitem(
        "/repos/{owner}/{repo}/pulls/{pull_number}",
        {"owner": thread.owner, "repo": thread.repo, "pull_number": str(thread.number)},
    )
    head = str(pull["head"]["sha"])
    async with ctx.db.pool.acquire() as conn:
        await enqueue_audit(
            conn,
            installation_id=thread.installation_id,
            owner=thread.owner,
            repo=thread.repo,
            head_sha=head,
            base_sha=str(pull["base"]["sha"]),
            pull_number=thread.number,
            reason="command",
            default_branch=thread.default_branch,
        )
    return f"Auditing {head[:12]} again, as @{comment.login} asked; the result appears in the Checks tab."


# ---------------------------------------------------------------------------------------------- queued work


async def _show_intake(api: GitHubAPI, db: Database, thread: Thread, issue: int, text: str) -> None:
    async with db.pool.acquire() as conn:
        await progress.show(
            api,
            conn,
            repository_id=thread.repository_id,
            owner=thread.owner,
            repo=thread.repo,
            issue_number=issue,
            kind=PROGRESS_KIND,
            key=str(issue),
            text=text,
        )


def _with_notes(result: StepResult, note: str) -> str:
    return result.progress + (f"\n\n{note}" if note else "")


async def perform(ctx: JobContext, api: GitHubAPI, work: Work) -> bool | None:
    """Do one queued piece of work; True/False for the comment's reaction, None for no reaction."""
    service = IntakeService(ctx.db, ctx.llm, ctx.settings.intake_model)
    name = work.name
    if name == "intake":
        return await _start(ctx, api, service, work)
    if name == "answer":
        return await _answers(ctx, api, service, work)
    if name in ("back", "edit"):
        return await _reopen(ctx, api, service, work)
    if name == "contracts":
        record = await intake_of(ctx.db, work.thread.repository_id, work.intake_issue)
        if record is None:
            await progress.reply(
                api,
                work.thread.owner,
                work.thread.repo,
                work.thread.number,
                "There is no intake in this issue. `/forge intake` starts one.",
            )
            return False
        if record.status == "approved":
            await progress.reply(
                api,
                work.thread.owner,
                work.thread.repo,
                work.thread.number,
                f"The contracts of this intake were approved in #{record.contracts_pull_number}; "
                "`/forge intake restart` starts a new intake.",
            )
            return False
        return await _publish(ctx, api, service, work, record)
    if name in ("revise", "approve", "reject"):
        return await _review(ctx, api, service, work)
    raise ValueError(f"no queued work called {name!r}")


async def _issue_body(api: GitHubAPI, thread: Thread, number: int) -> str:
    issue = await api.getitem(
        "/repos/{owner}/{repo}/issues/{issue_number}",
        {"owner": thread.owner, "repo": thread.repo, "issue_number": str(number)},
    )
    return str(issue.get("body") or "")


async def _start(ctx: JobContext, api: GitHubAPI, service: IntakeService, work: Work) -> bool | None:
    """`/forge intake [restart]`."""
    thread = work.thread
    argument = work.args.strip().lower()
    if argument not in ("", "restart"):
        await progress.reply(
            api,
            thread.owner,
            thread.repo,
            thread.number,
            f"`/forge intake` takes no argument but `restart`; got {replies.code(argument, 40)}.",
        )
        return False
    existing = await intake_of(ctx.db, thread.repository_id, thread.number)
    resume = (
        existing is not None
        and argument != "restart"
        and existing.status == "waiting_model"
        and not existing.state.transcript
        and await service.store.pending_count(existing.id) == 0
    )
    result = await service.start(
        installation_id=thread.installation_id,
        repository_id=thread.repository_id,
        repository_full_name=f"{thread.owner}/{thread.repo}",
        issue_number=thread.number,
        title=thread.title,
        description=await _issue_body(api, thread, thread.number),
        restart=argument == "restart" or resume,
    )
    await gitdata.add_labels(api, thread.owner, thread.repo, thread.number, [contracts_pr.INTAKE_LABEL])
    await _show_intake(
        api, ctx.db, thread, thread.number, _with_notes(result, work.note) + _gave_up(ctx, result)
    )
    if result.unavailable:
        return await _wait_for_model(ctx)
    if existing is not None and argument != "restart" and not resume:
        return True
    return await _after_turn(ctx, api, service, work, result)


async def _answers(ctx: JobContext, api: GitHubAPI, service: IntakeService, work: Work) -> bool | None:
    """Queued answers of the intake, oldest first."""
    thread = work.thread
    record = await intake_of(ctx.db, thread.repository_id, work.intake_issue)
    if record is None or record.status not in ANSWERING:
        return None
    never_asked = (
        record.status == "waiting_model" and not record.state.transcript and not record.state.questions
    )
    if never_asked and await service.store.pending_count(record.id) == 0:
        # the model was down at `/forge intake` and nothing is queued: ask the first questions now
        result = await service.start(
            installation_id=thread.installation_id,
            repository_id=thread.repository_id,
            repository_full_name=f"{thread.owner}/{thread.repo}",
            issue_number=work.intake_issue,
            title=thread.title,
            description=await _issue_body(api, thread, work.intake_issue),
            restart=True,
        )
    else:
        result = await service.process_answers(record.id)
    await _show_intake(api, ctx.db, thread, work.intake_issue, result.progress + _gave_up(ctx, result))
    if result.unavailable:
        return await _wait_for_model(ctx)
    return await _after_turn(ctx, api, service, work, result)


async def _reopen(ctx: JobContext, api: GitHubAPI, service: IntakeService, work: Work) -> bool | None:
    """`/forge back` and `/forge edit <section>`."""
    thread = work.thread
    record = await intake_of(ctx.db, thread.repository_id, work.intake_issue)
    assert record is not None  # the router only queues these in an intake issue
    if record.status not in ANSWERING:
        await progress.reply(
            api,
            thread.owner,
            thread.repo,
            thread.number,
            "The contracts of this intake are already in a pull request; use `/forge revise` there, "
            "or `/forge intake restart` here to start over.",
        )
        return False
    try:
        if work.name == "back":
            result = await service.back(record.id)
        else:
            if not work.args.strip():
                await progress.reply(
                    api,
                    thread.owner,
                    thread.repo,
                    thread.number,
                    "`/forge edit` needs a section, e.g. `/forge edit tech stack`.",
                )
                return False
            result = await service.edit(record.id, work.args)
    except UnknownSection as exc:
        await progress.reply(api, thread.owner, thread.repo, thread.number, str(exc))
        return False
    await _show_intake(
        api, ctx.db, thread, work.intake_issue, _with_notes(result, work.note) + _gave_up(ctx, result)
    )
    if result.unavailable:
        return await _wait_for_model(ctx)
    return True


def _gave_up(ctx: JobContext, result: StepResult) -> str:
    """What the progress comment adds when the last retry also found the model unavailable."""
    if result.unavailable and ctx.final_attempt:
        return (
            "\n\nThe model stayed unavailable after several tries. Nothing is lost: the intake resumes "
            "with the next comment here."
        )
    return ""


async def _wait_for_model(ctx: JobContext) -> bool | None:
    """The model is unavailable: retry the job later, or (last attempt) leave it for the next answer."""
    if ctx.final_attempt:
        log.warning(
            "model still unavailable after %d attempts; the intake resumes on the next answer", ctx.attempt
        )
        return None
    raise ModelWaiting("the model is unavailable; retrying later")


async def _after_turn(
    ctx: JobContext, api: GitHubAPI, service: IntakeService, work: Work, result: StepResult
) -> bool:
    """After a turn: when the questionnaire is finished, the contracts pull request follows."""
    if result.record.state.finished and result.record.status == "active":
        return await _publish(ctx, api, service, work, result.record)
    return True


def _where(thread: Thread) -> contracts_pr.Repo:
    return contracts_pr.Repo(
        installation_id=thread.installation_id,
        repository_id=thread.repository_id,
        owner=thread.owner,
        repo=thread.repo,
        default_branch=thread.default_branch,
    )


async def _publish(
    ctx: JobContext, api: GitHubAPI, service: IntakeService, work: Work, record: IntakeRecord
) -> bool:
    """Render and validate the contracts, commit them, open (or update) the pull request, tell the issue."""
    thread = work.thread
    issue = record.issue_number
    base = await service.progress(record)
    await _show_intake(api, ctx.db, thread, issue, base + "\n\n⏳ Writing the contracts…")
    failure: str | None = None
    try:
        draft = await service.contracts(record.id)
    except LLMUnavailable:
        failure = (
            "The model is unavailable right now, so the contracts could not be written yet. "
            "`/forge contracts` tries again."
        )
    except (ContractsInvalid, LLMError) as exc:
        problems = exc.problems if isinstance(exc, ContractsInvalid) else ["the model call failed"]
        listed = "\n".join(f"- {p}" for p in problems[:10])
        failure = (
            f"The contracts did not validate, so nothing was committed:\n\n{listed}\n\n"
            "`/forge edit <section>` changes an answer; `/forge contracts` tries again."
        )
    if failure is not None:
        await _show_intake(api, ctx.db, thread, issue, f"{base}\n\n{failure}")
        return False
    project = str(draft.answers["product_intent"].get("name") or record.state.title or thread.title)
    async with ctx.db.pool.acquire() as conn:
        published = await contracts_pr.publish(
            api,
            conn,
            _where(thread),
            issue_number=issue,
            project=project,
            files=draft.files,
            summary=draft.summary,
        )
    record = await service.contracts_opened(
        record.id, pull_number=published.pull_number, branch=contracts_pr.branch_name(issue)
    )
    verb = "opened" if published.opened else ("updated" if published.changed else "unchanged")
    defaults = sorted(draft.answers.defaults)
    marked = f" Sections filled with defaults: {', '.join(defaults)}." if defaults else ""
    await _show_intake(
        api,
        ctx.db,
        thread,
        issue,
        await service.progress(record)
        + (
            f"\n\n✅ Contracts pull request #{published.pull_number} {verb} "
            f"({published.head_sha[:12]}).{marked} Review it there: `/forge revise <instructions>`, "
            "`/forge approve`, `/forge reject <reason>`."
        ),
    )
    return True


async def _review(ctx: JobContext, api: GitHubAPI, service: IntakeService, work: Work) -> bool:
    """`revise`, `approve`, `reject` in a contracts pull request."""
    thread = work.thread
    async with ctx.db.pool.acquire() as conn:
        pull = await review.current_pull(conn, thread.repository_id, thread.number)
        kind = f"{work.name}-{work.comment_id}"
        if work.name == "revise":
            await review.show(api, conn, pull, kind, f"⏳ Revising the contracts as @{work.login} asked…")
            outcome = await review.revise(
                api, conn, ctx.llm, ctx.settings.intake_model, pull, login=work.login, instructions=work.text
            )
        elif work.name == "approve":
            outcome = await review.approve(api, conn, pull, login=work.login)
        else:
            outcome = await review.reject(api, conn, pull, login=work.login, reason=work.text)
        if outcome.ok and work.name in ("approve", "reject"):
            record = await intake_of(ctx.db, thread.repository_id, pull.issue_number)
            if record is not None:
                if work.name == "approve":
                    await service.approved(record.id)
                else:
                    await service.rejected(record.id, work.text)
        text = outcome.text + (f"\n\n{work.note}" if work.note else "")
        if work.name == "revise":
            await review.show(api, conn, pull, kind, text)
        else:
            await progress.reply(api, thread.owner, thread.repo, thread.number, text)
    return outcome.ok
