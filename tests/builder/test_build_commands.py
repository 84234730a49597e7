"""Commands on a build and the limits around it: say, cancel, the budget, an overloaded model, refusals."""

from __future__ import annotations

import errno

import pytest

from forgeguard_app.builder.workspace import DiskFull, Workspace
from forgeguard_app.llm.client import LLM
from tests.builder.build_harness import BuildBench, phase_turns, whole_build
from tests.fixtures import anthropic as fa


def build_pulls(bench: BuildBench) -> list[int]:
    return [
        p.number for p in bench.fake.pulls(bench.repo) if p.pull and p.pull["head"].startswith("forge/build-")
    ]


async def start_and_step(bench: BuildBench, steps: int) -> None:
    """`/forge build`, then its first `steps` jobs only (the build is mid-phase afterwards)."""
    await bench.comment(bench.contracts_pull, "/forge build", drain=False)
    for _ in range(steps):
        assert await bench.step()


async def test_say_reaches_the_model_before_its_next_turn_and_is_acknowledged(
    build_bench: BuildBench,
) -> None:
    bench = build_bench
    scripted = bench.script(whole_build())
    await start_and_step(bench, 4)
    command = await bench.comment(bench.build_pull(), "/forge say Keep every function under ten lines.")

    assert bench.reactions(command)[-1] == "+1"
    message = "Keep every function under ten lines."
    told = [r for r in scripted.builder_requests if message in "\n".join(r.user_texts())]
    assert told, "the interjection never reached the model"
    text = bench.progress()
    assert "Keep every function under ten lines." in text and "read by the builder in Phase 1" in text
    assert (await bench.build()).status == "succeeded"


async def test_cancel_stops_a_running_build_at_the_next_step(build_bench: BuildBench) -> None:
    bench = build_bench
    scripted = bench.script(whole_build())
    await start_and_step(bench, 4)
    command = await bench.comment(bench.build_pull(), "/forge cancel")

    assert bench.reactions(command)[-1] == "+1"
    build = await bench.build()
    assert build.status == "cancelled"
    assert len(scripted.turns) > 0 and bench.branch_log() == []
    pull = bench.fake.issue(bench.repo, bench.build_pull())
    assert pull.pull is not None and pull.pull["draft"] is True
    assert "cancelled" in bench.progress()


async def test_the_budget_pauses_the_build_and_retry_raises_it(build_bench: BuildBench) -> None:
    bench = build_bench
    bench.repo.commit({".github/forgeguard.yml": "builder:\n  max_cost_usd: 0.01\n"}, message="budget")
    scripted = bench.script(whole_build())
    await bench.comment(bench.contracts_pull, "/forge build")

    build = await bench.build()
    assert build.status == "paused" and build.state.pause is not None and build.state.pause.kind == "budget"
    text = bench.progress()
    assert "budget of" in text and "is spent" in text and "go on with the budget raised by" in text
    asked = len(scripted.builder_requests)

    await bench.comment(bench.build_pull(), "/forge retry")
    assert len(scripted.builder_requests) > asked
    assert (await bench.build()).state.budget_raises == 1


async def test_a_phase_past_its_time_limit_pauses_the_build_saying_so(build_bench: BuildBench) -> None:
    bench = build_bench
    bench.repo.commit({".github/forgeguard.yml": "builder:\n  phase_timeout: 0.001\n"}, message="tight")
    bench.script(whole_build())
    await bench.comment(bench.contracts_pull, "/forge build")

    build = await bench.build()
    assert build.status == "paused"
    assert build.state.pause is not None and build.state.pause.kind == "phase_timeout"
    assert (
        "Phase 1 -- " in build.state.pause.reason and "ran past its 0.001 seconds" in build.state.pause.reason
    )
    assert "ran past its 0.001 seconds" in bench.progress()


async def test_a_full_disk_pauses_the_build_with_the_error(
    build_bench: BuildBench, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_space(self: Workspace, path: str, data: bytes) -> int:
        raise DiskFull(errno.ENOSPC, "No space left on device", path)

    monkeypatch.setattr(Workspace, "write", no_space)
    bench = build_bench
    bench.script(whole_build())
    await bench.comment(bench.contracts_pull, "/forge build")

    build = await bench.build()
    assert build.status == "paused"
    assert build.state.pause is not None and build.state.pause.kind == "error"
    assert "The working tree is full" in build.state.pause.reason
    assert "No space left on device" in build.state.pause.reason
    assert "The working tree is full" in bench.progress()


async def test_an_overloaded_model_pauses_the_build_which_goes_on_after_retry(
    build_bench: BuildBench,
) -> None:
    bench = build_bench
    patient = LLM(bench.settings, bench.db, max_retries=3)
    bench.worker.llm = patient
    bench.script([*fa.overloaded_for(6), *whole_build()])
    await bench.comment(bench.contracts_pull, "/forge build")

    build = await bench.build()
    assert build.status == "paused" and build.state.pause is not None and build.state.pause.kind == "model"
    assert "The model is unavailable" in bench.progress()

    await bench.comment(bench.build_pull(), "/forge retry")
    await patient.close()
    assert (await bench.build()).status == "succeeded"


async def test_build_is_refused_while_the_contracts_are_not_approved(build_bench: BuildBench) -> None:
    bench = build_bench
    await bench.db.pool.execute("UPDATE contracts_pulls SET state = 'open', decided_by = NULL")
    bench.script(whole_build())
    command = await bench.comment(bench.contracts_pull, "/forge build")

    assert bench.reactions(command)[-1] == "confused"
    assert "not approved" in bench.app_comments(bench.contracts_pull)[-1]
    assert [
        p for p in bench.fake.pulls(bench.repo) if p.pull and p.pull["head"].startswith("forge/build-")
    ] == []


async def test_a_reader_cannot_start_a_build(build_bench: BuildBench) -> None:
    bench = build_bench
    bench.script(whole_build())
    command = await bench.comment(bench.contracts_pull, "/forge build", user="visitor")

    assert bench.reactions(command)[-1] == "confused"
    assert [
        p for p in bench.fake.pulls(bench.repo) if p.pull and p.pull["head"].startswith("forge/build-")
    ] == []
    assert bench.fake.calls("git/create-ref") == 0


async def test_a_second_build_of_the_same_issue_is_refused_while_one_is_active(
    build_bench: BuildBench,
) -> None:
    bench = build_bench
    bench.script(phase_turns(1)[:1])
    await start_and_step(bench, 2)
    command = await bench.comment(bench.contracts_pull, "/forge build", drain=False)
    for _ in range(10):
        if bench.reactions(command)[-1:] in (["+1"], ["confused"]):
            break
        assert await bench.step()

    assert bench.reactions(command)[-1] == "confused"
    assert "already running" in bench.app_comments(bench.contracts_pull)[-1]
