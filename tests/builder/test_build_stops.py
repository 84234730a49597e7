"""A build stops when GitHub says its issue was closed or locked, or its pull request closed.

Paused builds end at once (`aborted`), with the watchdog's reason; a running
build stops at its next step (`cancelled`), as after `/forge cancel`; a locked
issue does not stop a running build. The events are the corpus' `issues` and
`pull_request` payloads, delivered signed to the app.
"""

from __future__ import annotations

from forgeguard_app.builder.jobs import sweep
from tests.builder.branch_events import issue_event, pull_closed
from tests.builder.build_harness import BuildBench, whole_build
from tests.builder.test_build_commands import start_and_step
from tests.builder.test_build_failures import pause_after_three_failures
from tests.fixtures.github_builder import close_issue, lock_issue


async def handle_deliveries(bench: BuildBench) -> None:
    """Run jobs (the build's steps among them) until every delivery so far is handled."""
    pending = "SELECT count(*) FROM deliveries WHERE status = 'queued'"
    for _ in range(50):
        if await bench.db.pool.fetchval(pending) == 0:
            return
        assert await bench.step()
    raise AssertionError("the deliveries were not handled")


def assert_draft_kept(bench: BuildBench) -> None:
    pull = bench.fake.issue(bench.repo, bench.build_pull())
    assert pull.pull is not None and pull.pull["draft"] is True


async def test_closing_the_issue_of_a_paused_build_aborts_it_at_once(build_bench: BuildBench) -> None:
    bench = build_bench
    await pause_after_three_failures(bench, [])
    close_issue(bench.fake, bench.repo, bench.issue)

    await bench.deliver("issues", issue_event(bench, "closed"))
    await bench.drain()

    build = await bench.build()
    assert build.status == "aborted"
    assert build.end_reason == "the issue was closed while the build was paused"
    assert "the issue was closed while the build was paused" in bench.progress()
    assert_draft_kept(bench)


async def test_locking_the_issue_of_a_paused_build_aborts_it_at_once(build_bench: BuildBench) -> None:
    bench = build_bench
    await pause_after_three_failures(bench, [])
    lock_issue(bench.fake, bench.repo, bench.issue)

    await bench.deliver("issues", issue_event(bench, "locked"))
    await bench.drain()

    build = await bench.build()
    assert build.status == "aborted"
    assert "the issue was locked while the build was paused" in bench.progress()


async def test_closing_the_issue_of_a_running_build_cancels_it_at_its_next_step(
    build_bench: BuildBench,
) -> None:
    bench = build_bench
    scripted = bench.script(whole_build())
    await start_and_step(bench, 4)
    close_issue(bench.fake, bench.repo, bench.issue)

    await bench.deliver("issues", issue_event(bench, "closed"))
    await bench.drain()

    build = await bench.build()
    assert build.status == "cancelled"
    assert build.end_reason == "the issue was closed while the build was running"
    assert "the issue was closed while the build was running" in bench.progress()
    assert len(scripted.turns) > 0 and bench.branch_log() == []
    assert_draft_kept(bench)


async def test_a_running_build_goes_on_when_its_issue_is_locked_and_stops_when_it_is_closed(
    build_bench: BuildBench,
) -> None:
    bench = build_bench
    bench.script(whole_build())
    await start_and_step(bench, 4)
    lock_issue(bench.fake, bench.repo, bench.issue)
    await bench.deliver("issues", issue_event(bench, "locked"))
    await handle_deliveries(bench)
    while len(bench.branch_log()) < 2:  # phase 1 is committed and authorized after the lock
        assert await bench.step()
    assert (await bench.build()).status == "running"

    close_issue(bench.fake, bench.repo, bench.issue)
    await bench.deliver("issues", issue_event(bench, "closed"))
    await bench.drain()

    build = await bench.build()
    assert (build.status, build.end_reason) == (
        "cancelled",
        "the issue was closed while the build was running",
    )
    assert len(bench.branch_log()) == 2


async def test_a_redelivered_close_changes_nothing_more(build_bench: BuildBench) -> None:
    bench = build_bench
    await pause_after_three_failures(bench, [])
    close_issue(bench.fake, bench.repo, bench.issue)
    closed = issue_event(bench, "closed")
    await bench.deliver("issues", closed)
    await bench.drain()
    ended = await bench.build()
    progress = bench.progress()

    await bench.deliver("issues", closed)
    await bench.drain()

    again = await bench.build()
    assert (again.status, again.seq, again.end_reason) == ("aborted", ended.seq, ended.end_reason)
    assert bench.progress() == progress


async def test_a_close_handled_after_the_issue_was_reopened_stops_nothing_until_the_next_close(
    build_bench: BuildBench,
) -> None:
    bench = build_bench
    await pause_after_three_failures(bench, [])
    late = issue_event(bench, "closed")  # GitHub sent it; the issue was reopened before it was handled
    await bench.deliver("issues", late)
    await bench.drain()
    assert (await bench.build()).status == "paused"

    close_issue(bench.fake, bench.repo, bench.issue)
    await bench.deliver("issues", issue_event(bench, "closed"))
    await bench.drain()

    assert (await bench.build()).status == "aborted"


async def test_a_retry_and_a_close_at_once_end_the_build_once(build_bench: BuildBench) -> None:
    bench = build_bench
    await pause_after_three_failures(bench, [*whole_build()])
    close_issue(bench.fake, bench.repo, bench.issue)
    retry = await bench.comment(bench.build_pull(), "/forge retry", drain=False)
    await bench.deliver("issues", issue_event(bench, "closed"))

    await bench.drain()

    assert bench.reactions(retry)[-1] == "+1"
    build = await bench.build()
    assert build.status == "cancelled"
    assert build.end_reason == "the issue was closed while the build was running"
    assert bench.branch_log() == []


async def test_closing_the_pull_request_of_a_running_build_cancels_it(build_bench: BuildBench) -> None:
    bench = build_bench
    bench.script(whole_build())
    await start_and_step(bench, 4)
    bench.fake.issue(bench.repo, bench.build_pull()).state = "closed"

    await bench.deliver("pull_request", pull_closed(bench, bench.build_pull()))
    await bench.drain()

    build = await bench.build()
    assert build.status == "cancelled"
    assert "the pull request was closed while the build was running" in bench.progress()
    assert bench.branch_log() == []


async def test_closing_the_pull_request_of_a_paused_build_aborts_it(build_bench: BuildBench) -> None:
    bench = build_bench
    await pause_after_three_failures(bench, [])
    bench.fake.issue(bench.repo, bench.build_pull()).state = "closed"

    await bench.deliver("pull_request", pull_closed(bench, bench.build_pull()))
    await bench.drain()

    build = await bench.build()
    assert build.status == "aborted"
    assert "the pull request was closed while the build was paused" in bench.progress()


async def test_a_stop_asked_while_the_build_was_pausing_ends_it_at_the_next_sweep(
    build_bench: BuildBench,
) -> None:
    bench = build_bench
    await pause_after_three_failures(bench, [])
    # the close came while the last step ran: that step paused the build without seeing it
    await bench.db.pool.execute(
        "UPDATE builds SET cancel_reason = 'the pull request was closed while the build was running'"
    )
    assert bench.worker.github is not None

    assert await sweep(bench.db, bench.worker.github) == 1
    await bench.drain()

    build = await bench.build()
    assert build.status == "cancelled"
    assert "the pull request was closed while the build was running" in bench.progress()
