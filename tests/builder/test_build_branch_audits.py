"""The push and pull request audits of the build branch agree with the builder's own audits.

Each time a phase's authorization moves the branch, the test delivers what
GitHub would send (the `push` of the branch, the `synchronize` of the build
pull request) while the build goes on. The attempt commit, which the builder
already audited, gets no second run; the authorization commit gets its own
`ForgeGuard` run, where A1 (from the diff log's BASE_HEAD) and A6 (from the
ledger) pass: the branch holds only passing attempts and their authorizations.
A skipped phase is the exception the spec makes, authorized by a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.builder.branch_events import branch_push, pull_synchronize
from tests.builder.build_harness import MODULES, TESTS, BuildBench, phase_turns, whole_build
from tests.builder.test_build_failures import failing_phase_1, pause_after_three_failures
from tests.fixtures import anthropic as fa


@dataclass(frozen=True)
class Move:
    """One move of the build branch: its commits, oldest first."""

    before: str
    after: str
    commits: list[str]


async def build_with_branch_events(bench: BuildBench, limit: int = 600) -> list[Move]:
    """Run the queued jobs one at a time; after each move of the build branch, deliver its events."""
    branch = f"forge/build-{bench.issue}"
    head = bench.repo.resolve(f"refs/heads/{branch}")
    moves: list[Move] = []
    for _ in range(limit):
        if not await bench.step():
            return moves
        now = bench.repo.resolve(f"refs/heads/{branch}")
        if head is not None and now is not None and now != head:
            assert await bench.deliver("push", branch_push(bench, branch, head, now)) == "queued"
            synchronize = pull_synchronize(bench, bench.build_pull(), head, now)
            assert await bench.deliver("pull_request", synchronize) == "queued"
            moves.append(Move(head, now, bench.repo.rev_list(f"{head}..{now}")))
        head = now
    raise AssertionError("jobs kept coming")


def forgeguard_runs(bench: BuildBench, sha: str) -> list[dict[str, Any]]:
    return [r for r in bench.fake.check_runs if r["head_sha"] == sha and r["name"] == "ForgeGuard"]


def check_line(run: dict[str, Any], code: str) -> str:
    """The row of check `code` in a run's summary table."""
    summary: str = run["output"]["summary"]
    rows = [line for line in summary.splitlines() if line.startswith(f"| {code} ")]
    assert len(rows) == 1, f"no single row for {code} in:\n{summary}"
    return rows[0]


def outcome(run: dict[str, Any], code: str) -> str:
    """The outcome cell of check `code` in a run's summary table: `✅ pass`, `❌ fail`, …"""
    return check_line(run, code).split(" | ")[3]


def assert_authorization_audited(bench: BuildBench, move: Move) -> None:
    """The attempt keeps its one run; the authorization has its own, passing A1 and A6."""
    assert len(move.commits) == 2, "a phase moves the branch by its attempt and its authorization"
    attempt, authorization = move.commits
    assert len(forgeguard_runs(bench, attempt)) == 1, "the attempt was audited again"
    runs = forgeguard_runs(bench, authorization)
    assert len(runs) == 1, f"expected one ForgeGuard run on the authorization, found {len(runs)}"
    run = runs[0]
    assert (run["status"], run["conclusion"]) == ("completed", "success"), run["output"]["title"]
    assert (outcome(run, "A1"), outcome(run, "A6")) == ("✅ pass", "✅ pass")


async def test_the_authorization_of_a_passing_phase_passes_its_own_audit(build_bench: BuildBench) -> None:
    bench = build_bench
    bench.script(whole_build())
    await bench.comment(bench.contracts_pull, "/forge build", drain=False)

    moves = await build_with_branch_events(bench)

    first = moves[0]
    assert first.before == bench.repo.sha(f"forge/contracts-{bench.issue}")
    attempt, authorization = first.commits
    assert forgeguard_runs(bench, attempt)[0]["conclusion"] == "success"
    assert_authorization_audited(bench, first)
    run = forgeguard_runs(bench, authorization)[0]
    assert attempt in check_line(run, "A6")  # the ledger authorizes this very attempt


async def test_every_phase_of_a_whole_build_is_authorized_by_a_passing_audit(build_bench: BuildBench) -> None:
    bench = build_bench
    bench.script(whole_build())
    await bench.comment(bench.contracts_pull, "/forge build", drain=False)

    moves = await build_with_branch_events(bench)

    assert (await bench.build()).status == "succeeded"
    assert len(moves) == 3
    for move in moves:
        assert_authorization_audited(bench, move)
        # the pull request's audit (from its base, the default branch) judges the phase's scope from the
        # phase's own BASE_HEAD: only the files of this phase's two commits
        run = forgeguard_runs(bench, move.commits[1])[0]
        assert f"`{bench.repo.sha()[:7]}...{move.after[:7]}`" in run["output"]["summary"]
        phase_files = bench.repo.git("diff", "--name-only", move.before, move.after).splitlines()
        assert f"Changed files match the claimed files ({len(phase_files)} files)" in check_line(run, "A1")


async def test_a_phase_passing_at_its_second_attempt_is_authorized_without_the_failed_one(
    build_bench: BuildBench,
) -> None:
    bench = build_bench
    bench.script(
        [
            *failing_phase_1(),
            fa.turn(fa.write_file(MODULES[1][0], MODULES[1][1])),
            fa.turn(fa.sign_off_phase([MODULES[1][0], TESTS[1][0], "shelf/__init__.py"])),
            *phase_turns(2),
            *phase_turns(3),
        ],
        planner=fa.remediation_plan("requests is imported but not declared", "drop the requests import"),
    )
    await bench.comment(bench.contracts_pull, "/forge build", drain=False)

    moves = await build_with_branch_events(bench)

    first = moves[0]
    failed = bench.repo.resolve(f"refs/forge/attempts/{bench.issue}/phase-1/1")
    assert failed is not None and failed not in first.commits
    assert bench.repo.merge_base(failed, first.after) != failed, "the failed attempt is on the branch"
    assert [r["conclusion"] for r in forgeguard_runs(bench, failed)] == ["failure"]
    assert bench.repo.commit_details([first.commits[0]])[first.commits[0]]["message"].endswith("(attempt 2)")
    assert_authorization_audited(bench, first)


async def test_a_skipped_phase_is_authorized_by_a6_and_still_fails_its_scope(build_bench: BuildBench) -> None:
    """`/forge skip` puts the failing attempt on the branch as it stands: the skip commit's audit finds the
    ledger's `AUTHORIZED (skipped by @login)` entry (A6 passes) and the attempt's own failure (A1 fails, as on
    the attempt, whose failing run stays); the next phases, judged from their own BASE_HEAD, pass again."""
    bench = build_bench
    await pause_after_three_failures(bench, [*phase_turns(2), *phase_turns(3)])
    branch = f"forge/build-{bench.issue}"
    before = bench.repo.sha(branch)
    await bench.comment(bench.build_pull(), "/forge skip", drain=False)

    moves = await build_with_branch_events(bench)

    skipped = moves[0]
    assert skipped.before == before
    attempt, authorization = skipped.commits
    assert attempt == bench.repo.resolve(f"refs/forge/attempts/{bench.issue}/phase-1/3")
    assert [r["conclusion"] for r in forgeguard_runs(bench, attempt)] == ["failure"]
    runs = forgeguard_runs(bench, authorization)
    assert len(runs) == 1
    run = runs[0]
    assert outcome(run, "A6") == "✅ pass" and attempt in check_line(run, "A6")
    assert outcome(run, "A1") == "❌ fail" and "tests/test\\_items.py" in check_line(run, "A1")
    assert run["conclusion"] == "failure"
    for move in moves[1:]:
        assert_authorization_audited(bench, move)
