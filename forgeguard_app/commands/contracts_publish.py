"""Writing the contracts of an intake and publishing them: `/forge contracts`, or the questionnaire's end.

The contracts are rendered and validated (through `IntakeService`), committed
to their branch and proposed in a pull request; the intake's progress comment
says how it went.
"""

from __future__ import annotations

from forgeguard_app.commands import contracts_pr
from forgeguard_app.commands.command import Invocation, Outcome
from forgeguard_app.commands.intake_comment import service_for, show_intake
from forgeguard_app.commands.thread import Thread
from forgeguard_app.intake.contracts_validate import ContractsInvalid
from forgeguard_app.intake.service import IntakeService, StepResult
from forgeguard_app.intake.store import IntakeRecord
from forgeguard_app.llm.client import LLMError, LLMUnavailable

NO_INTAKE = "There is no intake in this issue. `/forge intake` starts one."


async def run_contracts(inv: Invocation) -> Outcome:
    """`/forge contracts`: the contracts now, from the answers so far (defaults marked)."""
    service = service_for(inv.ctx)
    record = await service.find(inv.thread.repository_id, inv.thread.number)
    if record is None:
        return Outcome(NO_INTAKE, ok=False)
    if record.status == "approved":
        return Outcome(
            f"The contracts of this intake were approved in #{record.contracts_pull_number}; "
            "`/forge intake restart` starts a new intake.",
            ok=False,
        )
    return Outcome(None, await publish(inv, service, record))


async def after_turn(inv: Invocation, service: IntakeService, result: StepResult) -> Outcome:
    """After a turn: when the questionnaire is finished, the contracts pull request follows."""
    if result.record.state.finished and result.record.status == "active":
        return Outcome(None, await publish(inv, service, result.record))
    return Outcome(None, ok=True)


def _where(thread: Thread) -> contracts_pr.Repo:
    return contracts_pr.Repo(
        installation_id=thread.installation_id,
        repository_id=thread.repository_id,
        owner=thread.owner,
        repo=thread.repo,
        default_branch=thread.default_branch,
    )


async def publish(inv: Invocation, service: IntakeService, record: IntakeRecord) -> bool:
    """Render and validate the contracts, commit them, open (or update) the pull request, tell the issue."""
    api, db, thread = inv.api, inv.ctx.db, inv.thread
    issue = record.issue_number
    base = await service.progress(record)
    await show_intake(api, db, thread, issue, base + "\n\n⏳ Writing the contracts…")
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
        await show_intake(api, db, thread, issue, f"{base}\n\n{failure}")
        return False
    project = str(draft.answers["product_intent"].get("name") or record.state.title or thread.title)
    async with db.pool.acquire() as conn:
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
    await show_intake(
        api,
        db,
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
