"""The contracts pull request on GitHub: commit the files, open the PR, label it, tell the issue.

Branch `forge/contracts-<issue>` from the default branch's head; title
`Forge contracts: <project>`; the body links the issue with "refs #N" (never
"closes", which would close the intake issue on merge). Approve and reject
record the decision in `contracts_pulls`, label or close the pull request and
tell the issue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gidgethub.abc import GitHubAPI

from forgeguard_app.commands import gitdata, progress_comment, store
from forgeguard_app.db import Executor
from forgeguard_app.markdown import Trusted, markdown_env, md, plain

CONTRACTS_LABEL = "forge:contracts"
APPROVED_LABEL = "forge:approved"
INTAKE_LABEL = "forge:intake"
FORGE_DIR = "Forge"
CONTRACTS_DIR = f"{FORGE_DIR}/Contracts"
FORGE_JSON = "forge.json"
PHASES_PATH = f"{CONTRACTS_DIR}/phases.md"

_env = markdown_env("templates/commands")


@dataclass(frozen=True)
class Repo:
    """Where the contracts go."""

    installation_id: int
    repository_id: int
    owner: str
    repo: str
    default_branch: str


@dataclass(frozen=True)
class Published:
    """What `publish` did."""

    pull_number: int
    head_sha: str
    opened: bool
    changed: bool


def branch_name(issue_number: int) -> str:
    return f"forge/contracts-{issue_number}"


def pr_title(project: str) -> str:
    """The pull request's title; the project's name comes from people's answers (plain, defused)."""
    return f"Forge contracts: {plain(project, 200) or 'project'}"


def pr_body(*, project: str, issue_number: int, summary: str, branch: str) -> str:
    """The pull request's body: the project's name escaped; `summary` is Markdown ForgeGuard composed
    (`summarize_contracts`, its cells already through `md`)."""
    return (
        _env.get_template("contracts_pr_body.md.j2")
        .render(
            project=project,
            issue_number=issue_number,
            summary=Trusted(summary.strip()),
            branch=Trusted(branch),
        )
        .strip()
    )


def commit_message(issue_number: int, what: str) -> str:
    return f"forge: {what} (from #{issue_number})"


async def publish(
    api: GitHubAPI,
    conn: Executor,
    where: Repo,
    *,
    issue_number: int,
    project: str,
    files: Mapping[str, str],
    summary: str,
) -> Published:
    """Commit the contracts to their branch and open the pull request (or reuse the open one)."""
    branch = branch_name(issue_number)
    result = await gitdata.commit_files(
        api,
        where.owner,
        where.repo,
        branch=branch,
        base_branch=where.default_branch,
        files=files,
        message=commit_message(issue_number, f"contracts for {project}"),
    )
    existing = await store.by_issue(conn, where.repository_id, issue_number)
    if existing is not None and existing.state == "open":
        await store.set_head(conn, where.repository_id, issue_number, result.sha)
        return Published(existing.pull_number, result.sha, opened=False, changed=result.changed)
    number = await gitdata.open_pull_number(api, where.owner, where.repo, branch)
    if number is None:
        pull = await gitdata.open_pull_request(
            api,
            where.owner,
            where.repo,
            title=pr_title(project),
            head=branch,
            base=where.default_branch,
            body=pr_body(project=project, issue_number=issue_number, summary=summary, branch=branch),
        )
        number = int(pull["number"])
    await gitdata.add_labels(api, where.owner, where.repo, number, [CONTRACTS_LABEL])
    await store.save_opened(
        conn,
        repository_id=where.repository_id,
        issue_number=issue_number,
        installation_id=where.installation_id,
        owner=where.owner,
        repo=where.repo,
        pull_number=number,
        branch=branch,
        base_branch=where.default_branch,
        project=project,
        head_sha=result.sha,
    )
    return Published(number, result.sha, opened=True, changed=True)


async def read_contracts(api: GitHubAPI, pull: store.ContractsPull) -> dict[str, str]:
    """The files under `Forge/` as they are on the branch now (human edits included), plus `forge.json`."""
    files = await gitdata.read_tree(api, pull.owner, pull.repo, FORGE_DIR, pull.branch)
    forge_json = await gitdata.read_file(api, pull.owner, pull.repo, FORGE_JSON, pull.branch)
    if forge_json is not None:
        files[FORGE_JSON] = forge_json
    return files


async def commit_revision(
    api: GitHubAPI, conn: Executor, pull: store.ContractsPull, changed: Mapping[str, str], instructions: str
) -> gitdata.CommitResult:
    """Commit the revised files on top of the branch's current head."""
    first_line = instructions.strip().splitlines()[0][:60] if instructions.strip() else "revision"
    result = await gitdata.commit_files(
        api,
        pull.owner,
        pull.repo,
        branch=pull.branch,
        base_branch=pull.base_branch,
        files=changed,
        message=commit_message(pull.issue_number, f"revise contracts: {first_line}"),
    )
    await store.set_head(conn, pull.repository_id, pull.issue_number, result.sha)
    return result


async def approve(
    api: GitHubAPI, conn: Executor, pull: store.ContractsPull, *, login: str, head_sha: str
) -> None:
    """Record the approval at `head_sha`, label the pull request, tell the issue."""
    await store.decide(conn, pull.repository_id, pull.issue_number, state="approved", by=login, sha=head_sha)
    await gitdata.add_labels(api, pull.owner, pull.repo, pull.pull_number, [APPROVED_LABEL])
    await progress_comment.reply(
        api,
        pull.owner,
        pull.repo,
        pull.issue_number,
        f"The contracts in #{pull.pull_number} were approved by @{login} at {head_sha[:12]}. "
        "They are ready for the builder.",
    )


async def reject(
    api: GitHubAPI, conn: Executor, pull: store.ContractsPull, *, login: str, reason: str
) -> None:
    """Close the pull request, keep the reason, tell the issue."""
    await store.decide(
        conn,
        pull.repository_id,
        pull.issue_number,
        state="rejected",
        by=login,
        sha=pull.head_sha,
        reason=reason,
    )
    await gitdata.update_pull_request(api, pull.owner, pull.repo, pull.pull_number, state="closed")
    await progress_comment.reply(
        api, pull.owner, pull.repo, pull.issue_number, rejection_notice(pull.pull_number, login, reason)
    )


def rejection_notice(pull_number: int, login: str, reason: str) -> str:
    """What the intake issue is told of a rejection: the reason escaped, nobody pinged."""
    why = f" Reason: {md(reason)}" if reason.strip() else " No reason was given."
    return (
        f"The contracts in #{pull_number} were rejected by {md('@' + login)} and the pull request closed."
        f"{why}\n\n`/forge contracts` here makes a new set from the intake's answers."
    )
