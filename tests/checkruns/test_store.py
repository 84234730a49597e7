"""Audit storage: deduplication, reused check runs, results, the head → pull request table, stuck audits."""

from __future__ import annotations

from forgeguard_app.checkruns import store
from forgeguard_app.checkruns.decide import AuditRequest, PullRequestHead
from forgeguard_app.checkruns.jobs import enqueue_audit, resolve_request
from forgeguard_app.db import Database
from tests.checkruns.reports import make_report

HEAD = "b" * 40
BASE = "a" * 40


def push_request(reason: str = "push") -> AuditRequest:
    return AuditRequest(
        installation_id=1,
        owner="Codertocat",
        repo="Hello-World",
        head_sha=HEAD,
        base=BASE,
        pull_number=None,
        reason=reason,  # type: ignore[arg-type]
        branch="main",
        default_branch="main",
    )


async def test_the_same_automatic_audit_is_stored_once(db: Database) -> None:
    first = await store.create_audit(db.pool, push_request("push"))
    second = await store.create_audit(db.pool, push_request("check_suite"))
    assert first is not None
    assert second is None


async def test_reruns_are_never_deduplicated(db: Database) -> None:
    assert await store.create_audit(db.pool, push_request("rerequested")) is not None
    assert await store.create_audit(db.pool, push_request("rerequested")) is not None


async def test_enqueue_audit_queues_an_ordered_audit_job(db: Database) -> None:
    async with db.pool.acquire() as conn, conn.transaction():
        audit_id = await enqueue_audit(
            conn,
            installation_id=1,
            owner="Codertocat",
            repo="Hello-World",
            head_sha=HEAD,
            base_sha=None,
            pull_number=2,
            reason="command",
        )
    job = await db.pool.fetchrow("SELECT kind, payload, order_key FROM jobs")
    assert job["kind"] == "audit"
    assert job["payload"] == {"audit_id": audit_id}
    assert job["order_key"] == "repo:codertocat/hello-world:pr:2"


async def test_a_forks_head_is_found_by_its_sha(db: Database) -> None:
    head = PullRequestHead("Codertocat", "Hello-World", HEAD, 2, BASE, "main", "someone/Hello-World")
    await store.record_pull_request_head(db.pool, head)
    found = await store.pull_request_for_head(db.pool, "codertocat", "hello-world", HEAD)
    assert found == PullRequestHead("codertocat", "hello-world", HEAD, 2, BASE, "main", "someone/Hello-World")


async def test_a_rerequest_without_base_takes_the_pull_requests_base(db: Database) -> None:
    await store.record_pull_request_head(
        db.pool, PullRequestHead("Codertocat", "Hello-World", HEAD, 2, BASE, "main", None)
    )
    request = push_request("rerequested")
    resolved = await resolve_request(db.pool, AuditRequest(**{**request.__dict__, "base": None}))
    assert (resolved.base, resolved.pull_number) == (BASE, 2)


async def test_a_check_run_rerequest_reuses_the_base_of_the_audit_that_made_the_run(db: Database) -> None:
    audit_id = await store.create_audit(db.pool, push_request())
    assert audit_id is not None
    await store.add_check_run(db.pool, audit_id, "ForgeGuard", 4)
    rerun = AuditRequest(**{**push_request("rerequested").__dict__, "base": None})
    resolved = await resolve_request(db.pool, rerun, check_run_id=4)
    assert resolved.base == BASE


async def test_check_runs_are_kept_per_audit_and_name(db: Database) -> None:
    audit_id = await store.create_audit(db.pool, push_request())
    assert audit_id is not None
    await store.add_check_run(db.pool, audit_id, "ForgeGuard A1", 11)
    await store.add_check_run(db.pool, audit_id, "ForgeGuard A2", 12)
    await store.complete_check_run(db.pool, audit_id, "ForgeGuard A1", "success")
    assert await store.check_runs_of(db.pool, audit_id) == {"ForgeGuard A1": 11, "ForgeGuard A2": 12}
    assert await store.open_check_runs_of(db.pool, audit_id) == {"ForgeGuard A2": 12}


async def test_results_and_findings_replace_those_of_an_earlier_attempt(db: Database) -> None:
    from checks.model import Finding

    audit_id = await store.create_audit(db.pool, push_request())
    assert audit_id is not None
    report = make_report({"A1": "fail"}, {"A1": [Finding("a.py", "unclaimed"), Finding("b.py", "unclaimed")]})
    await store.save_report(db.pool, audit_id, report, report_mode="summary")
    await store.save_report(db.pool, audit_id, report, report_mode="summary")
    assert await db.pool.fetchval("SELECT count(*) FROM check_results WHERE audit_id = $1", audit_id) == 12
    assert await db.pool.fetchval("SELECT count(*) FROM findings WHERE audit_id = $1", audit_id) == 2


async def test_finished_audit_records_its_conclusion(db: Database) -> None:
    audit_id = await store.create_audit(db.pool, push_request())
    assert audit_id is not None
    await store.finish_audit(
        db.pool, audit_id, conclusion="failure", title="1 of 12 checks failed: A1", api_calls=6
    )
    row = await store.load_audit(db.pool, audit_id)
    assert row is not None
    assert (row.status, row.conclusion, row.api_calls) == ("completed", "failure", 6)


async def test_an_audit_in_progress_too_long_is_stuck(db: Database) -> None:
    audit_id = await store.create_audit(db.pool, push_request())
    assert audit_id is not None
    await store.start_audit(db.pool, audit_id)
    await db.pool.execute(
        "UPDATE audit_runs SET started_at = now() - interval '1 hour' WHERE id = $1", audit_id
    )
    assert [r.id for r in await store.stuck_audits(db.pool, 900)] == [audit_id]
    assert await store.stuck_audits(db.pool, 7200) == []
