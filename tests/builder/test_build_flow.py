"""A whole build as a black box: `/forge build` to a ready pull request, one audited commit per phase."""

from __future__ import annotations

from forgeguard_app.builder.site import BuilderSource
from tests.builder.build_harness import BuildBench, whole_build


async def test_three_phases_are_built_to_a_pull_request_ready_for_review(build_bench: BuildBench) -> None:
    bench = build_bench
    bench.script(whole_build())
    command = await bench.comment(bench.contracts_pull, "/forge build")

    assert bench.reactions(command)[-1] == "+1"
    pull = bench.fake.issue(bench.repo, bench.build_pull())
    assert pull.pull is not None and pull.pull["draft"] is False
    assert bench.branch_log() == [
        "forge: Phase 1 -- Items",
        "forge: authorize Phase 1 -- Items",
        "forge: Phase 2 -- Loans",
        "forge: authorize Phase 2 -- Loans",
        "forge: Phase 3 -- Report",
        "forge: authorize Phase 3 -- Report",
    ]
    build = await bench.build()
    assert build.status == "succeeded"
    assert "every phase passed" in bench.progress()


async def test_the_status_site_gets_the_builds_phases_attempts_and_costs(build_bench: BuildBench) -> None:
    bench = build_bench
    bench.script(whole_build())
    await bench.comment(bench.contracts_pull, "/forge build")
    build = await bench.build()

    view = await BuilderSource().build_view(bench.db.pool, build.id)

    assert view is not None and view.status == "passed" and view.pull_number == bench.build_pull()
    assert [(p.number, p.status, len(p.attempts)) for p in view.phases] == [
        (1, "passed", 1),
        (2, "passed", 1),
        (3, "passed", 1),
    ]
    assert view.total_cost_usd > 0 and any(t.tool == "write_file" for t in view.tool_log)
    assert await BuilderSource().build_view(bench.db.pool, 999) is None
