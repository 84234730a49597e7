"""`/forge audit` in a pull request: its head commit audited again."""

from __future__ import annotations

from forgeguard_app.checkruns.jobs import enqueue_audit
from forgeguard_app.commands.command import Invocation, Outcome


async def run_audit(inv: Invocation) -> Outcome:
    """Queue an audit of the pull request's head commit; the result appears in the Checks tab."""
    thread = inv.thread
    pull = await inv.api.getitem(
        "/repos/{owner}/{repo}/pulls/{pull_number}",
        {"owner": thread.owner, "repo": thread.repo, "pull_number": str(thread.number)},
    )
    head = str(pull["head"]["sha"])
    async with inv.ctx.db.pool.acquire() as conn:
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
    return Outcome(
        f"Auditing {head[:12]} again, as @{inv.comment.login} asked; the result appears in the Checks tab.",
        ok=True,
    )
