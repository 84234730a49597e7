"""Retention: old deliveries, jobs, queue logs and audits are pruned; linked audits stay readable (item 4)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from forgeguard_app.db import Database
from forgeguard_app.retention import prune, prune_once
from forgeguard_app.settings import Settings, SettingsError

OLD = 31
"""Days ago: older than the default retention."""


async def add_delivery(db: Database, delivery_id: str, status: str, days_ago: int) -> None:
    await db.pool.execute(
        """INSERT INTO deliveries (id, event, payload, status, received_at)
           VALUES ($1, 'push', '{}'::json, $2, now() - make_interval(days => $3))""",
        delivery_id,
        status,
        days_ago,
    )


async def add_audit(db: Database, *, days_ago: int, with_run: bool) -> int:
    audit_id: int = await db.pool.fetchval(
        """INSERT INTO audit_runs (installation_id, owner, repo, head_sha, reason, status, conclusion,
                                   report, created_at, completed_at)
           VALUES (1, 'octo', 'demo', 'abc', 'push', 'completed', 'failure', '{"checks": []}',
                   now() - make_interval(days => $1), now() - make_interval(days => $1))
           RETURNING id""",
        days_ago,
    )
    await db.pool.execute(
        """INSERT INTO check_results (audit_id, position, code, name, severity, outcome, detail)
           VALUES ($1, 0, 'A1', 'Scope', 'blocking', 'fail', 'unclaimed')""",
        audit_id,
    )
    await db.pool.execute(
        """INSERT INTO findings (audit_id, code, path, level, message)
           VALUES ($1, 'A1', 'a.py', 'failure', 'x')""",
        audit_id,
    )
    if with_run:
        await db.pool.execute(
            """INSERT INTO audit_check_runs (audit_id, name, check_run_id, status)
               VALUES ($1, 'ForgeGuard', 7, 'completed')""",
            audit_id,
        )
    return audit_id


async def ids(db: Database, table: str) -> set[Any]:
    return {r[0] for r in await db.pool.fetch(f"SELECT id FROM {table}")}  # noqa: S608


async def test_deliveries_older_than_the_retention_are_pruned_unless_still_queued(db: Database) -> None:
    await add_delivery(db, "old-processed", "processed", OLD)
    await add_delivery(db, "old-queued", "queued", OLD)
    await add_delivery(db, "new", "processed", 0)
    pruned = await prune(db.pool, 30)
    assert await ids(db, "deliveries") == {"old-queued", "new"}
    assert pruned.counts["deliveries"] == 1


async def test_finished_jobs_and_their_attempts_and_the_queue_log_are_pruned(db: Database) -> None:
    old_job = await db.pool.fetchval(
        """INSERT INTO jobs (kind, payload, status, created_at, finished_at)
           VALUES ('audit', '{}', 'succeeded', now() - make_interval(days => $1),
                   now() - make_interval(days => $1)) RETURNING id""",
        OLD,
    )
    await db.pool.execute(
        """INSERT INTO job_attempts (job_id, attempt, worker, started_at, outcome)
           VALUES ($1, 1, 'w', now() - make_interval(days => $2), 'succeeded')""",
        old_job,
        OLD,
    )
    running = await db.pool.fetchval(
        """INSERT INTO jobs (kind, payload, status, created_at)
           VALUES ('audit', '{}', 'running', now() - make_interval(days => $1)) RETURNING id""",
        OLD,
    )
    await db.pool.execute(
        """INSERT INTO pgqueuer_log (created, job_id, status, priority, entrypoint)
           VALUES (now() - make_interval(days => $1), 1, 'successful', 0, 'x'),
                  (now(), 2, 'successful', 0, 'x')""",
        OLD,
    )
    await prune(db.pool, 30)
    assert await ids(db, "jobs") == {running}
    assert await db.pool.fetchval("SELECT count(*) FROM job_attempts") == 0
    assert await db.pool.fetchval("SELECT count(*) FROM pgqueuer_log") == 1


async def test_an_old_audit_behind_a_check_run_keeps_its_page_but_not_its_bulk(
    db: Database, client: TestClient[Any, Any]
) -> None:
    linked = await add_audit(db, days_ago=OLD, with_run=True)
    unlinked = await add_audit(db, days_ago=OLD, with_run=False)
    recent = await add_audit(db, days_ago=0, with_run=False)
    await prune(db.pool, 30)
    assert await ids(db, "audit_runs") == {linked, recent}
    assert await db.pool.fetchval("SELECT report FROM audit_runs WHERE id = $1", linked) is None
    assert await db.pool.fetchval("SELECT count(*) FROM findings WHERE audit_id = $1", linked) == 0
    assert await db.pool.fetchval("SELECT count(*) FROM findings WHERE audit_id = $1", recent) == 1
    page = await client.get(f"/audits/{linked}")
    assert page.status == 200
    assert "A1" in await page.text()
    assert (await client.get(f"/audits/{unlinked}")).status == 404


async def test_the_retention_follows_the_configured_days(db: Database) -> None:
    await add_delivery(db, "ten-days", "processed", 10)
    await prune(db.pool, 30)
    assert await ids(db, "deliveries") == {"ten-days"}
    await prune(db.pool, 7)
    assert await ids(db, "deliveries") == set()


async def test_pruning_goes_in_batches(db: Database) -> None:
    for i in range(7):
        await add_delivery(db, f"d{i}", "processed", OLD)
    pruned = await prune(db.pool, 30, batch=3)
    assert pruned.counts["deliveries"] == 7
    assert await ids(db, "deliveries") == set()


async def test_one_process_prunes_at_a_time(db: Database) -> None:
    async with db.pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", 0x466F72676550)
        assert await prune_once(db, 30) is None
        await conn.execute("SELECT pg_advisory_unlock($1)", 0x466F72676550)
    assert await prune_once(db, 30) is not None


def test_retention_days_default_to_30_and_a_wrong_value_names_the_variable() -> None:
    assert Settings.from_mapping({}).retention_days == 30
    assert Settings.from_mapping({"FORGEGUARD_RETENTION_DAYS": "7"}).retention_days == 7
    with pytest.raises(SettingsError) as error:
        Settings.from_mapping({"FORGEGUARD_RETENTION_DAYS": "a month"})
    assert "FORGEGUARD_RETENTION_DAYS" in str(error.value)
