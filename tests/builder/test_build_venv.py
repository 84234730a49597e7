"""The build's own virtual environment, seen from the pull request: the project's tests run with pytest
and the dependencies the project declares, none of the app's packages; an install that fails pauses the
build with pip's errors, and `retry` installs again."""

from __future__ import annotations

import pathlib

import pytest

from tests.builder.build_harness import MODULES, TESTS, BuildBench, phase_turns
from tests.builder.wheelhouse import tiny_wheel
from tests.fixtures import anthropic as fa
from tests.fixtures.anthropic import RecordedRequest

ENVIRONMENT_TEST = """import importlib.util
import sys

import shelf_helper


def test_a_declared_dependency_is_installed():
    assert shelf_helper.LABEL == "declared"


def test_the_apps_own_packages_are_not_importable():
    assert [n for n in ("aiohttp", "asyncpg", "forgeguard_app") if importlib.util.find_spec(n)] == []


def test_every_package_folder_is_the_build_venvs():
    folders = [p for p in sys.path if p.endswith("-packages")]
    assert folders and all(p.startswith(sys.prefix) for p in folders), folders
"""

DECLARED = {"requirements.txt": "shelf-helper\n", "tests/test_environment.py": ENVIRONMENT_TEST}


def add_helper_wheel(folder: pathlib.Path) -> None:
    """`shelf-helper`, a package only the operator's wheelhouse has (not the app, not the index)."""
    tiny_wheel(folder, "shelf-helper", "1.0", {"shelf_helper/__init__.py": "LABEL = 'declared'\n"})


def phase_1_files() -> dict[str, str]:
    module, code = MODULES[1]
    test, test_code = TESTS[1]
    return {module: code, test: test_code, "shelf/__init__.py": "", **DECLARED}


def writes_phase_1() -> list[fa.Scripted]:
    """Phase 1 planned and written with `requirements.txt` and a test of the environment."""
    writes = [fa.write_file(path, content) for path, content in phase_1_files().items()]
    return [
        fa.turn(fa.plan_phase("write shelf/items.py", "write its tests")),
        fa.turn(*writes, fa.complete_task(1), fa.complete_task(2)),
    ]


def signs_off_phase_1() -> fa.Scripted:
    return fa.turn(fa.sign_off_phase(list(phase_1_files()), summary="Phase 1 done."))


async def test_the_projects_tests_run_with_their_declared_dependency_and_none_of_the_apps_packages(
    build_bench: BuildBench, offline_installs: pathlib.Path
) -> None:
    bench = build_bench
    add_helper_wheel(offline_installs)
    bench.script([*writes_phase_1(), signs_off_phase_1(), *phase_turns(2), *phase_turns(3)])
    await bench.comment(bench.contracts_pull, "/forge build")

    build = await bench.build()
    assert build.state.last_tests == "PASS: 6 passed, 0 failed (pytest -q)"
    assert (build.state.test_runs, build.state.test_runs_passed) == (3, 3)
    assert build.status == "succeeded"


async def test_an_install_that_fails_pauses_the_build_with_pips_errors_and_retry_installs_again(
    build_bench: BuildBench, offline_installs: pathlib.Path
) -> None:
    bench = build_bench

    def runs_the_tests_again(request: RecordedRequest) -> fa.Scripted:
        told = "\n".join(request.user_texts())
        assert "did not run: the build's Python environment" in told
        assert "No matching distribution found for shelf-helper" in told  # pip's own output
        return fa.turn(fa.run_tests())

    bench.script(
        [
            *writes_phase_1(),
            fa.turn(fa.run_tests()),
            runs_the_tests_again,
            signs_off_phase_1(),
            *phase_turns(2),
            *phase_turns(3),
        ]
    )
    await bench.comment(bench.contracts_pull, "/forge build")

    build = await bench.build()
    assert build.status == "paused"
    assert build.state.pause is not None and build.state.pause.kind == "error"
    reason = build.state.pause.reason
    assert reason.startswith("The build's Python environment could not be made: pip install pytest")
    assert "No matching distribution found for shelf-helper" in reason
    progress = bench.progress()
    assert "Python environment could not be made" in progress and "shelf-helper" in progress
    assert "/forge retry" in progress

    add_helper_wheel(offline_installs)  # the package can be found now (the index is back, say)
    await bench.comment(bench.build_pull(), "/forge retry")

    build = await bench.build()
    assert build.state.last_tests == "PASS: 6 passed, 0 failed (pytest -q)"
    assert build.status == "succeeded"


async def test_a_sign_off_whose_install_fails_pauses_before_any_commit_and_retry_signs_off_again(
    build_bench: BuildBench, offline_installs: pathlib.Path
) -> None:
    bench = build_bench

    def signs_off_again(request: RecordedRequest) -> fa.Scripted:
        assert "`sign_off_phase` did not run" in "\n".join(request.user_texts())
        return signs_off_phase_1()

    bench.script([*writes_phase_1(), signs_off_phase_1(), signs_off_again, *phase_turns(2), *phase_turns(3)])
    await bench.comment(bench.contracts_pull, "/forge build")

    build = await bench.build()
    assert build.status == "paused"
    assert build.state.pause is not None and "No matching distribution" in build.state.pause.reason
    assert bench.branch_log() == []
    assert build.state.test_runs == 0

    add_helper_wheel(offline_installs)
    await bench.comment(bench.build_pull(), "/forge retry")

    build = await bench.build()
    assert build.status == "succeeded"
    assert bench.branch_log()[:2] == ["forge: Phase 1 -- Items", "forge: authorize Phase 1 -- Items"]


@pytest.mark.parametrize(
    ("call", "answered"),
    [
        (fa.check_syntax(MODULES[1][0]), "No errors"),
        (fa.run_command("ls shelf"), "items.py"),
    ],
    ids=["check_syntax", "ls"],
)
async def test_a_tool_that_runs_no_python_program_answers_while_the_install_fails(
    build_bench: BuildBench,
    offline_installs: pathlib.Path,
    call: tuple[str, dict[str, object]],
    answered: str,
) -> None:
    bench = build_bench
    answers: list[dict[str, object]] = []

    def then_the_tests(request: RecordedRequest) -> fa.Scripted:
        answers.extend(request.tool_results())
        return fa.turn(fa.run_tests())

    bench.script([*writes_phase_1(), fa.turn(call), then_the_tests])
    await bench.comment(bench.contracts_pull, "/forge build")

    [answer] = answers
    assert not answer.get("is_error") and answered in str(answer["content"])
    build = await bench.build()
    assert build.status == "paused"
    assert build.state.pause is not None
    assert build.state.pause.reason.startswith("The build's Python environment could not be made")
