"""The `audit` job: check runs created in progress, the change audited, results stored, runs completed.

A webhook handler (or `/forge audit`) only calls `enqueue_audit`; this job does
the work. It never leaves a check run `in_progress`: a failure on the final
attempt completes every open run `neutral` with a sentence saying why and how
to re-run, a retried attempt reuses the runs it created (those a dead attempt
created but never recorded are found again by `external_id`), and
`complete_stuck_audits` (run by the watchdog) closes runs whose job vanished.
A head commit keeps one `ForgeGuard` run: an automatic push audit gives way to
a pull request audit of the same head.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import gidgethub

from checks.config import CHECK_CODES, AuditConfig
from checks.context import AnalysisCache
from checks.engine import run_audit
from checks.model import AuditReport
from checks.source import EMPTY_TREE, Change, Source
from forgeguard_app.checkruns import decide, fetch, store
from forgeguard_app.checkruns import report as rp
from forgeguard_app.checkruns.decide import AuditRequest, Reason
from forgeguard_app.context import JobContext
from forgeguard_app.db import Executor
from forgeguard_app.github.once import create_once
from forgeguard_app.jobs import enqueue, handler
from forgeguard_app.settings import Settings

if TYPE_CHECKING:
    from forgeguard_app.db import Database
    from forgeguard_app.github.client import GitHubApp, InstallationAPI
    from forgeguard_app.github.source import GitHubSource

log = logging.getLogger(__name__)

AUDIT_JOB = "audit"
MAX_ATTEMPTS = 4
STUCK_AFTER = timedelta(minutes=15)
"""An audit still in progress after this long has lost its job: the watchdog completes its runs."""
SWEEP_EVERY = 60.0
MAX_REQUEUES = 3
"""An audit whose jobs keep ending before it can report is queued again this often, then completed neutral."""
ORPHANS_WITHIN = timedelta(days=1)


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def audit_url(settings: Settings, audit_id: int) -> str:
    """The check run's details_url: the audit on ForgeGuard's status page."""
    return f"{settings.public_url.rstrip('/')}/audits/{audit_id}"


# --- queueing -----------------------------------------------------------------------------


async def resolve_request(
    conn: Executor, request: AuditRequest, check_run_id: int | None = None
) -> AuditRequest:
    """Fill in what a re-run or a fork's check suite does not say: the pull request and its base."""
    if request.base is not None:
        return request
    if check_run_id is not None:
        previous = await store.audit_for_check_run(conn, check_run_id)
        if previous is not None and previous.base is not None:
            return dataclasses.replace(
                request,
                base=previous.base,
                pull_number=request.pull_number if request.pull_number is not None else previous.pull_number,
                default_branch=request.default_branch or previous.default_branch,
            )
    known = await store.pull_request_for_head(
        conn, request.owner, request.repo, request.head_sha, request.pull_number
    )
    if known is not None:
        return dataclasses.replace(request, base=known.base_sha, pull_number=known.pull_number)
    return request


async def enqueue_request(
    conn: Executor, request: AuditRequest, check_run_id: int | None = None
) -> int | None:
    """Store the audit and queue its job in the caller's transaction; None when it is a duplicate."""
    request = await resolve_request(conn, request, check_run_id)
    audit_id = await store.create_audit(conn, request)
    if audit_id is None:
        return None
    await enqueue(conn, AUDIT_JOB, {"audit_id": audit_id}, order_key=request.order_key)
    return audit_id


async def enqueue_audit(
    conn: Executor,
    *,
    installation_id: int,
    owner: str,
    repo: str,
    head_sha: str,
    base_sha: str | None,
    pull_number: int | None,
    reason: Reason,
    default_branch: str | None = None,
) -> int | None:
    """Queue an audit of `head_sha` (e.g. `/forge audit` in a pull request); the audit's id.

    With `base_sha` None the pull request's base (from the pull request events
    ForgeGuard saw) or else the default branch is used. Commands and re-runs
    are never deduplicated; automatic reasons are (None when already queued).
    """
    request = AuditRequest(
        installation_id=installation_id,
        owner=owner,
        repo=repo,
        head_sha=head_sha,
        base=base_sha,
        pull_number=pull_number,
        reason=reason,
        default_branch=default_branch,
    )
    return await enqueue_request(conn, request)


# --- the job ------------------------------------------------------------------------------


def failure_reason(exc: BaseException) -> str:
    """A sentence for the check run saying why the audit could not finish (never a token or a traceback)."""
    if isinstance(exc, gidgethub.RateLimitExceeded):
        return "GitHub's API rate limit for this installation was used up."
    if isinstance(exc, gidgethub.GitHubBroken):
        return f"GitHub kept answering {int(exc.status_code)} (a server error) after several retries."
    if isinstance(exc, gidgethub.BadRequest):
        status = int(exc.status_code)
        if status == 401:
            return "GitHub refused the installation's credentials (401), even with a fresh token."
        if status in (403, 429):
            return f"GitHub refused the requests ({status}): a rate limit or a missing permission."
        if status == 404:
            return (
                "GitHub could not find the commits to compare (404); the branch may have been force-pushed."
            )
        return f"GitHub answered {status} to a request the audit needed."
    if isinstance(exc, gidgethub.GitHubException):
        return "GitHub could not be reached after several retries."
    if isinstance(exc, TimeoutError):
        return "The audit took too long."
    if isinstance(exc, LookupError) and str(exc):
        return f"{str(exc)[:1].upper()}{str(exc)[1:300]}."
    return f"ForgeGuard hit an internal error ({type(exc).__name__})."


def audit_change(
    source: Source, change: Change, config: AuditConfig, cache: AnalysisCache | None
) -> AuditReport:
    """The engine on a fetched change (run in a worker thread: the source's reads block)."""
    return run_audit(source, change, config, full=False, cache=cache)


def _github_source(api: InstallationAPI, owner: str, repo: str) -> GitHubSource:
    from forgeguard_app.github.repository import GitHubRepository
    from forgeguard_app.github.source import GitHubSource

    return GitHubSource(GitHubRepository(api, owner, repo), asyncio.get_running_loop())


async def gather_all(*aws: Awaitable[Any]) -> list[Any]:
    """Run concurrently; when one fails, wait for the others, then raise the first failure."""
    results = await asyncio.gather(*aws, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


@dataclasses.dataclass
class AuditRun:
    """One attempt at one audit: everything the job does, with the I/O in plain methods."""

    db: Database
    api: InstallationAPI
    settings: Settings
    row: store.AuditRow
    cache: AnalysisCache | None = None
    """Per-file analyses kept across audits (the worker's); None: this audit's own only."""

    @property
    def url(self) -> str:
        return audit_url(self.settings, self.row.id)

    def _path(self, suffix: str = "") -> str:
        return f"/repos/{self.row.owner}/{self.row.repo}/check-runs{suffix}"

    async def create_runs(self, names: list[str]) -> dict[str, int]:
        """The runs, created `in_progress` (each stored at once, so a retry reuses them).

        A pull request audit takes over the run a push audit of the same head
        still has in progress, so that the commit keeps one `ForgeGuard` run.
        """
        runs = await store.check_runs_of(self.db.pool, self.row.id)
        for name in names:
            if name in runs:
                continue
            body = rp.in_progress_create(name, self.row.head_sha, self.url, str(self.row.id), utc_now())
            taken = None
            if self.row.pull_number is not None:
                taken = await store.take_over_check_run(
                    self.db.pool, self.row.id, self.row.owner, self.row.repo, self.row.head_sha, name
                )
            if taken is not None:
                update = {k: v for k, v in body.items() if k not in ("name", "head_sha", "started_at")}
                await self.api.patch(self._path(f"/{taken}"), data=update)
                runs[name] = taken
                continue
            created = await self.create_run(name, body)
            runs[name] = int(created["id"])
            await store.add_check_run(self.db.pool, self.row.id, name, runs[name])
        return runs

    async def create_run(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a check run; after a lost answer, the run the first request made (found by external_id)."""

        async def create() -> dict[str, Any]:
            return dict(await self.api.post(self._path(), data=body))

        return await create_once(self.api, create, lambda: self.find_run(name))

    async def find_run(self, name: str) -> dict[str, Any] | None:
        """This audit's run `name` on GitHub (its external_id is the audit's id), if GitHub has one."""
        listed = await self.api.getitem(
            "/repos/{owner}/{repo}/commits/{ref}/check-runs{?check_name,filter,per_page}",
            {
                "owner": self.row.owner,
                "repo": self.row.repo,
                "ref": self.row.head_sha,
                "check_name": name,
                "filter": "all",
                "per_page": "100",
            },
        )
        for run in listed.get("check_runs", []):
            if run.get("external_id") == str(self.row.id) and run.get("name") == name:
                return dict(run)
        return None

    async def adopt_orphans(self) -> None:
        """Record the runs an earlier attempt created but died before storing (found by external_id).

        Only after an attempt that started: the normal path costs no request.
        """
        if self.row.attempts == 0:
            return
        known = await store.check_runs_of(self.db.pool, self.row.id)
        listed = await self.api.getitem(
            f"/repos/{self.row.owner}/{self.row.repo}/commits/{self.row.head_sha}/check-runs?filter=all&per_page=100"
        )
        for run in listed.get("check_runs", []):
            name = run.get("name")
            if (
                run.get("external_id") != str(self.row.id)
                or not decide.is_forgeguard_run(name)
                or name in known
            ):
                continue
            await store.add_check_run(self.db.pool, self.row.id, name, int(run["id"]))
            if run.get("status") == "completed":
                await store.complete_check_run(
                    self.db.pool, self.row.id, name, run.get("conclusion") or "neutral"
                )

    async def base(self) -> str:
        default = self.row.default_branch or await store.known_default_branch(
            self.db.pool, self.row.owner, self.row.repo
        )
        known = await store.pull_request_for_head(
            self.db.pool, self.row.owner, self.row.repo, self.row.head_sha, self.row.pull_number
        )
        base = decide.fallback_base(self.row.base, known, None, default)
        if base is None:
            raise LookupError("no base to compare with: the default branch is not known")
        return base

    async def superseded(self) -> int | None:
        """A push audit of a head that a pull request audit judges: that pull request's number.

        Only automatic audits give way; a re-run or a command asked for this audit.
        """
        if self.row.pull_number is not None or self.row.reason not in decide.AUTOMATIC_REASONS:
            return None
        return await store.pull_request_audit_of_head(
            self.db.pool, self.row.owner, self.row.repo, self.row.head_sha
        )

    async def audit(
        self, source: GitHubSource, fetched: Awaitable[list[Any]], config: AuditConfig
    ) -> AuditReport:
        """The engine, in a worker thread, on the change once it is fetched."""
        change: Change = (await fetched)[0]
        return await asyncio.to_thread(audit_change, source, change, config, self.cache)

    async def run(self) -> None:
        calls_before = self.api.calls
        await store.start_audit(self.db.pool, self.row.id)
        await self.adopt_orphans()
        pull = await self.superseded()
        if pull is not None and not await store.check_runs_of(self.db.pool, self.row.id):
            await store.finish_audit(
                self.db.pool,
                self.row.id,
                conclusion="skipped",
                title=f"Judged by the audit of pull request #{pull}",
                api_calls=0,
            )
            return
        base = await self.base()
        source = _github_source(self.api, self.row.owner, self.row.repo)
        # The change and the head's tree are fetched while the configuration is read and the
        # check runs are created; the engine runs as soon as the change is here.
        fetches: list[Awaitable[Any]] = [source.repository.change(base, self.row.head_sha)]
        if base != EMPTY_TREE and fetch.is_sha(self.row.head_sha):
            fetches.append(source.repository.snapshot(self.row.head_sha).entries())
        fetched = asyncio.ensure_future(gather_all(*fetches))
        audit: asyncio.Future[AuditReport] | None = None
        try:
            config = await fetch.read_config(self.api, self.row.owner, self.row.repo)
            audit = asyncio.ensure_future(self.audit(source, fetched, config))
            runs = await self.create_runs(rp.run_names(config, CHECK_CODES))
        except BaseException:
            with contextlib.suppress(BaseException):
                await (audit or fetched)
            raise
        report = await audit

        view = rp.RunView(self.url, config)
        now = utc_now()
        if config.report == "per-check":
            payloads = rp.per_check_runs(report, view, now)
        else:
            payloads = [rp.summary_run(report, view, now)]
        async with self.db.pool.acquire() as conn, conn.transaction():
            await store.save_report(conn, self.row.id, report, report_mode=config.report)

        open_runs = await store.open_check_runs_of(self.db.pool, self.row.id)
        for run in payloads:
            run_id = open_runs.get(run.name)
            if run_id is None:
                if run.name in runs:
                    continue  # completed by an earlier attempt
                run_id = (await self.create_runs([run.name]))[run.name]
            for update in run.updates:
                if not await store.owns_check_run(self.db.pool, self.row.id, run.name):
                    break  # a pull request audit of this head took the run over
                await self.api.patch(self._path(f"/{run_id}"), data=update)
            else:
                await store.complete_check_run(self.db.pool, self.row.id, run.name, run.conclusion)

        await store.finish_audit(
            self.db.pool,
            self.row.id,
            conclusion=decide.conclusion(report),
            title=decide.title(report),
            api_calls=self.api.calls - calls_before,
        )
        log.info(
            "audit %s of %s@%s: %s (%s), %d API calls",
            self.row.id,
            self.row.full_name,
            self.row.head_sha[:12],
            decide.conclusion(report),
            decide.title(report),
            self.api.calls - calls_before,
        )

    async def give_up(self, reason: str) -> None:
        """Complete every open run `neutral`, saying why; create one if the audit never got that far."""
        view = rp.RunView(self.url)
        update = rp.failure_update(reason, view, utc_now())
        with contextlib.suppress(Exception):
            await self.adopt_orphans()
        runs = await store.check_runs_of(self.db.pool, self.row.id)
        open_runs = await store.open_check_runs_of(self.db.pool, self.row.id)
        if not runs:
            body = {"name": decide.CHECK_RUN_NAME, "head_sha": self.row.head_sha, "details_url": self.url}
            body["external_id"] = str(self.row.id)
            created = await self.create_run(decide.CHECK_RUN_NAME, {**body, **update})
            await store.add_check_run(self.db.pool, self.row.id, decide.CHECK_RUN_NAME, int(created["id"]))
            await store.complete_check_run(self.db.pool, self.row.id, decide.CHECK_RUN_NAME, "neutral")
        for name, run_id in open_runs.items():
            await self.api.patch(self._path(f"/{run_id}"), data=update)
            await store.complete_check_run(self.db.pool, self.row.id, name, "neutral")
        await store.finish_audit(
            self.db.pool,
            self.row.id,
            conclusion="neutral",
            title=update["output"]["title"],
            api_calls=None,
            error=reason,
        )


@handler(
    AUDIT_JOB, max_attempts=MAX_ATTEMPTS, retry_delay=timedelta(seconds=2), max_delay=timedelta(seconds=60)
)
async def audit_job(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Run one audit; on the final failed attempt, complete its runs neutral, then fail the job."""
    audit_id = int(payload["audit_id"])
    row = await store.load_audit(ctx.db.pool, audit_id)
    if row is None or row.status == "completed":
        return
    if ctx.github is None:
        raise RuntimeError("GitHub credentials are not configured (setup mode)")
    await _maybe_sweep(ctx)
    attempt: AuditRun | None = None
    try:
        api = await ctx.github.installation_api(row.installation_id)
        attempt = AuditRun(ctx.db, api, ctx.settings, row, ctx.worker.analysis_cache)
        await attempt.run()
    except Exception as exc:
        reason = failure_reason(exc)
        await store.record_error(ctx.db.pool, audit_id, f"attempt {ctx.attempt}: {reason}")
        if ctx.final_attempt and attempt is not None:
            log.warning("audit %s: giving up after %d attempts: %s", audit_id, ctx.attempt, reason)
            await attempt.give_up(reason + f" ForgeGuard tried {ctx.attempt} times.")
        elif ctx.final_attempt:
            # Not even a client for the installation: nothing on GitHub can be completed now.
            # The watchdog queues the audit again once its job has failed (complete_stuck_audits).
            log.warning(
                "audit %s: no attempt could start (%s); the watchdog will queue it again", audit_id, reason
            )
        raise


def _order_key(row: store.AuditRow) -> str:
    request = AuditRequest(
        installation_id=row.installation_id,
        owner=row.owner,
        repo=row.repo,
        head_sha=row.head_sha,
        base=row.base,
        pull_number=row.pull_number,
        reason=row.reason,  # type: ignore[arg-type]
        branch=row.branch,
    )
    return request.order_key


async def requeue(db: Database, row: store.AuditRow) -> None:
    """Queue the audit's job again (its clock restarts): its last job ended without completing it."""
    async with db.pool.acquire() as conn, conn.transaction():
        await store.count_requeue(conn, row.id)
        await enqueue(conn, AUDIT_JOB, {"audit_id": row.id}, order_key=_order_key(row))


async def complete_stuck_audits(
    db: Database, github: GitHubApp, settings: Settings, older_than: timedelta = STUCK_AFTER
) -> int:
    """Audits unfinished for longer than `older_than`: queued again, or their runs completed `neutral`.

    An audit whose job still waits to run is left alone. One whose job is gone
    without completing it (every attempt failed before the audit could report,
    e.g. no token while GitHub was unreachable) is queued again, up to
    `MAX_REQUEUES` times; after that, or when its job is alive but stuck, its
    runs are completed `neutral` (one is created if it has none). Returns how
    many audits were queued again or completed.
    """
    stuck = await store.stuck_audits(db.pool, older_than.total_seconds())
    done = 0
    for row in stuck:
        live = await store.has_live_job(db.pool, row.id)
        runs = await store.check_runs_of(db.pool, row.id)
        if live and row.status == "queued" and not runs:
            continue  # nothing shows on GitHub yet; its job will still run
        if not live and row.requeues < MAX_REQUEUES:
            log.warning("watchdog: audit %s has no job left; queueing it again", row.id)
            await requeue(db, row)
            done += 1
            continue
        minutes = int(older_than.total_seconds() // 60)
        reason = f"The audit did not finish within {minutes} minutes (its worker may have stopped)."
        try:
            api = await github.installation_api(row.installation_id)
            await AuditRun(db, api, settings, row).give_up(reason)
            done += 1
        except Exception as exc:
            log.warning("watchdog: could not complete audit %s: %s", row.id, failure_reason(exc))
    return done


ORPHAN_REASON = (
    "An earlier request of this audit made this run, but GitHub's answer was lost; "
    "the audit's result is in the other ForgeGuard run on this commit."
)


async def complete_orphan_runs(
    db: Database, github: GitHubApp, settings: Settings, within: timedelta = ORPHANS_WITHIN
) -> int:
    """Complete, `neutral`, ForgeGuard runs of ours left open on GitHub with no live audit behind them.

    Such a run is made when GitHub carries out a create whose answer is lost.
    Only the heads of audits that had trouble lately (errors, retries,
    requeues) are looked at, each once, so a smooth audit costs no request.
    """
    done = 0
    for row in await store.troubled_audits(db.pool, within.total_seconds()):
        try:
            api = await github.installation_api(row.installation_id)
            listed = await api.getitem(
                "/repos/{owner}/{repo}/commits/{ref}/check-runs{?filter,per_page}",
                {
                    "owner": row.owner,
                    "repo": row.repo,
                    "ref": row.head_sha,
                    "filter": "all",
                    "per_page": "100",
                },
            )
            runs = [
                run
                for run in listed.get("check_runs", [])
                if decide.is_forgeguard_run(run.get("name")) and run.get("status") != "completed"
            ]
            live = await store.live_check_run_ids(db.pool, [int(run["id"]) for run in runs])
            for run in runs:
                if int(run["id"]) in live or not await _ours(db, run, row):
                    continue
                view = rp.RunView(audit_url(settings, row.id))
                update = rp.failure_update(ORPHAN_REASON, view, utc_now())
                await api.patch(f"/repos/{row.owner}/{row.repo}/check-runs/{int(run['id'])}", data=update)
                log.info("watchdog: completed orphan run %s of audit %s", run["id"], row.id)
                done += 1
            await store.mark_orphans_checked(db.pool, row.id)
        except Exception as exc:
            log.warning(
                "watchdog: could not look for orphan runs of audit %s: %s", row.id, failure_reason(exc)
            )
    return done


async def _ours(db: Database, run: dict[str, Any], row: store.AuditRow) -> bool:
    """The run names one of our audits of this very commit in its external_id."""
    external = str(run.get("external_id") or "")
    if not external.isascii() or not external.isdigit() or len(external) > 18:
        return False
    audit = await store.load_audit(db.pool, int(external))
    return (
        audit is not None
        and audit.head_sha == row.head_sha
        and audit.full_name.lower() == row.full_name.lower()
    )


async def sweep(db: Database, github: GitHubApp, settings: Settings) -> None:
    """One watchdog pass: stuck audits, then orphan runs."""
    await complete_stuck_audits(db, github, settings)
    await complete_orphan_runs(db, github, settings)


async def _maybe_sweep(ctx: JobContext) -> None:
    """At most once a minute per worker, the job itself runs the watchdog."""
    now = time.monotonic()
    last = ctx.worker.last_sweep
    if ctx.github is None or (last is not None and now - last < SWEEP_EVERY):
        return
    ctx.worker.last_sweep = now
    try:
        await sweep(ctx.db, ctx.github, ctx.settings)
    except Exception:
        log.exception("watchdog sweep failed")


async def watchdog(db: Database, github: GitHubApp, settings: Settings, every: float = 300.0) -> None:
    """Forever: complete stuck audits now (startup) and every `every` seconds."""
    while True:
        try:
            await sweep(db, github, settings)
        except Exception:
            log.exception("watchdog sweep failed")
        await asyncio.sleep(every)
