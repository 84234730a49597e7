"""Installation bookkeeping: the installation events kept in tables, and what counts as installed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from gidgethub.sansio import Event

from forgeguard_app.context import EventContext
from forgeguard_app.db import Database
from forgeguard_app.installations import router
from forgeguard_app.settings import Settings
from tests.app.conftest import CORPUS

INSTALLATION_ID = 957387  # installation/created.payload.json
REPOSITORY_ID = 186853002  # Codertocat/Hello-World in it


def example(event: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CORPUS / "webhooks" / event / f"{name}.payload.json").read_bytes())
    return data


async def deliver(db: Database, event: str, data: dict[str, Any]) -> None:
    ctx = EventContext(
        db=db,
        settings=Settings(),
        github=None,
        llm=None,
        job_id=1,
        attempt=1,
        max_attempts=1,
        delivery_id="d1",
        installation_id=data["installation"]["id"],
    )
    await router.dispatch(Event(data, event=event, delivery_id="d1"), ctx)


async def covered(db: Database, installation_id: int, repository_id: int) -> bool:
    """The rule the webhook applies when it stores a delivery (migration 007)."""
    return bool(
        await db.pool.fetchval("SELECT forgeguard_repository_covered($1, $2)", installation_id, repository_id)
    )


async def add_installation(
    db: Database, selection: str, *, suspended: bool = False, deleted: bool = False
) -> None:
    await db.pool.execute(
        "INSERT INTO installations (id, repository_selection, suspended_at, deleted_at)"
        " VALUES (7, $1, CASE WHEN $2 THEN now() END, CASE WHEN $3 THEN now() END)",
        selection,
        suspended,
        deleted,
    )


@pytest.mark.parametrize("gone", ["suspended", "deleted"])
async def test_a_suspended_or_deleted_installation_covers_nothing(db: Database, gone: str) -> None:
    await add_installation(db, "all", **{gone: True})
    assert not await covered(db, 7, 42)


async def test_a_repository_removed_from_the_installation_is_not_covered(db: Database) -> None:
    await add_installation(db, "all")
    await db.pool.execute("INSERT INTO installation_repositories VALUES (7, 42, 'octo/gone', false)")
    assert not await covered(db, 7, 42)


async def test_with_selected_repositories_only_listed_ones_are_covered(db: Database) -> None:
    await add_installation(db, "selected")
    await db.pool.execute("INSERT INTO installation_repositories VALUES (7, 42, 'octo/listed', true)")
    assert (await covered(db, 7, 42), await covered(db, 7, 43)) == (True, False)


async def test_with_all_repositories_an_unlisted_one_is_covered(db: Database) -> None:
    await add_installation(db, "all")
    assert await covered(db, 7, 43)


async def test_an_unknown_installation_is_accepted_and_recorded(db: Database) -> None:
    assert await covered(db, 31337, 42)
    assert await db.pool.fetchval("SELECT count(*) FROM installations WHERE id = 31337") == 1


async def test_installation_created_records_the_account_and_its_repositories(db: Database) -> None:
    await deliver(db, "installation", example("installation", "created"))
    row = await db.pool.fetchrow("SELECT * FROM installations WHERE id = $1", INSTALLATION_ID)
    assert (row["account_login"], row["repository_selection"], row["permissions"]["checks"]) == (
        "Codertocat",
        "selected",
        "write",
    )
    repos = await db.pool.fetch("SELECT repository_id, full_name, active FROM installation_repositories")
    assert [tuple(r) for r in repos] == [(REPOSITORY_ID, "Codertocat/Hello-World", True)]
    assert await covered(db, INSTALLATION_ID, REPOSITORY_ID)
    assert not await covered(db, INSTALLATION_ID, 1)


async def test_installation_deleted_stops_its_repositories(db: Database) -> None:
    deleted = example("installation", "deleted")
    installation_id, repository_id = deleted["installation"]["id"], deleted["repositories"][0]["id"]
    before = await covered(db, installation_id, repository_id)
    await deliver(db, "installation", deleted)
    after = await covered(db, installation_id, repository_id)
    assert (before, after) == (True, False)


async def test_a_suspended_installation_is_not_acted_on_until_unsuspended(db: Database) -> None:
    suspend, unsuspend = example("installation", "suspend"), example("installation", "unsuspend")
    installation_id = suspend["installation"]["id"]
    await deliver(db, "installation", suspend)
    suspended = await covered(db, installation_id, REPOSITORY_ID)
    await deliver(db, "installation", unsuspend)
    resumed = await covered(db, installation_id, REPOSITORY_ID)
    assert (suspended, resumed) == (False, True)


async def test_repositories_added_and_removed_are_tracked(db: Database) -> None:
    added = example("installation_repositories", "added")
    removed = example("installation_repositories", "removed")
    await deliver(db, "installation_repositories", added)
    await deliver(db, "installation_repositories", removed)
    installation_id = added["installation"]["id"]
    for repo in added["repositories_added"]:
        gone = any(r["id"] == repo["id"] for r in removed["repositories_removed"])
        assert await covered(db, installation_id, repo["id"]) is not gone
