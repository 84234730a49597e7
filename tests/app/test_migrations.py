"""Migrations: ordered files applied once, safely from several processes at once."""

from __future__ import annotations

import asyncio
import pathlib

import pytest

from forgeguard_app.db import Database, Migration, load_migrations, pending_migrations
from tests.fixtures.db import PgCluster


async def test_migrating_a_migrated_database_applies_nothing(db: Database) -> None:
    assert await db.migrate() == []


async def test_every_migration_file_is_recorded_once(db: Database) -> None:
    recorded = [r["version"] for r in await db.pool.fetch("SELECT version FROM schema_migrations ORDER BY 1")]
    assert recorded == [m.version for m in load_migrations()]


async def test_pgqueuer_tables_are_installed_by_migrate(db: Database) -> None:
    tables = {r["tablename"] for r in await db.pool.fetch("SELECT tablename FROM pg_tables")}
    assert {"pgqueuer", "pgqueuer_log", "pgqueuer_statistics"} <= tables


async def test_concurrent_migrations_apply_each_file_once(
    postgres_server: PgCluster, tmp_path: pathlib.Path
) -> None:
    import asyncpg

    name = "fg_concurrent_" + tmp_path.name[-8:].replace("-", "_")
    admin = await asyncpg.connect(postgres_server.admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        databases = [await Database.connect(postgres_server.url_for(name), max_size=2) for _ in range(4)]
        results = await asyncio.gather(*(d.migrate() for d in databases))
        applied = [names for names in results if names]
        assert len(applied) == 1
        assert applied[0] == [m.name for m in load_migrations()]
        for d in databases:
            await d.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def test_pending_migrations_keep_file_order() -> None:
    migrations = [
        Migration(1, "001_a.sql", ""),
        Migration(2, "002_b.sql", ""),
        Migration(10, "010_c.sql", ""),
    ]
    assert [m.name for m in pending_migrations(migrations, {2})] == ["001_a.sql", "010_c.sql"]


def test_two_files_with_one_number_are_refused(tmp_path: pathlib.Path) -> None:
    (tmp_path / "005_one.sql").write_text("SELECT 1;")
    (tmp_path / "005_two.sql").write_text("SELECT 1;")
    with pytest.raises(ValueError, match="two migrations numbered 005"):
        load_migrations(tmp_path)


async def test_a_failing_migration_leaves_nothing_recorded(db: Database, tmp_path: pathlib.Path) -> None:
    (tmp_path / "901_good.sql").write_text("CREATE TABLE extra_good (id int);")
    (tmp_path / "902_bad.sql").write_text("CREATE TABLE extra_bad (id int); SELECT no_such_function();")
    with pytest.raises(Exception, match="no_such_function"):
        await db.migrate(tmp_path)
    versions = {r["version"] for r in await db.pool.fetch("SELECT version FROM schema_migrations")}
    assert 901 in versions and 902 not in versions
    assert await db.pool.fetchval("SELECT to_regclass('extra_bad')") is None
