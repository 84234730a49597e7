"""`/forge status`: where an issue's intake, its contracts pull request and its build stand."""

from __future__ import annotations

from forgeguard_app.builder import commands as builder_commands
from forgeguard_app.commands import store
from forgeguard_app.commands.command import Invocation, Outcome
from forgeguard_app.commands.intake_comment import service_for
from forgeguard_app.commands.thread import Place, Thread
from forgeguard_app.context import JobContext
from forgeguard_app.markdown import code, md


def pull_line(pull: store.ContractsPull) -> str:
    """One line on a contracts pull request: open, or who decided (not pinged) and why (escaped)."""
    by = md(f"@{pull.decided_by}")
    state = {
        "open": "open for review",
        "approved": f"approved by {by} at {(pull.decided_sha or '')[:12]}",
        "rejected": f"rejected by {by}" + (f" ({md(pull.reason)})" if pull.reason else ""),
    }[pull.state]
    return f"Contracts pull request #{pull.pull_number} ({code(pull.branch)}): {state}."


async def status_text(ctx: JobContext, thread: Thread) -> str:
    """The status reply for this issue or pull request."""
    async with ctx.db.pool.acquire() as conn:
        if thread.is_pull_request:
            pull = await store.by_pull(conn, thread.repository_id, thread.number)
            if pull is None:
                return (
                    "This pull request is not a contracts pull request. ForgeGuard audits it on every push; "
                    "`/forge audit` audits its head commit again."
                )
            return f"{pull_line(pull)} From the intake in #{pull.issue_number}."
        pull = await store.by_issue(conn, thread.repository_id, thread.number)
    service = service_for(ctx)
    record = await service.find(thread.repository_id, thread.number)
    if record is None:
        return "There is no intake in this issue. `/forge intake` starts one."
    text = await service.progress(record)
    return text + (f"\n\n{pull_line(pull)}" if pull else "")


async def run_status(inv: Invocation) -> Outcome:
    """`/forge status`: the intake and contracts, and the build when there is one."""
    build = await builder_commands.status_text(inv.ctx, inv.thread)
    if build is not None and Place.BUILD_PR in inv.places:
        return Outcome(build, ok=True)
    text = await status_text(inv.ctx, inv.thread)
    return Outcome(text + (f"\n\n{build}" if build else ""), ok=True)
