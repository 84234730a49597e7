"""Installation bookkeeping: the installation events kept in tables, and what counts as installed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from gidgethub.sansio import Event

from forgeguard_app.db import Database
from forgeguard_app.events import EventContext
from forgeguard_app.installations import InstallationState, is_installed, repository_covered, router
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


ACTIVE_ALL = InstallationState("all", suspended=False, deleted=False)
ACTIVE_SELECTED = InstallationState("selected", suspended=False, deleted=False)


def test_an_installation_not_seen_yet_is_trusted() -> None:
    assert repository_covered(None, None)


@pytest.mark.parametrize(
    "state",
    [
        InstallationState("all", suspended=True, deleted=False),
        InstallationState("all", suspended=False, deleted=True),
    ],
    ids=["suspended", "deleted"],
)
def test_a_suspended_or_deleted_installation_covers_nothing(state: InstallationState) -> None:
    assert not repository_covered(state, True)


def test_a_repository_removed_from_the_installation_is_not_covered() -> None:
    assert not repository_covered(ACTIVE_ALL, False)


def test_with_selected_repositories_only_listed_ones_are_covered() -> None:
    assert (repository_covered(ACTIVE_SELECTED, None), repository_covered(ACTIVE_SELECTED, True)) == (
        False,
        True,
    )


def test_with_all_repositories_an_unlisted_one_is_covered() -> None:
    assert repository_covered(ACTIVE_ALL, None)


async def test_an_unknown_installation_is_accepted_and_recorded(db: Database) -> None:
    async with db.pool.acquire() as conn:
        assert await is_installed(conn, 31337, 42)
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
    async with db.pool.acquire() as conn:
        assert await is_installed(conn, INSTALLATION_ID, REPOSITORY_ID)
        assert not await is_installed(conn, INSTALLATION_ID, 1)


async def test_installation_deleted_stops_its_repositories(db: Database) -> None:
    deleted = example("installation", "deleted")
    installation_id, repository_id = deleted["installation"]["id"], deleted["repositories"][0]["id"]
    async with db.pool.acquire() as conn:
        before = await is_installed(conn, installation_id, repository_id)
        await deliver(db, "installation", deleted)
        after = await is_installed(conn, installation_id, repository_id)
    assert (before, after) == (True, False)


async def test_a_suspended_installation_is_not_acted_on_until_unsuspended(db: Database) -> None:
    suspend, unsuspend = example("installation", "suspend"), example("installation", "unsuspend")
    installation_id = suspend["installation"]["id"]
    await deliver(db, "installation", suspend)
    async with db.pool.acquire() as conn:
        suspended = await is_installed(conn, installation_id, REPOSITORY_ID)
    await deliver(db, "installation", unsuspend)
    async with db.pool.acquire() as conn:
        resumed = await is_installed(conn, installation_id, REPOSITORY_ID)
    assert (suspended, resumed) == (False, True)


async def test_repositories_added_and_removed_are_tracked(db: Database) -> None:
    added = example("installation_repositories", "added")
    removed = example("installation_repositories", "removed")
    await deliver(db, "installation_repositories", added)
    await deliver(db, "installation_repositories", removed)
    installation_id = added["installation"]["id"]
    async with db.pool.acquire() as conn:
        for repo in added["repositories_added"]:
            gone = any(r["id"] == repo["id"] for r in removed["repositories_removed"])
            assert await is_installed(conn, installation_id, repo["id"]) is not gone
