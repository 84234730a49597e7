"""A whole build as a black box: `/forge build` to a ready pull request, one audited commit per phase."""

from __future__ import annotations

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


async def test_the_build_page_shows_states_counts_and_costs_and_nothing_private(
    build_bench: BuildBench,
) -> None:
    bench = build_bench
    bench.script(whole_build())
    await bench.comment(bench.contracts_pull, "/forge build")
    build = await bench.build()

    response = await bench.client.get(f"/builds/{build.id}")
    page = await response.text()

    assert response.status == 200
    assert "succeeded" in page and "audits" in page and "$" in page
    assert "shelf" not in page and "octo-org" not in page and "Items" not in page
    assert (await bench.client.get("/builds/999")).status == 404
