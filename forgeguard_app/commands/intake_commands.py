"""The commands that start or steer an intake in its issue: `intake [restart]`, `back`, `edit <section>`."""

from __future__ import annotations

from gidgethub.abc import GitHubAPI

from forgeguard_app.commands import contracts_pr, gitdata
from forgeguard_app.commands.command import Invocation, Outcome
from forgeguard_app.commands.contracts_publish import after_turn
from forgeguard_app.commands.intake_comment import (
    ANSWERING,
    gave_up,
    service_for,
    show_intake,
    wait_for_model,
    with_note,
)
from forgeguard_app.commands.thread import Thread
from forgeguard_app.intake.sections import UnknownSection
from forgeguard_app.markdown import code


async def issue_body(api: GitHubAPI, thread: Thread, number: int) -> str:
    """The issue's description, the intake's first answer."""
    issue = await api.getitem(
        "/repos/{owner}/{repo}/issues/{issue_number}",
        {"owner": thread.owner, "repo": thread.repo, "issue_number": str(number)},
    )
    return str(issue.get("body") or "")


async def run_intake(inv: Invocation) -> Outcome:
    """`/forge intake [restart]`."""
    thread, api, ctx = inv.thread, inv.api, inv.ctx
    service = service_for(ctx)
    argument = inv.args.strip().lower()
    if argument not in ("", "restart"):
        return Outcome(
            f"`/forge intake` takes no argument but `restart`; got {code(argument, 40)}.", ok=False
        )
    existing = await service.find(thread.repository_id, thread.number)
    resume = (
        existing is not None
        and argument != "restart"
        and existing.status == "waiting_model"
        and not existing.state.transcript
        and await service.pending_count(existing.id) == 0
    )
    result = await service.start(
        installation_id=thread.installation_id,
        repository_id=thread.repository_id,
        repository_full_name=f"{thread.owner}/{thread.repo}",
        issue_number=thread.number,
        title=thread.title,
        description=await issue_body(api, thread, thread.number),
        restart=argument == "restart" or resume,
    )
    await gitdata.add_labels(api, thread.owner, thread.repo, thread.number, [contracts_pr.INTAKE_LABEL])
    await show_intake(api, ctx.db, thread, thread.number, with_note(result, inv.note) + gave_up(ctx, result))
    if result.unavailable:
        return wait_for_model(inv)
    if existing is not None and argument != "restart" and not resume:
        return Outcome(None, ok=True)
    return await after_turn(inv, service, result)


async def run_reopen(inv: Invocation) -> Outcome:
    """`/forge back` and `/forge edit <section>`."""
    thread, ctx = inv.thread, inv.ctx
    service = service_for(ctx)
    record = await service.find(thread.repository_id, thread.number)
    assert record is not None  # the router runs these only in an intake issue
    if record.status not in ANSWERING:
        return Outcome(
            "The contracts of this intake are already in a pull request; use `/forge revise` there, "
            "or `/forge intake restart` here to start over.",
            ok=False,
        )
    try:
        if inv.name == "back":
            result = await service.back(record.id)
        else:
            if not inv.args.strip():
                return Outcome("`/forge edit` needs a section, e.g. `/forge edit tech stack`.", ok=False)
            result = await service.edit(record.id, inv.args)
    except UnknownSection as exc:
        return Outcome(str(exc), ok=False)
    await show_intake(
        inv.api, ctx.db, thread, thread.number, with_note(result, inv.note) + gave_up(ctx, result)
    )
    if result.unavailable:
        return wait_for_model(inv)
    return Outcome(None, ok=True)
