"""Jobs: retries with backoff, final failures recorded, per-key ordering across two workers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from asyncpg.exceptions import InternalClientError

from forgeguard_app import jobs
from forgeguard_app.context import JobContext, WorkerState
from forgeguard_app.db import Database
from forgeguard_app.jobs import (
    JobSpec,
    Worker,
    backoff_delay,
    dispatch_pending,
    enqueue,
    finish,
    reconcile,
    start_attempt,
    waiting_count,
)
from forgeguard_app.settings import Settings

SETTINGS = Settings.from_mapping({})


async def wait_until(check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.05)


async def job_status(db: Database, job_id: int) -> str:
    return str(await db.pool.fetchval("SELECT status FROM jobs WHERE id = $1", job_id))


async def all_finished(db: Database) -> bool:
    return not await db.pool.fetchval("SELECT count(*) FROM jobs WHERE status NOT IN ('succeeded', 'failed')")


class Workers:
    """Workers running in this process until the test ends."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.running: list[tuple[Worker, asyncio.Task[None]]] = []

    def start(self, registry: dict[str, JobSpec], concurrency: int = 4, **options: Any) -> Worker:
        worker = Worker(
            self.db,
            SETTINGS,
            concurrency=concurrency,
            registry=registry,
            dequeue_timeout=timedelta(seconds=1),
            **options,
        )
        self.running.append((worker, asyncio.create_task(worker.run())))
        return worker

    async def stop(self) -> None:
        for worker, _ in self.running:
            worker.stop()
        for _, task in self.running:
            await asyncio.wait_for(task, 15)


@pytest.fixture
async def workers(db: Database) -> AsyncIterator[Workers]:
    running = Workers(db)
    yield running
    await running.stop()


async def test_every_job_of_a_worker_gets_that_workers_own_state(db: Database) -> None:
    seen: list[WorkerState] = []

    async def note(ctx: JobContext, payload: dict[str, Any]) -> None:
        seen.append(ctx.worker)

    registry = {"note": JobSpec("note", note)}
    first, other = Worker(db, SETTINGS, registry=registry), Worker(db, SETTINGS, registry=registry)
    async with db.pool.acquire() as conn:
        job_ids = [await enqueue(conn, "note", {}) for _ in range(3)]
    for worker, job_id in zip([first, first, other], job_ids, strict=True):
        await worker.execute(job_id)
    assert [state is first.state for state in seen] == [True, True, False]
    assert seen[2] is other.state


async def test_a_connection_in_a_broken_protocol_state_costs_one_dispatch_round_not_the_worker(
    db: Database, workers: Workers, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # asyncpg's pool handed out, once the database was back from a restart, a connection still
    # busy with an earlier operation: "cannot switch to state 15; another operation (2) is in progress"
    broken = [InternalClientError("cannot switch to state 15; another operation (2) is in progress")]

    async def dispatch_once_broken(pool: Any, limit: int = jobs.DISPATCH_BATCH) -> int:
        if broken:
            raise broken.pop()
        return await dispatch_pending(pool, limit)

    monkeypatch.setattr(jobs, "dispatch_pending", dispatch_once_broken)
    done: list[int] = []

    async def note(ctx: JobContext, payload: dict[str, Any]) -> None:
        done.append(payload["n"])

    workers.start({"note": JobSpec("note", note)})
    async with db.pool.acquire() as conn:
        await enqueue(conn, "note", {"n": 1})
    await wait_until(lambda: all_finished(db))
    assert (done, broken) == ([1], [])
    assert "dispatching queued jobs failed: InternalClientError" in caplog.text
    assert not any(task.done() for _, task in workers.running)


def test_backoff_doubles_from_the_base_up_to_the_cap() -> None:
    base, cap = timedelta(seconds=10), timedelta(seconds=60)
    assert [backoff_delay(n, base, cap).total_seconds() for n in range(1, 6)] == [10, 20, 40, 60, 60]


async def test_a_failing_job_is_retried_with_growing_delays_until_it_succeeds(
    db: Database, workers: Workers
) -> None:
    starts: list[float] = []

    async def flaky(ctx: JobContext, payload: dict[str, Any]) -> None:
        starts.append(time.monotonic())
        if ctx.attempt < 3:
            raise RuntimeError(f"attempt {ctx.attempt} fails")

    spec = JobSpec("flaky", flaky, max_attempts=5, retry_delay=timedelta(seconds=0.3))
    workers.start({"flaky": spec})
    async with db.pool.acquire() as conn:
        job_id = await enqueue(conn, "flaky", {"n": 1})
    await wait_until(lambda: all_finished(db))

    row = await db.pool.fetchrow("SELECT status, attempts, last_error FROM jobs WHERE id = $1", job_id)
    assert (row["status"], row["attempts"]) == ("succeeded", 3)
    outcomes = await db.pool.fetch(
        "SELECT outcome, error FROM job_attempts WHERE job_id = $1 ORDER BY attempt", job_id
    )
    assert [r["outcome"] for r in outcomes] == ["retry", "retry", "succeeded"]
    assert outcomes[0]["error"] == "RuntimeError: attempt 1 fails"
    assert starts[1] - starts[0] >= 0.3
    assert starts[2] - starts[1] >= 0.6


async def test_a_job_failing_every_attempt_is_recorded_failed_with_its_error(
    db: Database, workers: Workers
) -> None:
    async def broken(ctx: JobContext, payload: dict[str, Any]) -> None:
        raise ValueError(f"cannot handle {payload['thing']}")

    workers.start({"broken": JobSpec("broken", broken, max_attempts=2, retry_delay=timedelta(seconds=0.1))})
    async with db.pool.acquire() as conn:
        job_id = await enqueue(conn, "broken", {"thing": "widget"})
    await wait_until(lambda: all_finished(db))

    row = await db.pool.fetchrow("SELECT status, attempts, last_error FROM jobs WHERE id = $1", job_id)
    assert (row["status"], row["attempts"], row["last_error"]) == (
        "failed",
        2,
        "ValueError: cannot handle widget",
    )


async def test_jobs_sharing_an_order_key_run_one_at_a_time_in_queue_order_across_two_workers(
    db: Database, workers: Workers
) -> None:
    ran: list[tuple[str, int]] = []
    active: dict[str, int] = {}
    most_at_once: dict[str, int] = {}

    async def step(ctx: JobContext, payload: dict[str, Any]) -> None:
        key = payload["key"]
        active[key] = active.get(key, 0) + 1
        most_at_once[key] = max(most_at_once.get(key, 0), active[key])
        await asyncio.sleep(0.02 * (payload["n"] % 3))
        ran.append((key, payload["n"]))
        active[key] -= 1

    registry = {"step": JobSpec("step", step)}
    workers.start(registry, concurrency=4)
    workers.start(registry, concurrency=4)
    async with db.pool.acquire() as conn:
        for n in range(12):
            for key in ("repo:1:ref:main", "repo:2:ref:main"):
                await enqueue(conn, "step", {"key": key, "n": n}, order_key=key)
    await wait_until(lambda: all_finished(db))

    for key in ("repo:1:ref:main", "repo:2:ref:main"):
        assert [n for k, n in ran if k == key] == list(range(12))
        assert most_at_once[key] == 1


async def test_jobs_with_different_order_keys_run_side_by_side(db: Database, workers: Workers) -> None:
    both_running = asyncio.Event()
    started: set[str] = set()

    async def meet(ctx: JobContext, payload: dict[str, Any]) -> None:
        started.add(payload["key"])
        if len(started) == 2:
            both_running.set()
        await asyncio.wait_for(both_running.wait(), 10)

    workers.start({"meet": JobSpec("meet", meet, max_attempts=1)})
    async with db.pool.acquire() as conn:
        first = await enqueue(conn, "meet", {"key": "a"}, order_key="a")
        second = await enqueue(conn, "meet", {"key": "b"}, order_key="b")
    await wait_until(lambda: all_finished(db))
    assert [await job_status(db, first), await job_status(db, second)] == ["succeeded", "succeeded"]


async def test_a_job_started_before_an_earlier_one_of_its_key_finished_is_parked_until_then(
    db: Database,
) -> None:
    async with db.pool.acquire() as conn:
        first = await enqueue(conn, "step", {}, order_key="pr:7")
        second = await enqueue(conn, "step", {}, order_key="pr:7")
    assert await start_attempt(db.pool, second, "w1") is None
    assert await job_status(db, second) == "blocked"
    assert await waiting_count(db.pool) == 2

    running = await start_attempt(db.pool, first, "w2")
    assert running is not None
    await finish(db.pool, running, "succeeded", None)
    assert await job_status(db, second) == "queued"


async def test_an_earlier_job_starting_while_a_later_one_of_its_key_runs_is_parked(db: Database) -> None:
    async with db.pool.acquire() as conn:
        earlier = await enqueue(conn, "step", {}, order_key="ref:main")
        later = await enqueue(conn, "step", {}, order_key="ref:main")
        # As when the later job's transaction committed first and a worker took it.
        await conn.execute("UPDATE jobs SET status = 'running' WHERE id = $1", later)
    assert await start_attempt(db.pool, earlier, "w1") is None
    assert await job_status(db, earlier) == "blocked"


async def test_a_job_enqueued_in_a_rolled_back_transaction_is_never_dispatched(db: Database) -> None:
    async with db.pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        await enqueue(conn, "step", {})
        await transaction.rollback()
    assert await dispatch_pending(db.pool) == 0
    assert await waiting_count(db.pool) == 0


async def test_two_dispatchers_hand_each_queued_job_to_pgqueuer_once(db: Database) -> None:
    async with db.pool.acquire() as conn:
        for n in range(120):
            await enqueue(conn, "step", {"n": n})
    handed = await asyncio.gather(*(dispatch_pending(db.pool, limit=7) for _ in range(40)))
    assert sum(handed) == 120
    payloads = await db.pool.fetch("SELECT convert_from(payload, 'UTF8') AS id FROM pgqueuer")
    assert sorted(int(r["id"]) for r in payloads) == sorted(
        r["id"] for r in await db.pool.fetch("SELECT id FROM jobs")
    )


async def test_a_job_cancelled_mid_attempt_goes_back_to_the_queue(db: Database) -> None:
    started = asyncio.Event()

    async def endless(ctx: JobContext, payload: dict[str, Any]) -> None:
        started.set()
        await asyncio.sleep(3600)

    worker = Worker(db, SETTINGS, registry={"endless": JobSpec("endless", endless)})
    async with db.pool.acquire() as conn:
        job_id = await enqueue(conn, "endless", {})
    assert await dispatch_pending(db.pool) == 1
    attempt = asyncio.create_task(worker.execute(job_id))
    await asyncio.wait_for(started.wait(), 10)
    attempt.cancel()
    with pytest.raises(asyncio.CancelledError):
        await attempt
    row = await db.pool.fetchrow("SELECT status, dispatched_at FROM jobs WHERE id = $1", job_id)
    assert (row["status"], row["dispatched_at"]) == ("queued", None)
    assert await dispatch_pending(db.pool) == 1


async def test_an_unfinished_job_the_queue_no_longer_holds_is_queued_again(db: Database) -> None:
    async with db.pool.acquire() as conn:
        lost = await enqueue(conn, "step", {})
        alive = await enqueue(conn, "step", {})
    await dispatch_pending(db.pool)
    for job_id in (lost, alive):
        await start_attempt(db.pool, job_id, "w1")
    # As when pgqueuer parked the row after the worker's bookkeeping failed.
    await db.pool.execute(
        "UPDATE pgqueuer SET status = 'failed' WHERE payload = convert_to($1::text, 'UTF8')", str(lost)
    )
    await db.pool.execute(
        "UPDATE jobs SET dispatched_at = now() - interval '11 minutes',"
        " started_at = now() - interval '10 minutes'"
    )

    assert await reconcile(db.pool) == [lost]
    assert [await job_status(db, lost), await job_status(db, alive)] == ["queued", "running"]
