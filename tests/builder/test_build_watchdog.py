"""The watchdog gives every build a final state: a paused build stops waiting when its issue is closed or
locked, or when it waited past `builder.pause_timeout`; a build whose steps stopped ends `failed`."""

from __future__ import annotations

from datetime import timedelta

from forgeguard_app.builder.jobs import sweep
from tests.builder.build_harness import BuildBench
from tests.builder.test_build_failures import pause_after_three_failures
from tests.fixtures.github_builder import close_issue, lock_issue


async def test_a_paused_build_whose_issue_is_closed_is_aborted_with_the_reason(
    build_bench: BuildBench,
) -> None:
    bench = build_bench
    await pause_after_three_failures(bench, [])
    close_issue(bench.fake, bench.repo, bench.issue)
    assert bench.worker.github is not None

    assert await sweep(bench.db, bench.worker.github) == 1
    await bench.drain()

    build = await bench.build()
    assert build.status == "aborted"
    assert "the issue was closed while the build was paused" in bench.progress()


async def test_a_paused_build_whose_issue_is_locked_stops_waiting(build_bench: BuildBench) -> None:
    bench = build_bench
    await pause_after_three_failures(bench, [])
    lock_issue(bench.fake, bench.repo, bench.issue)
    assert bench.worker.github is not None

    await sweep(bench.db, bench.worker.github)
    await bench.drain()

    assert (await bench.build()).status == "aborted"


async def test_a_build_paused_past_its_timeout_ends_timed_out(build_bench: BuildBench) -> None:
    bench = build_bench
    await pause_after_three_failures(bench, [])
    await bench.db.pool.execute("UPDATE builds SET paused_at = now() - interval '25 hours'")
    assert bench.worker.github is not None

    await sweep(bench.db, bench.worker.github)
    await bench.drain()

    build = await bench.build()
    assert build.status == "timed_out"
    assert "nobody continued the paused build within 24h" in bench.progress()


async def test_a_running_build_whose_steps_stopped_ends_failed(build_bench: BuildBench) -> None:
    bench = build_bench
    bench.script([])
    await bench.comment(bench.contracts_pull, "/forge build", drain=False)
    assert await bench.step()  # the command; its first step is queued
    await bench.db.pool.execute("UPDATE jobs SET status = 'failed' WHERE kind = 'builder.step'")
    await bench.db.pool.execute("UPDATE builds SET stepped_at = now() - interval '1 hour'")
    assert bench.worker.github is not None

    assert await sweep(bench.db, bench.worker.github, stalled_after=timedelta(minutes=10)) == 1
    await bench.drain()

    build = await bench.build()
    assert build.status == "failed"
    assert "its steps stopped for more than 10 minutes" in bench.progress()
