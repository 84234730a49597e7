"""The sign-off sequence of one phase attempt (builder.md, in this order):

1. the app runs the project's tests and writes `Forge/evidence/test_runs_latest.md`;
2. it writes `Forge/evidence/updatedifflog.md` from the sign-off (claimed files, verification);
3. it audits the working tree as `forgeguard audit --working-tree --phase "<phase>"` would:
   the engine on `checks.memory_source` (the working tree as an uncommitted change on the branch
   head), with the repository's configuration from the default branch;
4. it commits the attempt (parent: the branch head; `forge: Phase <N> -- <name>`, with
   `(attempt k)` from the second) and creates its `ForgeGuard` check run from the audit;
5. on a pass, an evidence-only commit appends `AUTO-AUTHORIZED` to the ledger and the branch
   moves once, to it; on a fail, the attempt is kept on `refs/forge/attempts/…`.

Every tree and commit is recorded (`build_commits`) before a ref moves, and a
step run again after its worker died reuses what is recorded instead of
committing twice. A person's `/forge skip` goes through `skip_phase` the same way.
"""

from __future__ import annotations

import asyncio
import dataclasses
import difflib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jinja2
from gidgethub.abc import GitHubAPI

from checks.config import AuditConfig
from checks.context import AnalysisCache
from checks.engine import run_audit
from checks.memory_source import MemorySource
from checks.model import AuditReport
from checks.source import WORKING_TREE
from forgeguard_app.builder import conversation, github_side, store
from forgeguard_app.builder.state import Attempt, FailedCheck, PhaseState, attempt_ref, commit_message
from forgeguard_app.builder.store import BuildRow
from forgeguard_app.builder.tools import TestRun
from forgeguard_app.builder.workspace import Workspace
from forgeguard_app.checkruns import decide
from forgeguard_app.checkruns import report as rp
from forgeguard_app.checkruns import store as audits
from forgeguard_app.checkruns.decide import AuditRequest
from forgeguard_app.db import Database
from forgeguard_app.github.once import create_once
from forgeguard_app.settings import Settings

log = logging.getLogger(__name__)

EVIDENCE = "Forge/evidence"
TEST_RUNS_PATH = f"{EVIDENCE}/test_runs_latest.md"
DIFFLOG_PATH = f"{EVIDENCE}/updatedifflog.md"
LEDGER_PATH = f"{EVIDENCE}/audit_ledger.md"
OUTPUT_CHARS = 12_000
HUNK_CHARS = 30_000

_EVIDENCE_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("forgeguard_app", "templates/builder"),
    autoescape=False,  # noqa: S701 - committed evidence read by the engine, never posted on GitHub
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
"""Evidence files are committed and read back by the engine's parsers (paths in code spans, one-line
notes): values go in as written, each note flattened to one line (`one_line`)."""


def one_line(text: object, limit: int = 2_000) -> str:
    """A note from the model on one line (it cannot open a section of the diff log)."""
    value = " ".join(str(text or "").split())
    return value[:limit] or "(none given)"


def cut_output(text: str, limit: int = OUTPUT_CHARS) -> str:
    """The test output cut to a readable size, keeping its start and its end (where pytest summarises)."""
    text = text.replace("```", "'''")
    if len(text) <= limit:
        return text
    head = text[: limit // 3]
    tail = text[-(limit - len(head)) :]
    return f"{head}\n[… {len(text) - limit:,} characters left out …]\n{tail}"


def test_runs_text(run: TestRun, title: str, attempt: int) -> str:
    """`Forge/evidence/test_runs_latest.md`: `Status: PASS|FAIL` on line 1, the command, counts, output."""
    return _EVIDENCE_ENV.get_template("evidence_test_runs.md.j2").render(
        run=run, title=title, attempt=attempt, output=cut_output(run.output)
    )


def diff_hunks(
    base: Mapping[str, bytes], pending: Mapping[str, bytes | None], limit: int = HUNK_CHARS
) -> str:
    """Unified diffs of the changed text files (evidence left out), cut at `limit` characters."""
    parts: list[str] = []
    size = 0
    for path in sorted(pending):
        if path.startswith(f"{EVIDENCE}/"):
            continue
        new, old = pending[path], base.get(path)
        try:
            a = (old or b"").decode("utf-8").splitlines()
            b = (new or b"").decode("utf-8").splitlines()
        except UnicodeDecodeError:
            parts.append(f"Binary file {path} changed")
            continue
        lines = list(
            difflib.unified_diff(
                a,
                b,
                fromfile="/dev/null" if old is None else f"a/{path}",
                tofile="/dev/null" if new is None else f"b/{path}",
                lineterm="",
            )
        )
        chunk = "\n".join(lines).replace("```", "'''")
        if size + len(chunk) > limit:
            parts.append(f"[… hunks of {path} and later files left out …]")
            break
        parts.append(chunk)
        size += len(chunk)
    return "\n".join(p for p in parts if p)


def difflog_text(
    *,
    title: str,
    base_head: str,
    attempt: int,
    signoff: Mapping[str, Any],
    hunks: str,
) -> str:
    """`Forge/evidence/updatedifflog.md` for the cycle from the sign-off, sections in builder.md's order."""
    claimed = [str(p).strip().strip("`") for p in signoff.get("claimed_files") or [] if str(p).strip()]
    notes = signoff.get("verification") or {}
    verification = {key: one_line(notes.get(key)) for key in ("static", "runtime", "behavior", "contract")}
    return _EVIDENCE_ENV.get_template("evidence_difflog.md.j2").render(
        title=title,
        base_head=base_head,
        attempt=attempt,
        summary=one_line(signoff.get("summary")),
        claimed=list(dict.fromkeys(claimed)),
        verification=verification,
        hunks=hunks,
    )


def ledger_entry(phase: PhaseState, attempt_sha: str, *, skipped_by: str | None = None) -> str:
    """The authorization appended to the ledger: AUTO-AUTHORIZED, or AUTHORIZED (skipped by @login)."""
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if skipped_by:
        head = f"AUTHORIZED (skipped by @{skipped_by}): {phase.title}"
    else:
        head = f"AUTO-AUTHORIZED: {phase.title}"
    return f"\n---\n{head}\nCommit: {attempt_sha}\nTimestamp: {when}\n"


def with_ledger_entry(ledger: bytes | None, entry: str) -> bytes:
    text = (ledger or b"# Audit Ledger\n").decode("utf-8", "replace")
    if not text.endswith("\n"):
        text += "\n"
    return (text + entry).encode("utf-8")


def audit_working_tree(
    workspace: Workspace,
    branch_head: str,
    config: AuditConfig,
    title: str,
    cache: AnalysisCache | None = None,
) -> tuple[AuditReport, dict[str, bytes | None]]:
    """The engine on the working tree as an uncommitted change on the branch head (`--working-tree`)."""
    source = MemorySource(
        workspace.snapshot(), workspace.base_files(), head_commit=WORKING_TREE, base_commit=branch_head
    )
    change = dataclasses.replace(
        source.change(branch_head, WORKING_TREE), working_tree=True, merge_base=branch_head
    )
    report = run_audit(source, change, config, phase=title, cache=cache)
    return report, workspace.pending()


def failed_checks(report: AuditReport) -> list[FailedCheck]:
    """The blocking failures of an audit, with their findings, as the build state keeps them."""
    return [
        FailedCheck(check.code, check.name, check.detail, list(check.findings))
        for check in conversation.failed_checks(report)
    ]


@dataclass
class Signoff:
    """What one sign-off needs: the build, the phase and attempt, the tree and how to reach GitHub."""

    api: GitHubAPI
    db: Database
    settings: Settings
    build: BuildRow
    phase: PhaseState
    attempt: int
    workspace: Workspace
    config: AuditConfig
    cache: AnalysisCache | None = None

    @property
    def owner(self) -> str:
        return self.build.owner

    @property
    def repo(self) -> str:
        return self.build.repo

    @property
    def state(self) -> Any:
        return self.build.state

    async def write_evidence(self, run: TestRun, signoff: Mapping[str, Any]) -> None:
        """The test run and the diff log, written into the working tree (they go into the attempt)."""
        ws = self.workspace
        ws.write(TEST_RUNS_PATH, test_runs_text(run, self.phase.title, self.attempt).encode("utf-8"))
        pending = ws.pending()
        pending.pop(DIFFLOG_PATH, None)
        hunks = diff_hunks(ws.base_files(), pending)
        text = difflog_text(
            title=self.phase.title,
            base_head=self.phase.base_head,
            attempt=self.attempt,
            signoff=signoff,
            hunks=hunks,
        )
        ws.write(DIFFLOG_PATH, text.encode("utf-8"))

    async def audit(self) -> tuple[AuditReport, dict[str, bytes | None]]:
        return await asyncio.to_thread(
            audit_working_tree,
            self.workspace,
            self.state.branch_head,
            self.config,
            self.phase.title,
            self.cache,
        )

    async def commit_attempt(self, pending: Mapping[str, bytes | None]) -> tuple[str, str]:
        """The attempt commit on the branch head, made once (recorded before anything points at it)."""
        recorded = await store.find_commit(
            self.db.pool, self.build.id, self.phase.number, self.attempt, "attempt"
        )
        if recorded is not None and recorded.commit_sha:
            return recorded.commit_sha, recorded.tree_sha
        modes = {path: self.workspace.mode(path) for path, data in pending.items() if data is not None}
        tree = await github_side.create_tree(
            self.api,
            self.owner,
            self.repo,
            base_tree=self.state.branch_tree,
            files=pending,
            modes={p: m for p, m in modes.items() if m in ("100644", "100755")},
        )
        await store.record_tree(
            self.db.pool,
            self.build.id,
            phase=self.phase.number,
            attempt=self.attempt,
            kind="attempt",
            owner=self.owner,
            repo=self.repo,
            parent_sha=self.state.branch_head,
            tree_sha=tree,
        )
        sha = await github_side.create_commit(
            self.api,
            self.owner,
            self.repo,
            tree=tree,
            parent=self.state.branch_head,
            message=commit_message(self.phase, self.attempt),
        )
        await store.record_commit(
            self.db.pool, self.build.id, self.phase.number, self.attempt, "attempt", sha
        )
        return sha, tree

    async def check_run(self, sha: str, report: AuditReport) -> tuple[int, int]:
        """The attempt's `ForgeGuard` check run, from this audit (an audit row behind its Details link)."""
        recorded = await store.find_commit(
            self.db.pool, self.build.id, self.phase.number, self.attempt, "attempt"
        )
        if recorded is not None and recorded.check_run_id and recorded.audit_id:
            return recorded.check_run_id, recorded.audit_id
        conclusion = decide.conclusion(report)
        audit_id = recorded.audit_id if recorded is not None else None
        if audit_id is None:
            async with self.db.pool.acquire() as conn, conn.transaction():
                request = AuditRequest(
                    installation_id=self.build.installation_id,
                    owner=self.owner,
                    repo=self.repo,
                    head_sha=sha,
                    base=self.state.branch_head,
                    pull_number=self.build.pull_number,
                    reason="command",
                    branch=self.build.branch,
                    default_branch=self.build.default_branch,
                )
                created = await audits.create_audit(conn, request)
                assert created is not None  # commands are never deduplicated
                audit_id = created
                await audits.start_audit(conn, audit_id, self.state.branch_head)
                await audits.save_report(conn, audit_id, report, report_mode="summary")
                await audits.finish_audit(
                    conn, audit_id, conclusion=conclusion, title=decide.title(report), api_calls=None
                )
                await conn.execute(
                    """UPDATE build_commits SET audit_id = $4
                       WHERE build_id = $1 AND phase = $2 AND attempt = $3 AND kind = 'attempt'""",
                    self.build.id,
                    self.phase.number,
                    self.attempt,
                    audit_id,
                )
        url = f"{self.settings.public_url.rstrip('/')}/audits/{audit_id}"
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        payload = rp.summary_run(report, rp.RunView(url, self.config), now)
        first, *more = payload.updates
        external_id = f"build:{self.build.id}:{self.phase.number}:{self.attempt}"

        async def create() -> dict[str, Any]:
            created = await self.api.post(
                "/repos/{owner}/{repo}/check-runs",
                {"owner": self.owner, "repo": self.repo},
                data={
                    "name": payload.name,
                    "head_sha": sha,
                    "details_url": url,
                    "external_id": external_id,
                    "started_at": now,
                    **first,
                },
            )
            return dict(created)

        async def find() -> dict[str, Any] | None:
            return await github_side.find_check_run(
                self.api, self.owner, self.repo, sha, payload.name, external_id
            )

        # an audit recorded without its run: an earlier try may have made the run before it was lost
        run = await find() if recorded is not None and recorded.audit_id else None
        if run is None:
            run = await create_once(self.api, create, find)
        run_id = int(run["id"])
        if run.get("status") != "completed":
            # the annotation batches after the first (a run found in progress may show some twice)
            for update in more:
                await self.api.patch(
                    "/repos/{owner}/{repo}/check-runs/{id}",
                    {"owner": self.owner, "repo": self.repo, "id": str(run_id)},
                    data=update,
                )
        async with self.db.pool.acquire() as conn, conn.transaction():
            await store.record_check_run(
                conn,
                self.build.id,
                self.phase.number,
                self.attempt,
                check_run_id=run_id,
                conclusion=conclusion,
                audit_id=audit_id,
            )
            await audits.add_check_run(conn, audit_id, payload.name, run_id)
            await audits.complete_check_run(conn, audit_id, payload.name, conclusion)
        return run_id, audit_id

    async def authorize(
        self,
        attempt_sha: str,
        attempt_tree: str,
        *,
        kind: str = "authorization",
        skipped_by: str | None = None,
    ) -> tuple[str, str]:
        """The evidence-only commit on top of the attempt, then the one move of the branch; (sha, tree)."""
        recorded = await store.find_commit(self.db.pool, self.build.id, self.phase.number, self.attempt, kind)
        if recorded is not None and recorded.commit_sha:
            sha, tree = recorded.commit_sha, recorded.tree_sha
        else:
            ledger_path = LEDGER_PATH
            try:
                current = self.workspace.read(ledger_path)
            except FileNotFoundError:
                current = None
            entry = ledger_entry(self.phase, attempt_sha, skipped_by=skipped_by)
            ledger = with_ledger_entry(current, entry)
            self.workspace.write(ledger_path, ledger)
            tree = await github_side.create_tree(
                self.api, self.owner, self.repo, base_tree=attempt_tree, files={ledger_path: ledger}
            )
            await store.record_tree(
                self.db.pool,
                self.build.id,
                phase=self.phase.number,
                attempt=self.attempt,
                kind=kind,
                owner=self.owner,
                repo=self.repo,
                parent_sha=attempt_sha,
                tree_sha=tree,
            )
            title = self.phase.title
            message = (
                f"forge: authorize {title}" if not skipped_by else f"forge: skip {title} (by @{skipped_by})"
            )
            sha = await github_side.create_commit(
                self.api, self.owner, self.repo, tree=tree, parent=attempt_sha, message=message
            )
            await store.record_commit(self.db.pool, self.build.id, self.phase.number, self.attempt, kind, sha)
        head = self.state.branch_head
        if recorded is not None:
            # a step run again: the branch may have moved already
            head = await github_side.branch_head_or(self.api, self.owner, self.repo, self.build.branch, head)
        if head != sha:
            await github_side.move_branch(self.api, self.owner, self.repo, self.build.branch, sha)
        await store.record_ref(
            self.db.pool,
            self.build.id,
            self.phase.number,
            self.attempt,
            kind,
            f"refs/heads/{self.build.branch}",
        )
        self.workspace.advance(sha)
        return sha, tree

    async def keep_failed(self, attempt_sha: str) -> str:
        ref = attempt_ref(self.build.issue_number, self.phase, self.attempt)
        await github_side.keep_ref(self.api, self.owner, self.repo, ref, attempt_sha)
        await store.record_ref(self.db.pool, self.build.id, self.phase.number, self.attempt, "attempt", ref)
        return ref


@dataclass(frozen=True)
class SignoffResult:
    passed: bool
    attempt: Attempt
    failed: list[FailedCheck]
    report: AuditReport
    authorization_sha: str | None
    tree_sha: str | None


async def sign_off(job: Signoff, run: TestRun, signoff: Mapping[str, Any]) -> SignoffResult:
    """Evidence, audit, attempt commit and check run, then the authorization or the attempt's own ref."""
    await job.write_evidence(run, signoff)
    report, pending = await job.audit()
    sha, tree = await job.commit_attempt(pending)
    run_id, audit_id = await job.check_run(sha, report)
    conclusion = decide.conclusion(report)
    attempt = Attempt(
        number=job.attempt,
        sha=sha,
        conclusion=conclusion,
        check_run_id=run_id,
        audit_id=audit_id,
        title=decide.title(report),
    )
    if report.overall != "fail":
        auth_sha, auth_tree = await job.authorize(sha, tree)
        attempt = dataclasses.replace(attempt, ref=f"refs/heads/{job.build.branch}")
        return SignoffResult(True, attempt, [], report, auth_sha, auth_tree)
    ref = await job.keep_failed(sha)
    attempt = dataclasses.replace(attempt, ref=ref)
    return SignoffResult(False, attempt, failed_checks(report), report, None, None)
