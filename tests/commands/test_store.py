"""The contracts pull request record: opened, committed to, approved or rejected with the reason kept."""

from __future__ import annotations

from forgeguard_app.commands import store
from forgeguard_app.db import Database


async def _open(db: Database, pull_number: int = 8) -> None:
    async with db.pool.acquire() as conn:
        await store.save_opened(
            conn,
            repository_id=4242,
            issue_number=7,
            installation_id=1,
            owner="octo-org",
            repo="hello",
            pull_number=pull_number,
            branch="forge/contracts-7",
            base_branch="main",
            project="Tasks",
            head_sha="a" * 40,
        )


async def test_an_opened_contracts_pull_is_found_by_pull_and_by_issue(db: Database) -> None:
    await _open(db)
    async with db.pool.acquire() as conn:
        by_pull = await store.by_pull(conn, 4242, 8)
        by_issue = await store.by_issue(conn, 4242, 7)
    assert by_pull == by_issue
    assert by_pull is not None and by_pull.state == "open" and by_pull.branch == "forge/contracts-7"


async def test_another_pull_request_is_not_a_contracts_pull(db: Database) -> None:
    await _open(db)
    async with db.pool.acquire() as conn:
        assert await store.by_pull(conn, 4242, 9) is None


async def test_a_rejection_keeps_who_why_and_at_which_commit(db: Database) -> None:
    await _open(db)
    async with db.pool.acquire() as conn:
        await store.decide(conn, 4242, 7, state="rejected", by="octocat", sha="b" * 40, reason="wrong stack")
        pull = await store.by_issue(conn, 4242, 7)
    assert pull is not None
    assert (pull.state, pull.decided_by, pull.decided_sha, pull.reason) == (
        "rejected",
        "octocat",
        "b" * 40,
        "wrong stack",
    )
    assert pull.decided_at is not None


async def test_a_new_pull_for_a_rejected_issue_starts_open_again(db: Database) -> None:
    await _open(db)
    async with db.pool.acquire() as conn:
        await store.decide(conn, 4242, 7, state="rejected", by="octocat", sha="b" * 40, reason="no")
    await _open(db, pull_number=11)
    async with db.pool.acquire() as conn:
        pull = await store.by_issue(conn, 4242, 7)
    assert pull is not None and (pull.pull_number, pull.state, pull.reason) == (11, "open", None)


async def test_a_commit_moves_the_recorded_head(db: Database) -> None:
    await _open(db)
    async with db.pool.acquire() as conn:
        await store.set_head(conn, 4242, 7, "c" * 40)
        pull = await store.by_issue(conn, 4242, 7)
    assert pull is not None and pull.head_sha == "c" * 40
