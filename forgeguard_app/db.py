"""The asyncpg pool and the ordered SQL migrations in forgeguard_app/migrations."""

from __future__ import annotations

import logging
import pathlib
import re
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from pgqueuer.queries import Queries

log = logging.getLogger(__name__)

MIGRATIONS_DIR = pathlib.Path(__file__).with_name("migrations")
MIGRATION_NAME = re.compile(r"^(\d{3})_[A-Za-z0-9_]+\.sql$")
# pg_advisory_lock key serialising migrations across processes ("forge" in ascii).
MIGRATION_LOCK_KEY = 0x666F726765
MAX_ID = 2**63 - 1
"""The largest bigserial id (PostgreSQL's bigint)."""


class Executor(Protocol):
    """What an asyncpg Connection and Pool both offer: stores take one, the caller owns the transaction."""

    async def execute(self, query: str, *args: Any) -> str: ...

    async def executemany(self, command: str, args: Any) -> None: ...

    async def fetch(self, query: str, *args: Any) -> list[Any]: ...

    async def fetchrow(self, query: str, *args: Any) -> Any: ...

    async def fetchval(self, query: str, *args: Any) -> Any: ...


@dataclass(frozen=True)
class Migration:
    """One numbered SQL file."""

    version: int
    name: str
    sql: str


def parse_id(text: str | None) -> int | None:
    """A bigserial id written in ASCII digits; None for anything else (`int()` takes Unicode digits,
    signs and 10**400, and `str.isdigit` lets through digits `int()` refuses, such as "²")."""
    if text is None or not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def load_migrations(directory: pathlib.Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files in version order; two files with one number are an error."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = MIGRATION_NAME.match(path.name)
        if not match:
            raise ValueError(f"migration file name must look like 001_name.sql: {path.name}")
        version = int(match.group(1))
        if version in found:
            raise ValueError(f"two migrations numbered {version:03d}: {found[version].name}, {path.name}")
        found[version] = Migration(version, path.name, path.read_text())
    return [found[v] for v in sorted(found)]


def pending_migrations(migrations: list[Migration], applied: set[int]) -> list[Migration]:
    """The migrations not yet applied, in order."""
    return [m for m in migrations if m.version not in applied]


async def _init_connection(conn: asyncpg.Connection) -> None:
    # jsonb and json columns come back as Python objects, and go in from dicts/lists.
    import json

    for name in ("jsonb", "json"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Released connections skip asyncpg's server-side reset (one more round trip per use).

    The app keeps no session state on pooled connections: no SET (only SET LOCAL),
    session advisory locks are released where they are taken, and pgqueuer resets
    its listening connection itself. asyncpg still rolls back an open transaction.
    """


class Database:
    """A connection pool plus the schema it expects."""

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self.pool = pool
        self.url = url

    @classmethod
    async def connect(cls, url: str, *, min_size: int = 1, max_size: int = 10) -> Database:
        pool = await asyncpg.create_pool(
            url, min_size=min_size, max_size=max_size, init=_init_connection, reset=_keep_session
        )
        return cls(pool, url)

    async def close(self) -> None:
        await self.pool.close()

    async def migrate(self, directory: pathlib.Path = MIGRATIONS_DIR) -> list[str]:
        """Apply the pending migrations and pgqueuer's schema; returns the files applied.

        Runs on one connection holding a session advisory lock, so processes that
        start together apply each file once; each file runs in its own transaction.
        """
        migrations = load_migrations(directory)
        applied_now: list[str] = []
        async with self.pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
            try:
                await conn.execute(
                    """CREATE TABLE IF NOT EXISTS schema_migrations (
                           version integer PRIMARY KEY,
                           name text NOT NULL,
                           applied_at timestamptz NOT NULL DEFAULT now())"""
                )
                applied = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
                for migration in pending_migrations(migrations, applied):
                    async with conn.transaction():
                        await conn.execute(migration.sql)
                        await conn.execute(
                            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                            migration.version,
                            migration.name,
                        )
                    log.info("applied migration %s", migration.name)
                    applied_now.append(migration.name)
                await _install_pgqueuer(conn)
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
        return applied_now


async def _install_pgqueuer(conn: asyncpg.Connection) -> None:
    """pgqueuer's tables: installed the first time, converged to the installed release after."""
    queries = Queries.from_asyncpg_connection(conn)
    if not await queries.schema_is_installed():
        async with conn.transaction():
            await queries.install()
        log.info("installed pgqueuer tables")
    elif (await queries.plan_upgrade()).statements:
        await queries.upgrade()
        log.info("upgraded pgqueuer tables")
