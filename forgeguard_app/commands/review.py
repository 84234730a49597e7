"""Review commands on a contracts pull request: `revise`, `approve`, `reject`.

Each reads the contracts from the branch as it is now, so edits people push
there are what a revision starts from and what an approval approves. Replies
go in the pull request; the intake issue is told of approvals and rejections.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from gidgethub.abc import GitHubAPI

from forgeguard_app.commands import contracts_pr, gitdata, progress_comment, store
from forgeguard_app.commands.command import Invocation
from forgeguard_app.commands.command import Outcome as CommandOutcome
from forgeguard_app.commands.intake_comment import service_for
from forgeguard_app.commands.store import ContractsPull
from forgeguard_app.db import Executor
from forgeguard_app.intake.contracts_validate import ContractsInvalid
from forgeguard_app.intake.phases import phases_problems
from forgeguard_app.intake.service import IntakeService
from forgeguard_app.llm.client import LLMError, LLMUnavailable
from forgeguard_app.markdown import md

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What a review command did: success or not, and the text to show."""

    ok: bool
    text: str


def closed_reply(pull: ContractsPull) -> str | None:
    """Why a decided pull request takes no more review commands (None when it is open)."""
    if pull.state == "approved":
        return (
            f"These contracts were already approved by {md('@' + str(pull.decided_by))}; "
            "they are not changed any more. "
            "`/forge contracts` in the issue starts a new set."
        )
    if pull.state == "rejected":
        return (
            f"These contracts were rejected by {md('@' + str(pull.decided_by))}; "
            "`/forge contracts` in the issue starts a new set."
        )
    return None


def approval_problem(phases_text: str | None) -> str | None:
    """Why the contracts on the branch cannot be approved (None when they can)."""
    if phases_text is None:
        return f"`{contracts_pr.PHASES_PATH}` is missing on the branch: nothing for the builder to build."
    problems = phases_problems(phases_text)
    if problems:
        listed = "\n".join(f"- {p}" for p in problems[:10])
        return (
            f"`{contracts_pr.PHASES_PATH}` does not parse, so the builder could not read the phases:"
            f"\n\n{listed}\n\n"
            "Fix it (by hand on the branch, or with `/forge revise`) and approve again."
        )
    return None


def revision_text(login: str, sha: str, summary: str, changed: list[str]) -> str:
    """What a successful revision says."""
    files = "\n".join(f"- `{path}`" for path in changed)
    return f"Revised as @{login} asked, in {sha[:12]}.\n\n**What changed:** {summary}\n\n{files}"


async def revise(
    api: GitHubAPI,
    conn: Executor,
    service: IntakeService,
    pull: ContractsPull,
    *,
    login: str,
    instructions: str,
) -> Outcome:
    """`/forge revise <instructions>`: the model changes what it must, committed as a new commit.

    The model call goes through the intake's service, so it is accounted to the intake's cost."""
    closed = closed_reply(pull)
    if closed:
        return Outcome(False, closed)
    if not instructions.strip():
        return Outcome(False, "`/forge revise` needs instructions, e.g. `/forge revise use SQLite instead`.")
    if service.llm is None:
        return Outcome(
            False, "The model is not configured (ANTHROPIC_API_KEY), so contracts cannot be revised."
        )
    record = await service.find(pull.repository_id, pull.issue_number)
    if record is None:
        return Outcome(
            False, f"The intake of these contracts (#{pull.issue_number}) is gone; nothing was changed."
        )
    files: dict[str, str] = await contracts_pr.read_contracts(api, pull)
    try:
        revision = await service.revise(record.id, files, instructions)
    except LLMUnavailable:
        return Outcome(
            False,
            "The model is unavailable right now (rate limited or overloaded); nothing was changed. "
            "Please ask again in a few minutes.",
        )
    except LLMError as exc:
        log.warning("revision failed: %s", exc)
        return Outcome(False, "The model call failed, so nothing was changed.")
    except ContractsInvalid as exc:
        listed = "\n".join(f"- {p}" for p in exc.problems[:10])
        return Outcome(
            False, f"The revised contracts did not validate, so nothing was committed:\n\n{listed}"
        )
    if not revision.changed:
        return Outcome(True, f"No file needed a change for that. {revision.summary}")
    changed = {path: revision.files[path] for path in revision.changed}
    result = await contracts_pr.commit_revision(api, conn, pull, changed, instructions)
    return Outcome(True, revision_text(login, result.sha, revision.summary, revision.changed))


async def approve(api: GitHubAPI, conn: Executor, pull: ContractsPull, *, login: str) -> Outcome:
    """`/forge approve`: refused when phases.md does not parse; else recorded, labelled, the issue told."""
    closed = closed_reply(pull)
    if closed:
        return Outcome(False, closed)
    head = await gitdata.branch_head(api, pull.owner, pull.repo, pull.branch)
    if head is None:
        return Outcome(False, f"The branch `{pull.branch}` is gone, so there is nothing to approve.")
    phases = await gitdata.read_file(api, pull.owner, pull.repo, contracts_pr.PHASES_PATH, head)
    problem = approval_problem(phases)
    if problem:
        return Outcome(False, f"Not approved: {problem}")
    await contracts_pr.approve(api, conn, pull, login=login, head_sha=head)
    return Outcome(True, f"Approved by @{login} at {head[:12]}: these contracts are ready for the builder.")


async def reject(api: GitHubAPI, conn: Executor, pull: ContractsPull, *, login: str, reason: str) -> Outcome:
    """`/forge reject [reason]`: the pull request is closed and the reason kept."""
    closed = closed_reply(pull)
    if closed:
        return Outcome(False, closed)
    await contracts_pr.reject(api, conn, pull, login=login, reason=reason.strip())
    return Outcome(True, rejection_text(reason))


def rejection_text(reason: str) -> str:
    """The reply to `/forge reject [reason]`: the reason echoed escaped (it is someone's text)."""
    return "Rejected and closed." + (f" Reason kept: {md(reason)}" if reason.strip() else "")


async def current_pull(conn: Executor, repository_id: int, pull_number: int) -> ContractsPull:
    """The contracts pull request a queued review command is about."""
    pull = await store.by_pull(conn, repository_id, pull_number)
    if pull is None:
        raise LookupError(f"pull request #{pull_number} is not a contracts pull request")
    return pull


async def show(api: GitHubAPI, conn: Executor, pull: ContractsPull, kind: str, text: str) -> None:
    """A review command's answer in the pull request, as one comment per command kind, edited in place."""
    await progress_comment.show(
        api,
        conn,
        repository_id=pull.repository_id,
        owner=pull.owner,
        repo=pull.repo,
        issue_number=pull.pull_number,
        kind=kind,
        key=str(pull.pull_number),
        text=text,
    )


# ------------------------------------------------------------------------------------ the table's handlers


async def run_revise(inv: Invocation) -> CommandOutcome:
    """`/forge revise <instructions>`: answered in one comment per command, edited as it goes."""
    service = service_for(inv.ctx)
    login = inv.comment.login
    async with inv.ctx.db.pool.acquire() as conn:
        pull = await current_pull(conn, inv.thread.repository_id, inv.thread.number)
        kind = f"{inv.name}-{inv.comment.id}"
        await show(inv.api, conn, pull, kind, f"⏳ Revising the contracts as @{login} asked…")
        outcome = await revise(inv.api, conn, service, pull, login=login, instructions=inv.text)
        await show(inv.api, conn, pull, kind, outcome.text + (f"\n\n{inv.note}" if inv.note else ""))
    return CommandOutcome(None, outcome.ok)


async def run_approve(inv: Invocation) -> CommandOutcome:
    """`/forge approve`: the decision on the pull request, then the intake is told."""
    service = service_for(inv.ctx)
    async with inv.ctx.db.pool.acquire() as conn:
        pull = await current_pull(conn, inv.thread.repository_id, inv.thread.number)
        outcome = await approve(inv.api, conn, pull, login=inv.comment.login)
    record = await service.find(pull.repository_id, pull.issue_number)
    if outcome.ok and record is not None:
        await service.approved(record.id)
    return CommandOutcome(outcome.text, outcome.ok)


async def run_reject(inv: Invocation) -> CommandOutcome:
    """`/forge reject [reason]`: the pull request closed, the reason kept by the intake."""
    service = service_for(inv.ctx)
    async with inv.ctx.db.pool.acquire() as conn:
        pull = await current_pull(conn, inv.thread.repository_id, inv.thread.number)
        outcome = await reject(inv.api, conn, pull, login=inv.comment.login, reason=inv.text)
    record = await service.find(pull.repository_id, pull.issue_number)
    if outcome.ok and record is not None:
        await service.rejected(record.id, inv.text)
    return CommandOutcome(outcome.text, outcome.ok)
