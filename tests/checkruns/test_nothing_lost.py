"""No audit lost, no run stuck: lost answers, failed token mints, orphan runs (issue 10, items 1 and 2)."""

from __future__ import annotations

from datetime import timedelta

from forgeguard_app.checkruns.jobs import complete_orphan_runs, complete_stuck_audits
from tests.checkruns.conftest import Harness, push_payload
from tests.checkruns.repos import governed_files, module
from tests.checkruns.test_audit_flow import audit_push, push_change


async def make_old(h: Harness) -> None:
    await h.db.pool.execute(
        "UPDATE audit_runs SET started_at = now() - interval '1 hour', created_at = now() - interval '1 hour'"
    )


async def watchdog(h: Harness) -> int:
    return await complete_stuck_audits(h.db, h.github, h.settings, timedelta(minutes=15))


async def test_a_check_run_whose_create_answer_was_lost_is_created_once(harness: Harness) -> None:
    repo = harness.fake.add_repo("octo", "demo", files=governed_files())
    before = repo.sha()
    after = push_change(repo, {"app/x.py": module(1)}, ["app/x.py"])
    harness.fake.fault("POST", r"/check-runs$", 502, applied=True)
    await audit_push(harness, repo, before, after)
    run = harness.run(after)  # exactly one ForgeGuard run on the head
    assert (run["status"], run["conclusion"]) == ("completed", "success")
    assert harness.fake.calls("checks/create") == 1


async def test_a_comment_whose_create_answer_was_lost_is_posted_once(harness: Harness) -> None:
    from forgeguard_app.commands import progress_comment

    repo = harness.fake.add_repo("octo", "demo", files=governed_files())
    number = harness.fake.add_issue(repo, "An issue")
    api = await harness.github.installation_api(repo.installation_id)
    harness.fake.fault("POST", rf"/issues/{number}/comments$", 502, applied=True)
    async with harness.db.pool.acquire() as conn:
        await progress_comment.show(
            api,
            conn,
            repository_id=repo.id,
            owner=repo.owner,
            repo=repo.name,
            issue_number=number,
            kind="intake",
            key="1",
            text="Working on it",
        )
    assert len([c for c in harness.fake.comments if c["issue_key"] == (repo.full_name, number)]) == 1


async def test_a_ref_whose_create_answer_was_lost_is_created_once(harness: Harness) -> None:
    from forgeguard_app.commands import gitdata

    repo = harness.fake.add_repo("octo", "demo", files=governed_files())
    api = await harness.github.installation_api(repo.installation_id)
    harness.fake.fault("POST", r"/git/refs$", 502, applied=True)
    result = await gitdata.commit_files(
        api,
        repo.owner,
        repo.name,
        branch="forge/x",
        base_branch=repo.default_branch,
        files={"a.txt": "a\n"},
        message="a",
    )
    assert result.created_branch
    assert repo.sha("forge/x") == result.sha
    assert harness.fake.calls("git/create-ref") == 1


async def test_an_audit_whose_token_never_came_is_queued_again_and_completes(harness: Harness) -> None:
    repo = harness.fake.add_repo("octo", "demo", files=governed_files())
    before = repo.sha()
    after = push_change(repo, {"app/x.py": module(1)}, ["app/x.py"])
    harness.fake.fault("POST", r"/access_tokens$", 502, times=1_000)
    await audit_push(harness, repo, before, after)
    assert harness.runs(after) == []
    assert await harness.db.pool.fetchval("SELECT status FROM jobs WHERE kind = 'audit'") == "failed"

    for fault in harness.fake._faults:
        fault.times = 0  # GitHub is reachable again
    await make_old(harness)
    assert await watchdog(harness) == 1
    await harness.drain()
    run = harness.run(after)
    assert (run["status"], run["conclusion"]) == ("completed", "success")
    row = await harness.db.pool.fetchrow("SELECT status, conclusion, requeues FROM audit_runs")
    assert tuple(row) == ("completed", "success", 1)


async def test_an_audit_that_cannot_start_is_completed_neutral_after_the_last_requeue(
    harness: Harness,
) -> None:
    repo = harness.fake.add_repo("octo", "demo", files=governed_files())
    before = repo.sha()
    after = push_change(repo, {"app/x.py": module(1)}, ["app/x.py"])
    await harness.deliver("push", push_payload(repo, before, after))
    await harness.step()  # the delivery job queues the audit
    await harness.db.pool.execute("UPDATE jobs SET status = 'failed' WHERE kind = 'audit'")
    await harness.db.pool.execute("UPDATE audit_runs SET requeues = 3")
    await make_old(harness)
    assert await watchdog(harness) == 1
    run = harness.run(after)
    assert (run["status"], run["conclusion"]) == ("completed", "neutral")
    assert await harness.db.pool.fetchval("SELECT status FROM audit_runs") == "completed"


async def test_a_queued_audit_whose_job_still_waits_is_left_alone(harness: Harness) -> None:
    repo = harness.fake.add_repo("octo", "demo", files=governed_files())
    before = repo.sha()
    after = push_change(repo, {"app/x.py": module(1)}, ["app/x.py"])
    await harness.deliver("push", push_payload(repo, before, after))
    await harness.step()  # the delivery job queues the audit job, which has not run yet
    await make_old(harness)
    assert await watchdog(harness) == 0
    assert harness.runs(after) == []


async def test_the_watchdog_completes_an_open_run_of_ours_with_no_live_audit(harness: Harness) -> None:
    repo = harness.fake.add_repo("octo", "demo", files=governed_files())
    before = repo.sha()
    after = push_change(repo, {"app/x.py": module(1)}, ["app/x.py"])
    harness.fake.fault("GET", r"/compare/", 500, times=3)  # one failed attempt: an audit with trouble
    await audit_push(harness, repo, before, after)
    audit_id = await harness.db.pool.fetchval("SELECT id FROM audit_runs")
    # A duplicate an older version made when an answer was lost: ours, open, unknown to the database.
    api = await harness.github.installation_api(repo.installation_id)
    orphan = await api.post(
        f"/repos/{repo.full_name}/check-runs",
        data={"name": "ForgeGuard", "head_sha": after, "status": "in_progress", "external_id": str(audit_id)},
    )
    assert await complete_orphan_runs(harness.db, harness.github, harness.settings) == 1
    completed = harness.fake.check_run(int(orphan["id"]))
    assert (completed["status"], completed["conclusion"]) == ("completed", "neutral")
    assert [r["conclusion"] for r in harness.runs(after)].count("success") == 1
    # each troubled audit is looked at once
    assert await complete_orphan_runs(harness.db, harness.github, harness.settings) == 0
