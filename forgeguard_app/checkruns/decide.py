"""Pure decisions: which events are audited with which base and head, and what a report concludes.

Nothing here does I/O; the router and the audit job call these functions with
webhook payloads and reports, and tests call them directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from checks import render
from checks.model import AuditReport, CheckResult
from checks.source import EMPTY_TREE

ZERO_SHA = "0" * 40
CHECK_RUN_NAME = "ForgeGuard"
RERUN_ACTION = "rerun"
"""The identifier of the "Re-run" button ForgeGuard offers on its check runs."""

PR_ACTIONS = frozenset({"opened", "synchronize", "reopened", "ready_for_review"})

Reason = Literal["push", "pull_request", "check_suite", "rerequested", "requested_action", "command"]
AUTOMATIC_REASONS: frozenset[str] = frozenset({"push", "pull_request", "check_suite"})
"""Audits GitHub triggers by itself: the same (head, base) is audited once, whichever event came first."""

Conclusion = Literal["success", "failure", "neutral", "skipped", "cancelled"]


@dataclass(frozen=True)
class AuditRequest:
    """What one audit job is asked to do: audit `base...head` of a repository."""

    installation_id: int
    owner: str
    repo: str
    head_sha: str
    base: str | None
    """A sha, a branch name, `EMPTY_TREE`, or None: the job decides (pull request, default branch)."""
    pull_number: int | None
    reason: Reason
    branch: str | None = None
    default_branch: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"

    @property
    def order_key(self) -> str:
        """Audits of one pull request, or of one branch, run one at a time in order."""
        name = self.full_name.lower()
        if self.pull_number is not None:
            return f"repo:{name}:pr:{self.pull_number}"
        if self.branch:
            return f"repo:{name}:ref:{self.branch}"
        return f"repo:{name}:sha:{self.head_sha}"

    @property
    def dedupe_key(self) -> str | None:
        """Automatic audits of the same change are done once; re-runs and commands always run."""
        if self.reason not in AUTOMATIC_REASONS:
            return None
        pr = "" if self.pull_number is None else str(self.pull_number)
        return f"{self.full_name.lower()}:{self.head_sha}:{self.base or ''}:{pr}"


def _installation_id(payload: Mapping[str, Any]) -> int | None:
    installation = payload.get("installation")
    if not isinstance(installation, Mapping) or not isinstance(installation.get("id"), int):
        return None
    return int(installation["id"])


def _repository(payload: Mapping[str, Any]) -> tuple[str, str, str | None] | None:
    repo = payload.get("repository")
    if not isinstance(repo, Mapping):
        return None
    full_name = repo.get("full_name")
    if not isinstance(full_name, str) or "/" not in full_name:
        return None
    owner, name = full_name.split("/", 1)
    default = repo.get("default_branch")
    return owner, name, default if isinstance(default, str) else None


def push_base(before: str | None, branch: str | None, default_branch: str | None) -> str | None:
    """The base a push (or its check suite) is compared with.

    `before...after` normally; a push that creates a branch (`before` all zeros)
    is compared with the default branch, and the first push of the default
    branch itself with the empty tree (its whole history is new).
    """
    if before and before != ZERO_SHA:
        return before
    if default_branch and branch != default_branch:
        return default_branch
    if default_branch and branch == default_branch:
        return EMPTY_TREE
    return None


def from_push(payload: Mapping[str, Any]) -> AuditRequest | None:
    """A branch push is audited; deletions and tag pushes are not."""
    installation_id = _installation_id(payload)
    repo = _repository(payload)
    ref = payload.get("ref")
    after = payload.get("after")
    if installation_id is None or repo is None or not isinstance(ref, str) or not isinstance(after, str):
        return None
    if not ref.startswith("refs/heads/") or payload.get("deleted") or after == ZERO_SHA:
        return None
    owner, name, default_branch = repo
    branch = ref.removeprefix("refs/heads/")
    before = payload.get("before")
    return AuditRequest(
        installation_id=installation_id,
        owner=owner,
        repo=name,
        head_sha=after,
        base=push_base(before if isinstance(before, str) else None, branch, default_branch),
        pull_number=None,
        reason="push",
        branch=branch,
        default_branch=default_branch,
    )


@dataclass(frozen=True)
class PullRequestHead:
    """A pull request's head commit, remembered because check suites of forks name no pull request."""

    owner: str
    repo: str
    head_sha: str
    pull_number: int
    base_sha: str
    base_ref: str
    head_repo: str | None


def pull_request_head(payload: Mapping[str, Any]) -> PullRequestHead | None:
    """The head → pull request row any pull_request event gives us (forks included)."""
    repo = _repository(payload)
    pr = payload.get("pull_request")
    if repo is None or not isinstance(pr, Mapping):
        return None
    head, base = pr.get("head"), pr.get("base")
    number = pr.get("number", payload.get("number"))
    if not isinstance(head, Mapping) or not isinstance(base, Mapping) or not isinstance(number, int):
        return None
    head_sha, base_sha = head.get("sha"), base.get("sha")
    if not isinstance(head_sha, str) or not isinstance(base_sha, str):
        return None
    head_repo = head.get("repo")
    head_full = head_repo.get("full_name") if isinstance(head_repo, Mapping) else None
    return PullRequestHead(
        owner=repo[0],
        repo=repo[1],
        head_sha=head_sha,
        pull_number=number,
        base_sha=base_sha,
        base_ref=str(base.get("ref") or ""),
        head_repo=head_full if isinstance(head_full, str) else None,
    )


def from_pull_request(payload: Mapping[str, Any]) -> AuditRequest | None:
    """opened, synchronize, reopened and ready_for_review audit `base.sha...head.sha`."""
    if payload.get("action") not in PR_ACTIONS:
        return None
    installation_id = _installation_id(payload)
    repo = _repository(payload)
    head = pull_request_head(payload)
    if installation_id is None or repo is None or head is None:
        return None
    pr = payload["pull_request"]
    if pr.get("state") == "closed":
        return None
    return AuditRequest(
        installation_id=installation_id,
        owner=repo[0],
        repo=repo[1],
        head_sha=head.head_sha,
        base=head.base_sha,
        pull_number=head.pull_number,
        reason="pull_request",
        branch=None,
        default_branch=repo[2],
    )


def _first_pull_request(items: object) -> tuple[int, str | None] | None:
    if not isinstance(items, list):
        return None
    for item in items:
        if isinstance(item, Mapping) and isinstance(item.get("number"), int):
            base = item.get("base")
            sha = base.get("sha") if isinstance(base, Mapping) else None
            return int(item["number"]), sha if isinstance(sha, str) else None
    return None


def from_check_suite(payload: Mapping[str, Any]) -> AuditRequest | None:
    """requested: audited like the branch push it belongs to; rerequested: audited again."""
    action = payload.get("action")
    if action not in ("requested", "rerequested"):
        return None
    installation_id = _installation_id(payload)
    repo = _repository(payload)
    suite = payload.get("check_suite")
    if installation_id is None or repo is None or not isinstance(suite, Mapping):
        return None
    head_sha = suite.get("head_sha")
    if not isinstance(head_sha, str):
        return None
    owner, name, default_branch = repo
    branch = suite.get("head_branch") if isinstance(suite.get("head_branch"), str) else None
    before = suite.get("before") if isinstance(suite.get("before"), str) else None
    if action == "requested":
        if branch is None:
            return None  # a commit reachable only from a tag: tag pushes are not audited
        return AuditRequest(
            installation_id=installation_id,
            owner=owner,
            repo=name,
            head_sha=head_sha,
            base=push_base(before, branch, default_branch),
            pull_number=None,
            reason="check_suite",
            branch=branch,
            default_branch=default_branch,
        )
    pr = _first_pull_request(suite.get("pull_requests"))
    return AuditRequest(
        installation_id=installation_id,
        owner=owner,
        repo=name,
        head_sha=head_sha,
        base=pr[1] if pr else None,
        pull_number=pr[0] if pr else None,
        reason="rerequested",
        branch=branch,
        default_branch=default_branch,
    )


def is_forgeguard_run(name: object) -> bool:
    """`ForgeGuard` or one of the per-check runs `ForgeGuard A1` …."""
    return isinstance(name, str) and (name == CHECK_RUN_NAME or name.startswith(CHECK_RUN_NAME + " "))


def from_check_run(payload: Mapping[str, Any]) -> AuditRequest | None:
    """ "Re-run" in the Checks tab, or ForgeGuard's own re-run button, audits the commit again."""
    action = payload.get("action")
    run = payload.get("check_run")
    if not isinstance(run, Mapping) or not is_forgeguard_run(run.get("name")):
        return None
    if action == "requested_action":
        requested = payload.get("requested_action")
        if not isinstance(requested, Mapping) or requested.get("identifier") != RERUN_ACTION:
            return None
    elif action != "rerequested":
        return None
    installation_id = _installation_id(payload)
    repo = _repository(payload)
    head_sha = run.get("head_sha")
    if installation_id is None or repo is None or not isinstance(head_sha, str):
        return None
    suite = run.get("check_suite")
    branch = suite.get("head_branch") if isinstance(suite, Mapping) else None
    pr = _first_pull_request(run.get("pull_requests"))
    return AuditRequest(
        installation_id=installation_id,
        owner=repo[0],
        repo=repo[1],
        head_sha=head_sha,
        base=pr[1] if pr else None,
        pull_number=pr[0] if pr else None,
        reason="requested_action" if action == "requested_action" else "rerequested",
        branch=branch if isinstance(branch, str) else None,
        default_branch=repo[2],
    )


def fallback_base(
    request_base: str | None,
    known_pr: PullRequestHead | None,
    previous_base: str | None,
    default_branch: str | None,
) -> str | None:
    """The base of a request that named none: the pull request's, the previous audit's, the default branch."""
    if request_base:
        return request_base
    if known_pr is not None:
        return known_pr.base_sha
    if previous_base:
        return previous_base
    return default_branch


# --- what a report concludes -------------------------------------------------------------


def nothing_applies(report: AuditReport) -> bool:
    """No changed files, or every check switched off or skipped."""
    return report.files == 0 or not any(r.applies for r in report.results)


def conclusion(report: AuditReport) -> Conclusion:
    """failure when a blocking check fails or errs, neutral when nothing applies, else success."""
    if report.overall == "fail":
        return "failure"
    if nothing_applies(report):
        return "neutral"
    return "success"


def title(report: AuditReport) -> str:
    """The engine's title (`2 of 12 checks failed: A1, A7 · 1 warning`), or why nothing was judged."""
    if report.overall == "pass" and nothing_applies(report):
        return "No changed files to audit" if report.files == 0 else "No checks apply to this change"
    return render.title(report)


OUTCOME_LABEL: dict[str, str] = {
    "pass": "Passed",
    "fail": "Failed",
    "warn": "Warning",
    "skip": "Skipped",
    "error": "Error",
}


def check_conclusion(result: CheckResult) -> Conclusion:
    """The conclusion of one check's own run (`report: per-check`)."""
    if not result.applies:
        return "skipped"
    if result.blocks:
        return "failure"
    if result.outcome == "pass":
        return "success"
    return "neutral"


def check_run_name(code: str | None) -> str:
    """`ForgeGuard` for the whole audit, `ForgeGuard A1` for one check."""
    return CHECK_RUN_NAME if code is None else f"{CHECK_RUN_NAME} {code}"


def check_title(result: CheckResult) -> str:
    label = "Off" if result.severity == "off" else OUTCOME_LABEL.get(result.outcome, result.outcome)
    return f"{result.code} {result.name}: {label}"
