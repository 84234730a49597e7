"""Retention: what is older than `FORGEGUARD_RETENTION_DAYS` (default 30) is pruned by a periodic pass.

Pruned: deliveries (~20 KB each) once handled, finished jobs with their
attempts, pgqueuer's log and statistics, audits that no check run links to,
the bulky parts (findings, the JSON report) of audits a check run still links
to, pull request heads, and setup states a day old. An audit behind a check
run's Details link keeps what `/audits/{id}` shows (the audit row and its
twelve results) for as long as the run exists on GitHub.

One process prunes at a time (an advisory lock); deletes go in batches so no
statement holds locks for long.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from forgeguard_app.db import Database, Executor
from forgeguard_app.jobs import database_unavailable, describe_error

log = logging.getLogger(__name__)

PRUNE_EVERY = 6 * 3600.0
FIRST_PRUNE_AFTER = 60.0
BATCH = 5000
LOCK_KEY = 0x466F72676550  # "ForgeP": one pruning process at a time

# (what, statement deleting at most $2 rows older than $1 days; returns the rows deleted)
BATCHED: list[tuple[str, str]] = [
    (
        "deliveries",
        """DELETE FROM deliveries WHERE id IN (
               SELECT id FROM deliveries
               WHERE received_at < now() - make_interval(days => $1) AND status <> 'queued' LIMIT $2)""",
    ),
    (
        "jobs",
        """DELETE FROM jobs WHERE id IN (
               SELECT id FROM jobs
               WHERE status IN ('succeeded', 'failed')
                 AND coalesce(finished_at, created_at) < now() - make_interval(days => $1) LIMIT $2)""",
    ),
    (
        "pgqueuer_log",
        """DELETE FROM pgqueuer_log WHERE id IN (
               SELECT id FROM pgqueuer_log WHERE created < now() - make_interval(days => $1) LIMIT $2)""",
    ),
    (
        "pgqueuer_statistics",
        """DELETE FROM pgqueuer_statistics WHERE id IN (
               SELECT id FROM pgqueuer_statistics
               WHERE created < now() - make_interval(days => $1) LIMIT $2)""",
    ),
    (
        "audits",
        """DELETE FROM audit_runs WHERE id IN (
               SELECT a.id FROM audit_runs a
               WHERE a.status = 'completed' AND a.completed_at < now() - make_interval(days => $1)
                 AND NOT EXISTS (SELECT 1 FROM audit_check_runs c WHERE c.audit_id = a.id)
               LIMIT $2)""",
    ),
    (
        "findings",
        """DELETE FROM findings WHERE id IN (
               SELECT f.id FROM findings f JOIN audit_runs a ON a.id = f.audit_id
               WHERE a.status = 'completed' AND a.completed_at < now() - make_interval(days => $1)
               LIMIT $2)""",
    ),
    (
        "audit reports",
        """UPDATE audit_runs SET report = NULL WHERE id IN (
               SELECT id FROM audit_runs
               WHERE status = 'completed' AND report IS NOT NULL
                 AND completed_at < now() - make_interval(days => $1)
               LIMIT $2)""",
    ),
    (
        "pull_request_heads",
        """DELETE FROM pull_request_heads WHERE ctid IN (
               SELECT ctid FROM pull_request_heads
               WHERE updated_at < now() - make_interval(days => $1) LIMIT $2)""",
    ),
]


@dataclass(frozen=True)
class Pruned:
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _count(status: str) -> int:
    """Rows touched, from a command tag such as `DELETE 12`."""
    return int(status.rsplit(" ", 1)[-1])


async def prune(conn: Executor, days: int, batch: int = BATCH) -> Pruned:
    """One pass: everything older than `days` days, by batches; how many rows of each kind."""
    counts: dict[str, int] = {}
    for what, statement in BATCHED:
        total = 0
        while True:
            done = _count(await conn.execute(statement, days, batch))
            total += done
            if done < batch:
                break
        counts[what] = total
    counts["setup_states"] = _count(
        await conn.execute("DELETE FROM setup_states WHERE created_at < now() - interval '1 day'")
    )
    return Pruned(counts)


async def prune_once(db: Database, days: int) -> Pruned | None:
    """A pass, unless another process is pruning (None then)."""
    async with db.pool.acquire() as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY):
            return None
        try:
            return await prune(conn, days)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)


async def keep_pruning(db: Database, days: int, every: float = PRUNE_EVERY) -> None:
    """Forever: a pass shortly after start, then every `every` seconds."""
    await asyncio.sleep(FIRST_PRUNE_AFTER)
    while True:
        try:
            pruned = await prune_once(db, days)
            if pruned is not None and pruned.total:
                kept = ", ".join(f"{n} {what}" for what, n in pruned.counts.items() if n)
                log.info("retention: pruned what is older than %d days: %s", days, kept)
        except Exception as exc:
            if not database_unavailable(exc):
                log.exception("retention pass failed")
            else:
                log.info("retention pass skipped: %s", describe_error(exc))
        await asyncio.sleep(every)
