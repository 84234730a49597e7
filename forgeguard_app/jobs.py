"""Background jobs: a handler registry, enqueueing inside the caller's transaction, and the worker.

pgqueuer carries the dispatch (picking with SKIP LOCKED, heartbeats so a job
of a dead worker is picked again, delayed re-queueing for retries). The app's
own `jobs` table is the record (status, attempts, last error) and does the
ordering. Enqueueing is one INSERT into `jobs` on the caller's connection, so
it commits or rolls back with the caller's transaction and takes no lock;
workers hand queued rows to pgqueuer in batches (`dispatch_pending`, one
NOTIFY per batch; see migration 009 for why not one per job).

Order is kept where a job starts: under a transaction-scoped advisory lock on
its `order_key`, a job with an unfinished earlier job of the same key (or a
later one already running) is parked `blocked`; a job that finishes, under the
same lock, queues the oldest unfinished job of its key again if it is parked.

The database may go away (a restart, a failover) while a worker runs. The
worker then logs one line, waits for it with backoff, and carries on: the
queue manager is started again on fresh connections, the dispatcher resumes,
and a job's outcome that could not be recorded is recorded once the database
is back (a handler that failed because of the outage is retried as usual).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg
from asyncpg.exceptions import InternalClientError
from pgqueuer.adapters.drivers.asyncpg import AsyncpgPoolDriver
from pgqueuer.errors import RetryRequested
from pgqueuer.models import Job
from pgqueuer.qm import QueueManager
from pgqueuer.queries import Queries

from forgeguard_app.context import JobContext, WorkerState
from forgeguard_app.db import Executor
from forgeguard_app.logs import job_id_var

if TYPE_CHECKING:
    from forgeguard_app.db import Database
    from forgeguard_app.github.client import GitHubApp
    from forgeguard_app.llm import LLM
    from forgeguard_app.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

WAITING_STATUSES = ("blocked", "queued", "retrying")
FINISHED_STATUSES = ("succeeded", "failed")
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_RETRY_DELAY = timedelta(seconds=10)
DEFAULT_MAX_DELAY = timedelta(minutes=15)
ERROR_LIMIT = 4000
DISPATCH_BATCH = 500
DISPATCH_INTERVAL = timedelta(seconds=0.1)
RECONCILE_INTERVAL = timedelta(minutes=1)
RECONCILE_AFTER = timedelta(minutes=2)
RECONNECT_FIRST_DELAY = timedelta(seconds=0.1)
RECONNECT_MAX_DELAY = timedelta(seconds=5)


JobFunc = Callable[[JobContext, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class JobSpec:
    """A registered kind of job and its retry policy."""

    kind: str
    func: JobFunc
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    retry_delay: timedelta = DEFAULT_RETRY_DELAY
    max_delay: timedelta = DEFAULT_MAX_DELAY


REGISTRY: dict[str, JobSpec] = {}


def handler(
    kind: str,
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    retry_delay: timedelta = DEFAULT_RETRY_DELAY,
    max_delay: timedelta = DEFAULT_MAX_DELAY,
) -> Callable[[JobFunc], JobFunc]:
    """Register `async def run(ctx: JobContext, payload: dict) -> None` for jobs of `kind`."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")

    def register(func: JobFunc) -> JobFunc:
        existing = REGISTRY.get(kind)
        if existing is not None and existing.func.__qualname__ != func.__qualname__:
            raise ValueError(f"job kind {kind!r} already has a handler: {existing.func.__qualname__}")
        REGISTRY[kind] = JobSpec(kind, func, max_attempts, retry_delay, max_delay)
        return func

    return register


def backoff_delay(attempt: int, base: timedelta, cap: timedelta) -> timedelta:
    """The wait after failed attempt number `attempt` (1-based): base, 2×base, 4×base, … up to cap."""
    return min(cap, base * (1 << max(0, attempt - 1)))


def describe_error(exc: BaseException) -> str:
    """One line for the record: the exception type and message, cut to a bounded size."""
    text = f"{type(exc).__name__}: {exc}".strip()
    return text if len(text) <= ERROR_LIMIT else text[: ERROR_LIMIT - 1] + "…"


_DISPATCH_ROUND_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, InternalClientError)
"""What costs the dispatch loop one round (logged) instead of the worker."""


def database_unavailable(exc: BaseException) -> bool:
    """The error says the database cannot be reached now (down, restarting, connection cut)."""
    if isinstance(exc, BaseExceptionGroup):
        return all(database_unavailable(inner) for inner in exc.exceptions)
    if isinstance(exc, asyncpg.InterfaceError) and str(exc).startswith("pool is clos"):
        return False  # our own pool, closed on the way out
    return isinstance(
        exc,
        OSError
        | TimeoutError
        | asyncpg.InterfaceError
        | asyncpg.PostgresConnectionError
        | asyncpg.OperatorInterventionError,
    )


class DatabaseOutage:
    """One log line when the database goes away and one when it is back, however many callers see it."""

    def __init__(self, who: str) -> None:
        self.who = who
        self.down = False

    def lost(self, exc: BaseException) -> None:
        if not self.down:
            self.down = True
            log.warning(
                "%s: the database is unavailable (%s); waiting for it, reconnecting with backoff",
                self.who,
                describe_error(exc),
            )

    def back(self) -> None:
        if self.down:
            self.down = False
            log.info("%s: the database is reachable again; carrying on", self.who)


class _ListenerDriver(AsyncpgPoolDriver):
    """pgqueuer's pool driver, told when its listening connection dies, and giving that slot back.

    It reads and sets `AsyncpgPoolDriver._listener_connection` and `._pool`
    (private): pyproject pins pgqueuer's minor version and
    `tests/app/test_pgqueuer_seam.py` fails loudly if they change.

    Without this a restarted database leaves the queue manager LISTENing on a
    dead connection (no more notifications), and the driver's exit fails on
    resetting it, keeping its pool slot for good.
    """

    def __init__(self, pool: asyncpg.Pool, on_lost: Callable[[], None]) -> None:
        super().__init__(pool)
        self._on_lost = on_lost
        self._watched: asyncpg.pool.PoolConnectionProxy | None = None

    async def add_listener(self, channel: str, callback: Callable[[str | bytes | bytearray], None]) -> None:
        await super().add_listener(channel, callback)
        conn = self._listener_connection
        if conn is not None and conn is not self._watched:
            self._watched = conn
            conn.add_termination_listener(lambda _conn: self._on_lost())

    async def __aexit__(self, *exc: object) -> None:
        try:
            await super().__aexit__(*exc)
        except Exception as error:
            if not database_unavailable(error):
                raise
            conn, self._listener_connection = self._listener_connection, None
            if conn is not None:
                await self._pool.release(conn)


async def _order_lock(conn: asyncpg.Connection, order_key: str) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", order_key)


def queue_job_sql(*, kind: str, payload: str, order_key: str) -> str:
    """The SQL that queues a job, its values given as SQL expressions: `INSERT INTO jobs ... SELECT ...`.

    `enqueue` runs it with parameters; the webhook runs it inside the statement
    that stores the delivery (`... FROM delivery WHERE ...` appended).
    """
    columns = "INSERT INTO jobs (kind, payload, order_key, status)"
    return f"{columns} SELECT {kind}, {payload}, {order_key}, 'queued'"


async def enqueue(
    conn: Executor, kind: str, payload: Mapping[str, Any], *, order_key: str | None = None
) -> int:
    """Queue a job on `conn`, inside its open transaction when there is one; returns the job id.

    Usable in the caller's transaction, so that what the job is about and the job
    are stored together.

    With an `order_key`, the job runs after every job queued earlier with that key
    has finished (succeeded or finally failed), and never beside one of them.
    Enqueueing takes no lock; the order is kept when the job starts. A worker's
    dispatcher hands the job to pgqueuer within `DISPATCH_INTERVAL` of the commit;
    `dispatch_pending(pool)` does it at once.
    """
    job_id = await conn.fetchval(
        queue_job_sql(kind="$1", payload="$2::text::jsonb", order_key="$3") + " RETURNING id",
        kind,
        json.dumps(payload),
        order_key,
    )
    return int(job_id)


async def waiting_count(conn: Executor) -> int:
    """Jobs not yet running: blocked behind their order key, queued, or waiting to retry."""
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM jobs WHERE status = ANY($1::text[])", list(WAITING_STATUSES)
        )
    )


@dataclass(frozen=True)
class StartedJob:
    id: int
    kind: str
    payload: dict[str, Any]
    order_key: str | None
    attempt: int


async def start_attempt(pool: asyncpg.Pool, job_id: int, worker: str) -> StartedJob | None:
    """Mark the job running and open an attempt.

    None when it must not run now: it already finished (a stale pick), or it is
    parked behind an unfinished job with the same order key.
    """
    async with pool.acquire() as conn, conn.transaction():
        head = await conn.fetchrow("SELECT order_key, status FROM jobs WHERE id = $1", job_id)
        if head is None or head["status"] in FINISHED_STATUSES:
            return None
        if head["order_key"] is not None:
            await _order_lock(conn, head["order_key"])
            if await _must_wait(conn, head["order_key"], job_id):
                await conn.execute("UPDATE jobs SET status = 'blocked' WHERE id = $1", job_id)
                return None
        row = await conn.fetchrow(
            """
            UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = now()
            WHERE id = $1
            RETURNING kind, payload::text AS payload, order_key, attempts
            """,
            job_id,
        )
        assert row is not None
        # An attempt still open here belonged to a worker that died mid-job.
        await conn.execute(
            """
            UPDATE job_attempts SET outcome = 'failed', finished_at = now(),
                   error = 'the worker running it stopped'
            WHERE job_id = $1 AND outcome = 'running'
            """,
            job_id,
        )
        await conn.execute(
            """
            INSERT INTO job_attempts (job_id, attempt, worker, outcome) VALUES ($1, $2, $3, 'running')
            ON CONFLICT (job_id, attempt)
            DO UPDATE SET worker = excluded.worker, outcome = 'running', started_at = now()
            """,
            job_id,
            row["attempts"],
            worker,
        )
    return StartedJob(job_id, row["kind"], json.loads(row["payload"]), row["order_key"], row["attempts"])


async def _must_wait(conn: asyncpg.Connection, order_key: str, job_id: int) -> bool:
    """An earlier job of the key is unfinished, or a later one already runs (queued in a race)."""
    return bool(
        await conn.fetchval(
            """
            SELECT EXISTS (
                SELECT 1 FROM jobs
                WHERE order_key = $1 AND id <> $2 AND status NOT IN ('succeeded', 'failed')
                  AND (id < $2 OR status = 'running'))
            """,
            order_key,
            job_id,
        )
    )


async def record_retry(pool: asyncpg.Pool, job: StartedJob, error: str) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "UPDATE jobs SET status = 'retrying', last_error = $2 WHERE id = $1", job.id, error
        )
        await conn.execute(
            "UPDATE job_attempts SET outcome = 'retry', finished_at = now(), error = $3"
            " WHERE job_id = $1 AND attempt = $2",
            job.id,
            job.attempt,
            error,
        )


async def requeue_cancelled(pool: asyncpg.Pool, job: StartedJob) -> None:
    """A job cancelled mid-attempt goes back to `queued`, to be dispatched again."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "UPDATE jobs SET status = 'queued', dispatched_at = NULL WHERE id = $1 AND status = 'running'",
            job.id,
        )
        await conn.execute(
            "UPDATE job_attempts SET outcome = 'failed', finished_at = now(), error = 'cancelled'"
            " WHERE job_id = $1 AND attempt = $2",
            job.id,
            job.attempt,
        )


async def finish(pool: asyncpg.Pool, job: StartedJob, status: str, error: str | None) -> None:
    """Record the final outcome and hand the next job with the same order key to the queue."""
    assert status in FINISHED_STATUSES
    async with pool.acquire() as conn, conn.transaction():
        if job.order_key is not None:
            await _order_lock(conn, job.order_key)
        await conn.execute(
            "UPDATE jobs SET status = $2, finished_at = now(), last_error = coalesce($3, last_error)"
            " WHERE id = $1",
            job.id,
            status,
            error,
        )
        await conn.execute(
            "UPDATE job_attempts SET outcome = $3, finished_at = now(), error = $4"
            " WHERE job_id = $1 AND attempt = $2",
            job.id,
            job.attempt,
            status,
            error,
        )
        if job.order_key is not None:
            await release_next(conn, job.order_key)


async def release_next(conn: Executor, order_key: str) -> int | None:
    """Hand the oldest unfinished job of `order_key` back to the queue if it is parked; its id."""
    row = await conn.fetchrow(
        """
        UPDATE jobs SET status = 'queued', dispatched_at = NULL
        WHERE id = (SELECT id FROM jobs
                    WHERE order_key = $1 AND status NOT IN ('succeeded', 'failed')
                    ORDER BY id LIMIT 1)
          AND status = 'blocked'
        RETURNING id, kind
        """,
        order_key,
    )
    return None if row is None else int(row["id"])


async def dispatch_pending(pool: asyncpg.Pool, limit: int = DISPATCH_BATCH) -> int:
    """Hand up to `limit` queued, undispatched jobs to pgqueuer in one batch; how many.

    Several workers may run this at once: SKIP LOCKED gives each row to one of them.
    """
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            """
            UPDATE jobs SET dispatched_at = now()
            WHERE id IN (SELECT id FROM jobs WHERE status = 'queued' AND dispatched_at IS NULL
                         ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
            RETURNING id, kind
            """,
            limit,
        )
        if rows:
            await Queries.from_asyncpg_connection(conn).enqueue(
                [row["kind"] for row in rows],
                [str(row["id"]).encode() for row in rows],
                [0] * len(rows),
            )
    return len(rows)


async def reconcile(pool: asyncpg.Pool, older_than: timedelta = RECONCILE_AFTER) -> list[int]:
    """Queue again the unfinished jobs pgqueuer no longer holds; their ids.

    pgqueuer keeps a job's row while it is queued or picked. A job of ours still
    unfinished without such a row was lost on the way (the worker's own
    bookkeeping failed, say, and pgqueuer parked the row as failed); without
    this it would stay `running` and hold up its order key for good.
    """
    rows = await pool.fetch(
        """
        UPDATE jobs j SET status = 'queued', dispatched_at = NULL
        WHERE j.status IN ('queued', 'running', 'retrying') AND j.dispatched_at IS NOT NULL
          AND greatest(j.dispatched_at, j.started_at) < now() - $1::interval
          AND NOT EXISTS (SELECT 1 FROM pgqueuer q
                          WHERE q.status IN ('queued', 'picked')
                            AND q.payload = convert_to(j.id::text, 'UTF8'))
        RETURNING j.id
        """,
        older_than,
    )
    return [int(row["id"]) for row in rows]


@dataclass
class Worker:
    """Runs registered jobs from the shared queue, up to `concurrency` at a time in this process."""

    db: Database
    settings: Settings
    concurrency: int = 4
    github: GitHubApp | None = None
    llm: LLM | None = None
    heartbeat_timeout: timedelta = timedelta(seconds=30)
    dequeue_timeout: timedelta = timedelta(seconds=5)
    dispatch_interval: timedelta = DISPATCH_INTERVAL
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")
    registry: Mapping[str, JobSpec] = field(default_factory=lambda: REGISTRY)
    reconnect_max_delay: timedelta = RECONNECT_MAX_DELAY
    state: WorkerState = field(default_factory=WorkerState)
    """Kept from job to job (caches): every job's context carries it."""

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError("a worker runs at least one job at a time")
        self._qm: QueueManager | None = None
        self._stopping = asyncio.Event()
        self._outage = DatabaseOutage(f"worker {self.name}")

    def stop(self) -> None:
        """Finish the jobs in hand, take no more."""
        self._stopping.set()
        if self._qm is not None:
            self._qm.shutdown.set()

    async def run(self) -> None:
        """Work until stop(); a database outage is waited out, never the end of the worker."""
        if self._stopping.is_set():
            return
        log.info(
            "worker %s: %d at a time, kinds %s", self.name, self.concurrency, ", ".join(sorted(self.registry))
        )
        pump = asyncio.create_task(self._dispatch_loop())
        loop = asyncio.get_running_loop()
        restart_delay = RECONNECT_FIRST_DELAY.total_seconds()
        try:
            while not self._stopping.is_set():
                listener_lost = False
                started = loop.time()

                def lost() -> None:
                    nonlocal listener_lost
                    listener_lost = True
                    if self._qm is not None:
                        self._qm.shutdown.set()

                try:
                    await self._run_queue_manager(lost)
                except Exception as exc:
                    if not database_unavailable(exc):
                        raise
                    self._outage.lost(exc)
                else:
                    if not listener_lost or self._stopping.is_set():
                        return
                    log.info(
                        "worker %s: the queue's listening connection was closed; listening again", self.name
                    )
                if not await self.wait_for_database():
                    return
                # A queue manager that keeps failing at once is not restarted in a tight loop.
                if loop.time() - started > self.reconnect_max_delay.total_seconds():
                    restart_delay = RECONNECT_FIRST_DELAY.total_seconds()
                else:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), restart_delay)
                    restart_delay = min(restart_delay * 2, self.reconnect_max_delay.total_seconds())
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump

    async def _run_queue_manager(self, on_listener_lost: Callable[[], None]) -> None:
        qm = QueueManager(Queries(_ListenerDriver(self.db.pool, on_listener_lost)))
        for kind in sorted(self.registry):
            qm.entrypoint(kind, accepts_context=False, on_failure="hold")(self._entrypoint)
        self._qm = qm
        if self._stopping.is_set():
            return
        # pgqueuer caps a worker's picked jobs at max_concurrent_tasks and wants it ≥ 2 × batch size.
        batch_size = max(1, self.concurrency // 2)
        await qm.run(
            dequeue_timeout=self.dequeue_timeout,
            batch_size=batch_size,
            max_concurrent_tasks=max(self.concurrency, 2 * batch_size),
            heartbeat_timeout=self.heartbeat_timeout,
        )

    async def wait_for_database(self) -> bool:
        """Until the database answers, probing with backoff; False when stop() came first."""
        delay = RECONNECT_FIRST_DELAY.total_seconds()
        while not self._stopping.is_set():
            try:
                await self.db.pool.fetchval("SELECT 1")
            except Exception as exc:
                if not database_unavailable(exc):
                    raise
                self._outage.lost(exc)
            else:
                self._outage.back()
                return True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            delay = min(delay * 2, self.reconnect_max_delay.total_seconds())
        return False

    async def _recorded(self, write: Callable[[], Awaitable[T]]) -> T:
        """`write()`, done again once the database is back if it was away (the outcome is not lost)."""
        while True:
            try:
                return await write()
            except Exception as exc:
                if not database_unavailable(exc) or self._stopping.is_set():
                    raise
                self._outage.lost(exc)
            if not await self.wait_for_database():
                raise ConnectionError("the worker stopped while the database was unavailable")

    async def _dispatch_loop(self) -> None:
        """Hand newly queued jobs to pgqueuer until stopped; now and then, queue lost ones again."""
        loop = asyncio.get_running_loop()
        next_reconcile = loop.time()
        while not self._stopping.is_set():
            try:
                if loop.time() >= next_reconcile:
                    next_reconcile = loop.time() + RECONCILE_INTERVAL.total_seconds()
                    for job_id in await reconcile(self.db.pool):
                        log.warning("job %s was no longer held by the queue; queued again", job_id)
                handed = await dispatch_pending(self.db.pool)
            except Exception as exc:
                if not database_unavailable(exc):
                    if not isinstance(exc, _DISPATCH_ROUND_ERRORS):
                        raise
                    log.warning("dispatching queued jobs failed: %s", describe_error(exc))
                    if isinstance(exc, InternalClientError):
                        # a pooled connection left in a broken protocol state (seen once the
                        # database is back from a restart): the pool's connections are replaced
                        await self.db.pool.expire_connections()
                    handed = 0
                else:
                    self._outage.lost(exc)
                    if not await self.wait_for_database():
                        return
                    continue
            if handed < DISPATCH_BATCH:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.dispatch_interval.total_seconds())

    async def _entrypoint(self, job: Job) -> None:
        assert job.payload is not None
        await self.execute(int(job.payload))

    async def execute(self, job_id: int) -> None:
        """One attempt of job `job_id`: run the handler, then record success, a retry or the failure."""
        token = job_id_var.set(job_id)
        try:
            await self._execute(job_id)
        finally:
            job_id_var.reset(token)

    async def _execute(self, job_id: int) -> None:
        pool = self.db.pool
        job = await self._recorded(lambda: start_attempt(pool, job_id, self.name))
        if job is None:
            return
        spec = self.registry.get(job.kind)
        if spec is None:
            await finish(pool, job, "failed", f"no handler for job kind {job.kind!r}")
            log.error("job %s: no handler for kind %r", job_id, job.kind)
            return
        if job.attempt > spec.max_attempts:
            # Only a worker dying mid-job gets here: each death costs an attempt.
            await finish(pool, job, "failed", f"gave up after {spec.max_attempts} attempts")
            log.error("job %s (%s): gave up after %d attempts", job_id, job.kind, spec.max_attempts)
            return
        ctx = JobContext(
            db=self.db,
            settings=self.settings,
            github=self.github,
            llm=self.llm,
            job_id=job_id,
            attempt=job.attempt,
            max_attempts=spec.max_attempts,
            worker=self.state,
        )
        try:
            await spec.func(ctx, job.payload)
        except asyncio.CancelledError:
            # pgqueuer drops a cancelled job; put it back for the dispatcher to hand out again.
            await asyncio.shield(requeue_cancelled(pool, job))
            raise
        except Exception as exc:
            error = describe_error(exc)
            if job.attempt < spec.max_attempts:
                delay = backoff_delay(job.attempt, spec.retry_delay, spec.max_delay)
                log.warning(
                    "job %s (%s) attempt %d failed, retrying in %ss: %s",
                    job_id,
                    job.kind,
                    job.attempt,
                    delay.total_seconds(),
                    error,
                )
                await self._recorded(lambda: record_retry(pool, job, error))
                raise RetryRequested(delay=delay, reason=error) from exc
            log.exception("job %s (%s) failed after %d attempts", job_id, job.kind, job.attempt)
            await self._recorded(lambda: finish(pool, job, "failed", error))
            return
        await self._recorded(lambda: finish(pool, job, "succeeded", None))
