"""Signed deliveries in through the aiohttp app, check runs out on the fake GitHub."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from datetime import timedelta

from pgqueuer.errors import RetryRequested

from checks.cache import BoundedCache
from checks.config import CHECK_CODES
from forgeguard_app.checkruns.jobs import complete_stuck_audits
from forgeguard_app.jobs import Worker
from forgeguard_app.server import run_workers
from tests.checkruns.conftest import ZERO, Harness, pull_request_payload, push_payload
from tests.checkruns.repos import difflog, governed_files, module
from tests.fixtures.github import FakeRepo
from tests.fixtures.webhooks import corpus_payload, point_at


def governed_repo(h: Harness, name: str = "demo") -> FakeRepo:
    return h.fake.add_repo("octo", name, files=governed_files())


def push_change(
    repo: FakeRepo, files: Mapping[str, str | None], claimed: list[str], todo_lines: int = 0
) -> str:
    """Commit `files` with a diff log claiming `claimed`; the new head."""
    return repo.commit({**files, "Forge/evidence/updatedifflog.md": difflog(claimed, todo_lines)})


def assert_nothing_in_progress(h: Harness) -> None:
    assert [r["name"] for r in h.runs() if r["status"] != "completed"] == []


async def audit_push(h: Harness, repo: FakeRepo, before: str, after: str) -> None:
    assert await h.deliver("push", push_payload(repo, before, after)) == "queued"
    await h.drain()


async def run_queued(harness: Harness, *kinds: str) -> None:
    """One attempt of the oldest queued job of each kind, in turn (a failure leaves it retrying)."""
    for kind in kinds:
        job_id = await harness.db.pool.fetchval(
            "SELECT id FROM jobs WHERE kind = $1 AND status = 'queued' ORDER BY id LIMIT 1", kind
        )
        with contextlib.suppress(RetryRequested):
            await harness.worker.execute(job_id)


async def test_push_with_an_unclaimed_file_fails_with_annotations(harness: Harness) -> None:
    repo = governed_repo(harness)
    before = repo.sha()
    after = push_change(repo, {"app/x.py": module(1), "app/y.py": module(2)}, ["app/x.py"], todo_lines=2)
    await audit_push(harness, repo, before, after)
    run = harness.run(after)
    assert (run["status"], run["conclusion"]) == ("completed", "failure")
    assert run["output"]["title"].startswith("2 of 12 checks failed: A1, A5")
    annotations = harness.fake.annotations[run["id"]]
    assert [(a["path"], a["annotation_level"]) for a in annotations] == [
        ("Forge/evidence/updatedifflog.md", "failure")
    ] * 2
    assert "app/y.py" in run["output"]["text"]


async def test_push_where_every_check_passes_succeeds(harness: Harness) -> None:
    repo = governed_repo(harness)
    before = repo.sha()
    after = push_change(repo, {"app/x.py": module(1)}, ["app/x.py"])
    await audit_push(harness, repo, before, after)
    run = harness.run(after)
    assert (run["conclusion"], run["output"]["title"]) == ("success", "All checks passed")
    assert run["details_url"].startswith("https://forgeguard.test/audits/")


async def test_audits_keep_per_file_analyses_in_their_own_workers_cache(harness: Harness) -> None:
    repo = governed_repo(harness)
    before = repo.sha()
    after = push_change(repo, {"app/x.py": module(1)}, ["app/x.py"])
    await audit_push(harness, repo, before, after)
    cache = harness.worker.state.analysis_cache
    assert isinstance(cache, BoundedCache) and len(cache) > 0
    fresh = Worker(harness.db, harness.settings).state.analysis_cache
    assert isinstance(fresh, BoundedCache) and len(fresh) == 0


async def test_ungoverned_repository_summary_says_how_to_opt_in(harness: Harness) -> None:
    repo = harness.fake.add_repo("octo", "plain", files={"README.md": "# Plain\n"})
    before = repo.sha()
    after = repo.commit({"tool.py": module(1)})
    await audit_push(harness, repo, before, after)
    run = harness.run(after)
    assert run["conclusion"] == "success"
    assert "to opt in" in run["output"]["summary"]


async def test_120_findings_with_lines_go_out_in_three_annotation_batches(harness: Harness) -> None:
    repo = governed_repo(harness)
    before = repo.sha()
    after = push_change(repo, {"app/x.py": module(1)}, ["app/x.py"], todo_lines=120)
    await audit_push(harness, repo, before, after)
    run = harness.run(after)
    assert len(harness.fake.annotations[run["id"]]) == 120
    assert harness.fake.calls("checks/update") == 3
    assert run["conclusion"] == "failure"


async def test_huge_details_are_cut_to_65535_bytes_with_a_note(harness: Harness) -> None:
    repo = governed_repo(harness)
    before = repo.sha()
    after = push_change(repo, {"app/x.py": module(1)}, ["app/x.py"], todo_lines=1_500)
    await audit_push(harness, repo, before, after)
    text = harness.run(after)["output"]["text"]
    assert 60_000 < len(text.encode("utf-8")) <= 65_535
    assert "Cut to 65,535 bytes" in text


async def test_per_check_mode_reports_one_run_per_check(harness: Harness) -> None:
    repo = harness.fake.add_repo(
        "octo", "demo", files={**governed_files(), ".github/forgeguard.yml": "report: per-check\n"}
    )
    before = repo.sha()
    after = push_change(repo, {"app/x.py": module(1), "app/y.py": module(2)}, ["app/x.py"])
    await audit_push(harness, repo, before, after)
    names = sorted(r["name"] for r in harness.runs(after))
    assert names == sorted(f"ForgeGuard {c}" for c in CHECK_CODES)
    assert harness.run(after, "ForgeGuard A1")["conclusion"] == "failure"
    assert harness.run(after, "ForgeGuard A2")["conclusion"] == "success"
    assert_nothing_in_progress(harness)


async def test_configuration_is_read_from_the_default_branch_not_the_pushed_one(harness: Harness) -> None:
    repo = governed_repo(harness)
    head = repo.commit(
        {".github/forgeguard.yml": "checks:\n  A1: {severity: off}\n", "app/y.py": module(2)},
        branch="feature",
    )
    assert await harness.deliver("push", push_payload(repo, ZERO, head, "refs/heads/feature")) == "queued"
    await harness.drain()
    run = harness.run(head)
    assert run["conclusion"] == "failure"
    assert "A1" in run["output"]["title"]


async def test_configuration_mistakes_are_shown_in_the_check_run(harness: Harness) -> None:
    repo = harness.fake.add_repo(
        "octo", "demo", files={**governed_files(), ".github/forgeguard.yml": "report: loud\n"}
    )
    before = repo.sha()
    after = push_change(repo, {"app/x.py": module(1)}, ["app/x.py"])
    await audit_push(harness, repo, before, after)
    assert "loud" in harness.run(after)["output"]["summary"]


async def test_fork_pull_request_is_audited_and_remembered(harness: Harness) -> None:
    repo = governed_repo(harness)
    base = repo.sha()
    head = repo.commit({"app/y.py": module(2)}, branch="fork-work")
    payload = pull_request_payload(repo, 7, base, head, head_repo="someone/demo")
    assert await harness.deliver("pull_request", payload) == "queued"
    await harness.drain()
    assert harness.run(head)["conclusion"] == "failure"
    row = await harness.db.pool.fetchrow("SELECT pull_number, base_sha FROM audit_runs")
    assert (row["pull_number"], row["base_sha"]) == (7, base)

    suite = point_at(corpus_payload("check_suite/rerequested.payload.json"), repo)
    suite["check_suite"].update(head_sha=head, after=head, pull_requests=[], head_branch="fork-work")
    assert await harness.deliver("check_suite", suite) == "queued"
    await harness.drain()
    rows = await harness.db.pool.fetch("SELECT pull_number, base FROM audit_runs ORDER BY id")
    assert [(r["pull_number"], r["base"]) for r in rows] == [(7, base), (7, base)]


async def test_branch_deletion_is_not_audited(harness: Harness) -> None:
    repo = governed_repo(harness)
    await harness.deliver("push", push_payload(repo, repo.sha(), ZERO, "refs/heads/gone"))
    await harness.drain()
    assert harness.runs() == []
    assert await harness.db.pool.fetchval("SELECT count(*) FROM audit_runs") == 0


async def test_tag_push_is_not_audited(harness: Harness) -> None:
    repo = governed_repo(harness)
    await harness.deliver("push", push_payload(repo, ZERO, repo.sha(), "refs/tags/v1.0"))
    await harness.drain()
    assert harness.runs() == []


async def test_check_suite_requested_after_the_push_does_not_audit_twice(harness: Harness) -> None:
    repo = governed_repo(harness)
    before = repo.sha()
    after = push_change(repo, {"app/x.py": module(1)}, ["app/x.py"])
    await audit_push(harness, repo, before, after)
    suite = point_at(corpus_payload("check_suite/requested.payload.json"), repo)
    suite["check_suite"].update(head_sha=after, before=before, after=after, head_branch=repo.default_branch)
    await harness.deliver("check_suite", suite)
    await harness.drain()
    assert len(harness.runs(after)) == 1


async def test_check_run_rerequested_audits_again(harness: Harness) -> None:
    repo = governed_repo(harness)
    before = repo.sha()
    after = push_change(repo, {"app/x.py": module(1)}, ["app/x.py"])
    await audit_push(harness, repo, before, after)
    first = harness.run(after)
    rerun = point_at(corpus_payload("check_run/rerequested.payload.json"), repo)
    rerun["check_run"].update(id=first["id"], name="ForgeGuard", head_sha=after, pull_requests=[])
    assert await harness.deliver("check_run", rerun) == "queued"
    await harness.drain()
    runs = harness.runs(after)
    assert len(runs) == 2
    assert all(r["conclusion"] == "success" for r in runs)
    bases = await harness.db.pool.fetch("SELECT base FROM audit_runs ORDER BY id")
    assert [r["base"] for r in bases] == [before, before]


async def test_the_rerun_button_audits_again(harness: Harness) -> None:
    repo = governed_repo(harness)
    before = repo.sha()
    after = push_change(repo, {"app/x.py": module(1)}, ["app/x.py"])
    await audit_push(harness, repo, before, after)
    first = harness.run(after)
    assert first["actions"][0]["identifier"] == "rerun"
    action = point_at(corpus_payload("check_run/requested_action.payload.json"), repo)
    action["check_run"].update(id=first["id"], name="ForgeGuard", head_sha=after, pull_requests=[])
    action["requested_action"] = {"identifier": "rerun"}
    assert await harness.deliver("check_run", action) == "queued"
    await harness.drain()
    assert [r["conclusion"] for r in harness.runs(after)] == ["success", "success"]


async def test_github_502_then_ok_still_completes_the_run(harness: Harness) -> None:
    repo = governed_repo(harness)
    before = repo.sha()
    after = push_change(repo, {"app/x.py": module(1)}, ["app/x.py"])
    harness.fake.fault("GET", r"/compare/", 502)
    await audit_push(harness, repo, before, after)
    assert harness.run(after)["conclusion"] == "success"


async def test_secondary_rate_limit_is_waited_out_as_retry_after_says(harness: Harness) -> None:
    repo = governed_repo(harness)
    before = repo.sha()
    after = push_change(repo, {"app/x.py": module(1)}, ["app/x.py"])
    harness.fake.fault("POST", r"/check-runs$", 403, {"retry-after": "3"})
    await audit_push(harness, repo, before, after)
    assert 3.0 in harness.sleeps
    assert harness.run(after)["conclusion"] == "success"


async def test_expired_token_is_replaced_and_the_audit_completes(harness: Harness) -> None:
    repo = governed_repo(harness)
    before = repo.sha()
    after = push_change(repo, {"app/x.py": module(1)}, ["app/x.py"])
    await harness.github.installation_token(repo.installation_id)
    harness.fake.expire_tokens()
    await audit_push(harness, repo, before, after)
    assert harness.run(after)["conclusion"] == "success"
    assert len(harness.fake.tokens_minted) == 2


async def test_an_audit_that_keeps_failing_completes_its_run_neutral_saying_how_to_rerun(
    harness: Harness,
) -> None:
    repo = governed_repo(harness)
    before = repo.sha()
    after = push_change(repo, {"app/x.py": module(1)}, ["app/x.py"])
    harness.fake.fault("GET", r"/compare/", 500, times=1_000)
    await audit_push(harness, repo, before, after)
    run = harness.run(after)
    assert (run["status"], run["conclusion"]) == ("completed", "neutral")
    assert "GitHub kept answering 500" in run["output"]["summary"]
    assert "Re-run" in run["output"]["summary"]
    row = await harness.db.pool.fetchrow("SELECT status, conclusion, attempts FROM audit_runs")
    assert (row["status"], row["conclusion"], row["attempts"]) == ("completed", "neutral", 4)


async def test_a_retried_audit_reuses_the_run_it_created(harness: Harness) -> None:
    repo = governed_repo(harness)
    before = repo.sha()
    after = push_change(repo, {"app/x.py": module(1)}, ["app/x.py"])
    harness.fake.fault("GET", r"/compare/", 500, times=3)  # the client's three tries: one failed attempt
    await audit_push(harness, repo, before, after)
    assert harness.fake.calls("checks/create") == 1
    assert harness.run(after)["conclusion"] == "success"


async def test_watchdog_completes_a_run_whose_job_vanished(harness: Harness) -> None:
    repo = governed_repo(harness)
    before = repo.sha()
    after = push_change(repo, {"app/x.py": module(1)}, ["app/x.py"])
    harness.fake.fault("GET", r"/compare/", 500, times=3)
    await harness.deliver("push", push_payload(repo, before, after))
    await run_queued(harness, "delivery", "audit")  # the audit job fails once and waits
    assert harness.run(after)["status"] == "in_progress"
    await harness.db.pool.execute("UPDATE audit_runs SET started_at = now() - interval '1 hour'")
    done = await complete_stuck_audits(harness.db, harness.github, harness.settings, timedelta(minutes=15))
    assert done == 1
    run = harness.run(after)
    assert (run["status"], run["conclusion"]) == ("completed", "neutral")
    assert "did not finish within 15 minutes" in run["output"]["summary"]


async def test_a_running_worker_process_completes_stuck_runs_at_start(harness: Harness) -> None:
    repo = governed_repo(harness)
    before = repo.sha()
    after = push_change(repo, {"app/x.py": module(1)}, ["app/x.py"])
    harness.fake.fault("GET", r"/compare/", 500, times=3)
    await harness.deliver("push", push_payload(repo, before, after))
    await run_queued(harness, "delivery", "audit")
    await harness.db.pool.execute("UPDATE audit_runs SET started_at = now() - interval '1 hour'")
    stop = asyncio.Event()
    worker = Worker(harness.db, harness.settings, concurrency=1, github=harness.github)
    running = asyncio.create_task(run_workers(worker, stop))
    for _ in range(200):
        if harness.run(after)["status"] == "completed":
            break
        await asyncio.sleep(0.05)
    stop.set()
    await running
    assert harness.run(after)["conclusion"] == "neutral"


async def test_a_five_file_push_costs_at_most_eight_api_calls(harness: Harness) -> None:
    files = {**governed_files(), **{f"pkg/m{i}.py": module(i) for i in range(300)}}
    repo = harness.fake.add_repo("octo", "big", files=files)
    before = repo.sha()
    changed = {f"pkg/m{i}.py": module(i + 1000) for i in range(4)}
    after = push_change(repo, changed, sorted(changed))
    await audit_push(harness, repo, before, after)
    assert harness.run(after)["conclusion"] == "success"
    calls = await harness.db.pool.fetchval("SELECT api_calls FROM audit_runs")
    assert calls <= 8
    data_calls = [r for r in harness.fake.data_calls() if not r.path.startswith("/app")]
    assert len(data_calls) == calls


async def test_the_webhook_handler_only_queues_the_audit(harness: Harness) -> None:
    repo = governed_repo(harness)
    before = repo.sha()
    after = push_change(repo, {"app/x.py": module(1)}, ["app/x.py"])
    await harness.deliver("push", push_payload(repo, before, after))
    delivery_job = await harness.db.pool.fetchval("SELECT id FROM jobs WHERE kind = 'delivery'")
    await harness.worker.execute(delivery_job)
    assert harness.fake.requests == []
    assert await harness.db.pool.fetchval("SELECT count(*) FROM jobs WHERE kind = 'audit'") == 1


async def test_429_with_retry_after_is_waited_out(harness: Harness) -> None:
    repo = governed_repo(harness)
    before = repo.sha()
    after = push_change(repo, {"app/x.py": module(1)}, ["app/x.py"])
    harness.fake.fault("POST", r"/graphql$", 429, {"retry-after": "2"})
    await audit_push(harness, repo, before, after)
    assert 2.0 in harness.sleeps
    assert harness.run(after)["conclusion"] == "success"


async def test_branch_creating_push_is_compared_with_the_default_branch(harness: Harness) -> None:
    repo = governed_repo(harness)
    main = repo.sha()
    head = repo.commit(
        {"app/x.py": module(1), "Forge/evidence/updatedifflog.md": difflog(["app/x.py"])}, branch="feature"
    )
    await harness.deliver("push", push_payload(repo, ZERO, head, "refs/heads/feature"))
    await harness.drain()
    assert harness.run(head)["conclusion"] == "success"
    row = await harness.db.pool.fetchrow("SELECT base, base_sha, files FROM audit_runs")
    assert (row["base"], row["base_sha"], row["files"]) == ("main", main, 2)


async def test_first_push_of_a_repository_audits_its_whole_history(harness: Harness) -> None:
    repo = harness.fake.add_repo("octo", "fresh", files={"README.md": "# Fresh\n", "tool.py": module(1)})
    await harness.deliver("push", push_payload(repo, ZERO, repo.sha()))
    await harness.drain()
    assert harness.run(repo.sha())["conclusion"] == "success"
    assert await harness.db.pool.fetchval("SELECT files FROM audit_runs") == 2


async def test_a_push_of_5000_files_completes_with_its_details_cut(harness: Harness) -> None:
    repo = governed_repo(harness)
    before = repo.sha()
    after = push_change(repo, {f"bulk/f{i:04}.txt": f"line {i}\n" for i in range(5_000)}, [])
    await audit_push(harness, repo, before, after)
    run = harness.run(after)
    assert (run["status"], run["conclusion"]) == ("completed", "failure")
    assert "A1" in run["output"]["title"]
    assert len(run["output"]["summary"].encode("utf-8")) <= 65_535
    assert len(run["output"]["text"].encode("utf-8")) <= 65_535
    assert "Cut to 65,535 bytes" in run["output"]["text"]


async def test_push_and_pull_request_of_one_head_give_one_run(harness: Harness) -> None:
    repo = governed_repo(harness)
    base = repo.sha()
    head = repo.commit({"app/y.py": module(2)}, branch="feature")
    await harness.deliver("push", push_payload(repo, base, head, "refs/heads/feature"))
    await harness.deliver("pull_request", pull_request_payload(repo, 3, base, head, action="synchronize"))
    await harness.drain()
    run = harness.run(head)
    assert run["conclusion"] == "failure"
    rows = await harness.db.pool.fetch("SELECT reason, conclusion FROM audit_runs ORDER BY id")
    assert [(r["reason"], r["conclusion"]) for r in rows] == [
        ("push", "skipped"),
        ("pull_request", "failure"),
    ]


async def test_pull_request_audit_takes_over_the_run_of_a_push_audit_in_progress(harness: Harness) -> None:
    repo = governed_repo(harness)
    base = repo.sha()
    head = repo.commit({"app/y.py": module(2)}, branch="feature")
    harness.fake.fault("GET", r"/compare/", 500, times=3)  # the push audit's first attempt fails
    await harness.deliver("push", push_payload(repo, base, head, "refs/heads/feature"))
    await run_queued(harness, "delivery", "audit")
    assert harness.run(head)["status"] == "in_progress"
    await harness.deliver("pull_request", pull_request_payload(repo, 3, base, head, action="synchronize"))
    await run_queued(harness, "delivery", "audit")  # the pull request audit, while the push audit waits
    await harness.drain()
    run = harness.run(head)
    pr_audit = await harness.db.pool.fetchval("SELECT id FROM audit_runs WHERE pull_number = 3")
    assert (run["status"], run["conclusion"]) == ("completed", "failure")
    assert run["details_url"].endswith(f"/audits/{pr_audit}")
    assert harness.fake.calls("checks/create") == 1


async def test_a_push_that_changes_no_file_is_neutral(harness: Harness) -> None:
    repo = governed_repo(harness)
    before = repo.sha()
    after = repo.commit({}, message="empty")
    await audit_push(harness, repo, before, after)
    run = harness.run(after)
    assert (run["conclusion"], run["output"]["title"]) == ("neutral", "No changed files to audit")


async def test_an_audit_whose_worker_died_completes_once_on_the_same_run(harness: Harness) -> None:
    repo = governed_repo(harness)
    before = repo.sha()
    after = push_change(repo, {"app/x.py": module(1)}, ["app/x.py"])
    await harness.deliver("push", push_payload(repo, before, after))
    await run_queued(harness, "delivery")
    job_id = await harness.db.pool.fetchval("SELECT id FROM jobs WHERE kind = 'audit'")
    attempt = asyncio.create_task(harness.worker.execute(job_id))
    while harness.fake.calls("checks/create") == 0:
        await asyncio.sleep(0.001)
    attempt.cancel()  # the worker dies with the run in progress
    with contextlib.suppress(asyncio.CancelledError):
        await attempt
    assert harness.run(after)["status"] == "in_progress"
    await harness.worker.execute(job_id)  # another worker picks the job up again
    run = harness.run(after)
    assert (run["status"], run["conclusion"]) == ("completed", "success")
    assert (harness.fake.calls("checks/create"), harness.fake.calls("checks/update")) == (1, 1)
