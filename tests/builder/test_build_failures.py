"""A build whose audits fail: the recovery planner, the retry, the pause after three failures, and the
commands that continue it (`retry` with a message, `skip`, `abort`)."""

from __future__ import annotations

from typing import Any

from tests.builder.build_harness import MODULES, TESTS, BuildBench, phase_turns, whole_build
from tests.fixtures import anthropic as fa
from tests.fixtures.anthropic import RecordedRequest

UNDECLARED = "def fetch(url):\n    import requests\n\n    return requests.get(url)\n\n\n" + MODULES[1][1]


def failing_phase_1(*, claimed: list[str] | None = None, code: str = UNDECLARED) -> list[fa.Scripted]:
    """Phase 1 with `shelf/items.py` importing `requests`, which no manifest declares (A9 fails)."""
    module, _ = MODULES[1]
    test, test_code = TESTS[1]
    files = claimed or [module, test, "shelf/__init__.py"]
    return [
        fa.turn(fa.plan_phase("write the items module", "test it")),
        fa.turn(
            fa.write_file(module, code),
            fa.write_file(test, test_code),
            fa.write_file("shelf/__init__.py", ""),
        ),
        fa.turn(fa.sign_off_phase(files)),
    ]


def unclaimed_sign_off() -> fa.Scripted:
    """A sign-off that leaves `tests/test_items.py` out of the claimed files (A1 fails)."""
    return fa.turn(fa.sign_off_phase([MODULES[1][0], "shelf/__init__.py"]))


def seen(text: str) -> Any:
    """A turn that first checks the request carries `text`, then signs phase 1 off properly."""

    def respond(request: RecordedRequest) -> fa.Scripted:
        assert text in "\n".join(request.user_texts()), f"the model was not told {text!r}"
        return fa.turn(fa.sign_off_phase([MODULES[1][0], TESTS[1][0], "shelf/__init__.py"]))

    return respond


async def pause_after_three_failures(bench: BuildBench, after: list[Any]) -> None:
    """Phase 1 fails its audit three times (unclaimed file), then the build pauses; `after` follows."""
    turns = failing_phase_1(claimed=[MODULES[1][0], "shelf/__init__.py"], code=MODULES[1][1])
    bench.script(
        [*turns, unclaimed_sign_off(), unclaimed_sign_off(), *after],
        planner=fa.remediation_plan("tests/test_items.py is not claimed", "claim tests/test_items.py"),
    )
    await bench.comment(bench.contracts_pull, "/forge build")


async def test_an_undeclared_import_fails_the_audit_and_the_planners_plan_repairs_it(
    build_bench: BuildBench,
) -> None:
    bench = build_bench

    def fixed(request: RecordedRequest) -> fa.Scripted:
        told = "\n".join(request.user_texts())
        assert "FAIL: Phase 1 -- Items" in told and "A9" in told
        assert "drop the requests import" in told  # the remediation plan reached the model
        return fa.turn(fa.write_file(MODULES[1][0], MODULES[1][1]))

    scripted = bench.script(
        [
            *failing_phase_1(),
            fixed,
            fa.turn(fa.sign_off_phase([MODULES[1][0], TESTS[1][0], "shelf/__init__.py"])),
            *phase_turns(2),
            *phase_turns(3),
        ],
        planner=fa.remediation_plan("requests is imported but not declared", "drop the requests import"),
    )
    await bench.comment(bench.contracts_pull, "/forge build")

    build = await bench.build()
    assert build.status == "succeeded"
    assert len(scripted.planner_requests) == 1
    assert bench.branch_log()[:2] == [
        "forge: Phase 1 -- Items (attempt 2)",
        "forge: authorize Phase 1 -- Items",
    ]
    failed = bench.repo.resolve("refs/forge/attempts/1/phase-1/1")
    assert failed is not None and bench.repo.read(failed, MODULES[1][0]) == UNDECLARED.encode()
    runs = [r for r in bench.fake.check_runs if r["head_sha"] == failed]
    assert [r["conclusion"] for r in runs] == ["failure"]
    assert "A9" in runs[0]["output"]["title"]
    assert "failed 1 time" in bench.progress()


async def test_three_failed_audits_pause_with_the_findings_and_the_commands(build_bench: BuildBench) -> None:
    bench = build_bench
    await pause_after_three_failures(bench, [])

    build = await bench.build()
    assert build.status == "paused"
    text = bench.progress()
    assert "Paused in Phase 1 -- Items" in text
    assert "**A1**" in text and "tests/test\\_items.py" in text
    assert "`/forge retry [message]`" in text and "`/forge skip`" in text and "`/forge abort`" in text
    assert [bench.repo.resolve(f"refs/forge/attempts/1/phase-1/{k}") is not None for k in (1, 2, 3)] == [
        True,
        True,
        True,
    ]
    assert bench.branch_log() == []


async def test_retry_with_a_message_gives_the_message_to_the_model(build_bench: BuildBench) -> None:
    bench = build_bench
    await pause_after_three_failures(
        bench, [seen("claim the test file too, please"), *phase_turns(2), *phase_turns(3)]
    )
    command = await bench.comment(bench.build_pull(), "/forge retry claim the test file too, please")

    assert bench.reactions(command)[-1] == "+1"
    build = await bench.build()
    assert build.status == "succeeded"
    assert bench.branch_log()[0] == "forge: Phase 1 -- Items (attempt 4)"


async def test_skip_accepts_the_last_attempt_and_the_build_ends_as_a_draft(build_bench: BuildBench) -> None:
    bench = build_bench
    await pause_after_three_failures(bench, [*phase_turns(2), *phase_turns(3)])
    await bench.comment(bench.build_pull(), "/forge skip")

    build = await bench.build()
    assert build.status == "draft"
    log = bench.branch_log()
    assert log[:2] == ["forge: Phase 1 -- Items (attempt 3)", "forge: skip Phase 1 -- Items (by @octocat)"]
    ledger = bench.repo.read("forge/build-1", "Forge/evidence/audit_ledger.md")
    assert ledger is not None
    attempt = bench.repo.resolve("refs/forge/attempts/1/phase-1/3")
    assert f"AUTHORIZED (skipped by @octocat): Phase 1 -- Items\nCommit: {attempt}" in ledger.decode()
    pull = bench.fake.issue(bench.repo, bench.build_pull())
    assert pull.pull is not None and pull.pull["draft"] is True
    assert "skipped: Phase 1 -- Items" in bench.progress()


async def test_abort_ends_a_paused_build_and_keeps_the_draft(build_bench: BuildBench) -> None:
    bench = build_bench
    await pause_after_three_failures(bench, [])
    await bench.comment(bench.build_pull(), "/forge abort")

    build = await bench.build()
    assert build.status == "aborted"
    text = bench.progress()
    assert "Summary: aborted by" in text and "octocat" in text
    pull = bench.fake.issue(bench.repo, bench.build_pull())
    assert pull.pull is not None and pull.pull["draft"] is True
    assert "forge:building" not in pull.labels


async def test_a_new_build_is_refused_while_the_ended_builds_branch_is_there(build_bench: BuildBench) -> None:
    bench = build_bench
    await pause_after_three_failures(bench, [])
    await bench.comment(bench.build_pull(), "/forge abort")
    first_pull = bench.build_pull()
    command = await bench.comment(bench.contracts_pull, "/forge build")

    assert bench.reactions(command)[-1] == "confused"
    reply = bench.app_comments(bench.contracts_pull)[-1]
    assert "`forge/build-1` already exists" in reply
    assert f"ended (aborted) on it (draft #{first_pull})" in reply
    assert "delete `forge/build-1`" in reply
    assert bench.build_pull() == first_pull
    assert (await bench.build()).status == "aborted"


async def test_a_new_build_starts_once_the_ended_builds_branch_is_deleted(build_bench: BuildBench) -> None:
    bench = build_bench
    await pause_after_three_failures(bench, [])
    await bench.comment(bench.build_pull(), "/forge abort")
    first_pull = bench.build_pull()
    # GitHub closes a pull request whose head branch is deleted
    bench.repo.git("update-ref", "-d", "refs/heads/forge/build-1")
    bench.fake.issue(bench.repo, first_pull).state = "closed"
    bench.script(whole_build())
    command = await bench.comment(bench.contracts_pull, "/forge build")

    assert bench.reactions(command)[-1] == "+1"
    build = await bench.build()
    assert build.status == "succeeded"
    assert build.pull_number != first_pull
