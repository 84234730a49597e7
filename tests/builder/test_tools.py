"""The builder's file and command tools: results for the model, errors returned, never raised."""

from __future__ import annotations

import os
import pathlib
from collections.abc import Mapping

import pytest

from forgeguard_app.builder.tools import (
    MAX_HITS,
    READ_CAP,
    Toolbox,
    count_tests,
    default_test_command,
    run_project_tests,
)
from forgeguard_app.builder.workspace import DiskFull
from tests.builder.sandbox_support import make_tree, sandbox_venv

__all__ = ["sandbox_venv"]

PROJECT = {
    "src/shelf/__init__.py": "",
    "src/shelf/items.py": "def count(items):\n    return len(items)\n",
    "tests/test_items.py": (
        "from src.shelf.items import count\n\n\n"
        "def test_count():\n    assert count([1, 2]) == 2\n\n\n"
        "def test_wrong():\n    assert count([]) == 1\n"
    ),
    "docs/notes.md": "notes\n",
}


def toolbox(
    tmp_path: pathlib.Path, files: Mapping[str, str | bytes], venv: pathlib.Path | None = None
) -> Toolbox:
    workspace, sandbox = make_tree(tmp_path, files, venv=venv)
    return Toolbox(workspace, sandbox)


# -- read_file


async def test_read_file_returns_the_text(tmp_path: pathlib.Path) -> None:
    result = await toolbox(tmp_path, PROJECT).run("read_file", {"path": "src/shelf/items.py"})
    assert result.text == PROJECT["src/shelf/items.py"]
    assert not result.is_error
    assert result.summary == "src/shelf/items.py: 40 bytes"


async def test_read_file_cuts_a_large_file_at_50_kb_with_a_note(tmp_path: pathlib.Path) -> None:
    result = await toolbox(tmp_path, {"big.txt": "é" * 60_000}).run("read_file", {"path": "big.txt"})
    assert f"the first {READ_CAP} of 120000 bytes are shown" in result.text
    assert len(result.text.encode()) < READ_CAP + 200
    assert "\ufffd" not in result.text


async def test_read_file_of_a_binary_file_says_so(tmp_path: pathlib.Path) -> None:
    result = await toolbox(tmp_path, {"logo.png": b"\x89PNG\0\0\x01"}).run("read_file", {"path": "logo.png"})
    assert result.text == "`logo.png` is a binary file of 7 bytes."


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"path": "../../etc/passwd"}, "Refused: `../../etc/passwd` uses `..`"),
        ({"path": "/etc/passwd"}, "Refused: `/etc/passwd` is absolute"),
        ({"path": "missing.py"}, "`missing.py` does not exist"),
        ({"path": "src"}, "`src` is a folder"),
        ({}, "Bad input for read_file: `path` is required"),
        ({"path": 7}, "Bad input for read_file: `path` must be a string"),
    ],
)
async def test_read_file_errors_are_results(
    tmp_path: pathlib.Path, args: dict[str, object], error: str
) -> None:
    result = await toolbox(tmp_path, PROJECT).run("read_file", args)
    assert result.is_error
    assert result.text.startswith(error)


async def test_a_symlink_to_etc_passwd_cannot_be_read(tmp_path: pathlib.Path) -> None:
    tools = toolbox(tmp_path, PROJECT)
    (tools.workspace.root / "passwd").symlink_to("/etc/passwd")
    result = await tools.run("read_file", {"path": "passwd"})
    assert result.is_error
    assert "outside the working tree" in result.text
    for command in ("cat passwd", "head -n 1 passwd", "wc -l passwd"):
        catted = await tools.run("run_command", {"command": command})
        assert catted.is_error
        assert "outside the working tree" in catted.text


# -- list_directory and search_code


async def test_list_directory_marks_folders_with_a_slash(tmp_path: pathlib.Path) -> None:
    tools = toolbox(tmp_path, PROJECT)
    root = await tools.run("list_directory", {"path": "."})
    assert root.text == "docs/\nsrc/\ntests/"
    inner = await tools.run("list_directory", {"path": "src/shelf"})
    assert inner.text == "__init__.py\nitems.py"


async def test_a_name_that_is_not_utf8_is_listed_readably(tmp_path: pathlib.Path) -> None:
    tools = toolbox(tmp_path, {"a.txt": "needle\n"})
    (tools.workspace.root / os.fsdecode(b"b-\xff.txt")).write_text("needle\n")
    listed = await tools.run("list_directory", {"path": "."})
    assert listed.text == "a.txt\nb-\ufffd.txt"
    found = await tools.run("search_code", {"pattern": "needle"})
    assert found.text == "a.txt:1: needle\nb-\ufffd.txt:1: needle"


async def test_list_directory_of_a_file_is_an_error(tmp_path: pathlib.Path) -> None:
    result = await toolbox(tmp_path, PROJECT).run("list_directory", {"path": "docs/notes.md"})
    assert result.is_error
    assert "is not a folder" in result.text


async def test_search_code_gives_path_line_and_text(tmp_path: pathlib.Path) -> None:
    result = await toolbox(tmp_path, PROJECT).run("search_code", {"pattern": r"def \w+\("})
    assert result.text.splitlines() == [
        "src/shelf/items.py:1: def count(items):",
        "tests/test_items.py:4: def test_count():",
        "tests/test_items.py:8: def test_wrong():",
    ]


async def test_search_code_stays_under_the_path_given(tmp_path: pathlib.Path) -> None:
    result = await toolbox(tmp_path, PROJECT).run("search_code", {"pattern": "count", "path": "src"})
    assert result.text.splitlines() == ["src/shelf/items.py:1: def count(items):"]


async def test_search_code_stops_at_50_hits(tmp_path: pathlib.Path) -> None:
    files = {"many.py": "hit = 1\n" * 80}
    result = await toolbox(tmp_path, files).run("search_code", {"pattern": "hit"})
    lines = result.text.splitlines()
    assert len(lines) == MAX_HITS + 1
    assert lines[-1].startswith(f"[… stopped at {MAX_HITS} matches")


async def test_search_code_skips_installed_packages(tmp_path: pathlib.Path) -> None:
    files = {"app.js": "needle\n", "node_modules/lib/index.js": "needle\n"}
    result = await toolbox(tmp_path, files).run("search_code", {"pattern": "needle"})
    assert result.text == "app.js:1: needle"


@pytest.mark.parametrize("pattern", ["(unclosed", "a{2,1}", r"(?<=x)y", r"(a)\1"])
async def test_a_bad_regular_expression_is_an_error_result(tmp_path: pathlib.Path, pattern: str) -> None:
    result = await toolbox(tmp_path, PROJECT).run("search_code", {"pattern": pattern})
    assert result.is_error
    assert result.text.startswith("Bad regular expression")


async def test_a_catastrophic_pattern_runs_in_linear_time(tmp_path: pathlib.Path) -> None:
    files = {"a.txt": "a" * 5000 + "!\n"}
    result = await toolbox(tmp_path, files).run("search_code", {"pattern": "(a+)+$"})
    assert result.text == "No matches."


# -- write_file and delete_file


async def test_write_file_reports_the_size_written(tmp_path: pathlib.Path) -> None:
    tools = toolbox(tmp_path, PROJECT)
    result = await tools.run("write_file", {"path": "src/shelf/loans.py", "content": "LOANS = []\n"})
    assert result.text == "Wrote 11 bytes to `src/shelf/loans.py`."
    assert tools.workspace.pending() == {"src/shelf/loans.py": b"LOANS = []\n"}


@pytest.mark.parametrize(
    ("path", "error"),
    [
        (".github/workflows/ci.yml", "workflows permission"),
        (".git/hooks/pre-commit", "not yours to write"),
        ("../outside.py", "`..`"),
    ],
)
async def test_write_file_refusals_are_error_results(tmp_path: pathlib.Path, path: str, error: str) -> None:
    tools = toolbox(tmp_path, PROJECT)
    result = await tools.run("write_file", {"path": path, "content": "x"})
    assert result.is_error
    assert error in result.text
    assert tools.workspace.pending() == {}


async def test_write_file_without_content_is_an_error_result(tmp_path: pathlib.Path) -> None:
    result = await toolbox(tmp_path, PROJECT).run("write_file", {"path": "a.py"})
    assert result.is_error
    assert "`content` is required" in result.text


async def test_write_file_on_a_full_tree_raises_for_the_build_to_pause(tmp_path: pathlib.Path) -> None:
    workspace, sandbox = make_tree(tmp_path, {"a.py": "a\n"}, quota_bytes=100)
    with pytest.raises(DiskFull, match="working tree is full"):
        await Toolbox(workspace, sandbox).run("write_file", {"path": "b.py", "content": "x" * 500})


async def test_delete_file_removes_it_and_a_missing_one_is_an_error(tmp_path: pathlib.Path) -> None:
    tools = toolbox(tmp_path, PROJECT)
    deleted = await tools.run("delete_file", {"path": "docs/notes.md"})
    assert deleted.text == "Deleted `docs/notes.md`."
    assert tools.workspace.pending() == {"docs/notes.md": None}
    again = await tools.run("delete_file", {"path": "docs/notes.md"})
    assert again.is_error


# -- commands


async def test_run_tests_reports_the_exit_code_and_counts(
    tmp_path: pathlib.Path, sandbox_venv: pathlib.Path
) -> None:
    tools = toolbox(tmp_path, PROJECT, venv=sandbox_venv)
    result = await tools.run("run_tests", {"command": "pytest -q -p no:cacheprovider tests/test_items.py"})
    assert not result.is_error
    lines = result.text.splitlines()
    assert lines[0] == "Exit code: 1"
    assert lines[1] == "Passed: 1, failed: 1, errors: 0, skipped: 0"
    assert "FAILED tests/test_items.py::test_wrong" in result.text
    assert result.summary == "exit 1, 1 passed, 1 failed"


async def test_run_tests_past_its_timeout_is_an_error_result(
    tmp_path: pathlib.Path, sandbox_venv: pathlib.Path
) -> None:
    files = {"tests/test_slow.py": "import time\n\ndef test_slow():\n    time.sleep(600)\n"}
    tools = toolbox(tmp_path, files, venv=sandbox_venv)
    result = await tools.run("run_tests", {"command": "pytest -q tests/test_slow.py", "timeout": 3})
    assert result.is_error
    assert result.text.startswith("Timed out after 3 s")


async def test_run_tests_runs_only_test_commands(tmp_path: pathlib.Path) -> None:
    result = await toolbox(tmp_path, PROJECT).run("run_tests", {"command": "ls src"})
    assert result.is_error
    assert "run_tests runs a test command" in result.text


@pytest.mark.parametrize(
    ("command", "error"),
    [
        ("ls; cat /etc/passwd", "metacharacters"),
        ("bash -c ls", "not an allowed program"),
        ("find . -exec cat {} +", "-exec"),
        ("cat /etc/passwd", "absolute"),
    ],
)
async def test_run_command_refusals_are_error_results(
    tmp_path: pathlib.Path, command: str, error: str
) -> None:
    result = await toolbox(tmp_path, PROJECT).run("run_command", {"command": command})
    assert result.is_error
    assert result.text.startswith("Refused:")
    assert error in result.text


async def test_run_command_gives_the_exit_code_and_output(tmp_path: pathlib.Path) -> None:
    result = await toolbox(tmp_path, PROJECT).run("run_command", {"command": "wc -l src/shelf/items.py"})
    assert result.text == "Exit code: 0\n2 src/shelf/items.py"
    failed = await toolbox(tmp_path / "2", PROJECT).run("run_command", {"command": "ls missing"})
    assert failed.text.startswith("Exit code: 2")
    assert "[stderr]" in failed.text
    assert not failed.is_error


async def test_a_timeout_that_is_not_a_number_is_an_error_result(tmp_path: pathlib.Path) -> None:
    result = await toolbox(tmp_path, PROJECT).run("run_command", {"command": "ls", "timeout": "soon"})
    assert result.is_error
    assert "`timeout` must be a number" in result.text


# -- check_syntax


async def test_check_syntax_gives_python_errors_with_line_numbers(tmp_path: pathlib.Path) -> None:
    files = {"bad.py": "def f(:\n    return 1\n", "good.py": "x = 1\n"}
    tools = toolbox(tmp_path, files)
    bad = await tools.run("check_syntax", {"path": "bad.py"})
    assert bad.text.startswith("bad.py: line 1, column 7:")
    assert not bad.is_error
    good = await tools.run("check_syntax", {"path": "good.py"})
    assert good.text == "No errors"


@pytest.mark.parametrize(
    ("path", "content", "expected"),
    [
        (
            "a.json",
            '{"a": 1,}',
            "a.json: line 1, column 9: Expecting property name enclosed in double quotes",
        ),
        ("a.json", '{"a": 1}', "No errors"),
        ("a.js", "function f( {\n  return 1\n}\n", "a.js: line 1"),
        ("a.ts", "const x: number = 1;\nexport { x };\n", "No errors"),
        ("a.tsx", "const x = <div>;\n", "a.tsx: line 1"),
        ("a.yml", "a: [1, 2\n", "a.yml: line 2"),
        ("a.toml", "a = \n", "a.toml: "),
        ("a.txt", "anything", "No syntax check for `.txt` files."),
    ],
)
async def test_check_syntax_of_other_kinds(
    tmp_path: pathlib.Path, path: str, content: str, expected: str
) -> None:
    result = await toolbox(tmp_path, {path: content}).run("check_syntax", {"path": path})
    assert result.text.startswith(expected)


async def test_an_unknown_tool_is_an_error_result(tmp_path: pathlib.Path) -> None:
    result = await toolbox(tmp_path, PROJECT).run("rm_rf", {"path": "."})
    assert result.is_error
    assert result.text == "unknown tool `rm_rf`"


# -- the sign-off's test run


async def test_run_project_tests_gives_the_evidence(
    tmp_path: pathlib.Path, sandbox_venv: pathlib.Path
) -> None:
    tools = toolbox(tmp_path, PROJECT, venv=sandbox_venv)
    run = await run_project_tests(tools.workspace, tools.sandbox, command="pytest -q -p no:cacheprovider")
    assert run.status == "FAIL"
    assert (run.exit_code, run.passed, run.failed, run.errors) == (1, 1, 1, 0)
    assert run.command == "pytest -q -p no:cacheprovider"
    assert "1 failed, 1 passed" in run.output


async def test_run_project_tests_without_a_venv_fails_with_the_reason(tmp_path: pathlib.Path) -> None:
    tools = toolbox(tmp_path, PROJECT, venv=tmp_path / "no-venv")
    run = await run_project_tests(tools.workspace, tools.sandbox)
    assert run.status == "FAIL"
    assert run.exit_code is None
    assert "virtual environment is not ready" in run.output


@pytest.mark.parametrize(
    ("files", "command"),
    [
        ({"pyproject.toml": "[project]\nname = 'x'\n"}, "pytest -q"),
        ({"package.json": '{"scripts": {"test": "vitest run"}}'}, "npm test"),
        ({"package.json": '{"scripts": {}}'}, "pytest -q"),
        ({"README.md": "x"}, "pytest -q"),
    ],
)
def test_the_default_test_command_follows_the_project(
    tmp_path: pathlib.Path, files: dict[str, str], command: str
) -> None:
    workspace, _ = make_tree(tmp_path, files)
    assert default_test_command(workspace.root) == command


@pytest.mark.parametrize(
    ("output", "counts"),
    [
        ("..F\n1 failed, 2 passed in 0.12s\n", (2, 1, 0, 0)),
        ("===== 3 passed, 1 skipped, 2 warnings in 1.00s =====", (3, 0, 0, 1)),
        ("= 1 failed, 4 passed, 2 errors in 3.1s =", (4, 1, 2, 0)),
        ("== 1 error in 0.5s ==", (0, 0, 1, 0)),
        ("no tests ran in 0.01s", (0, 0, 0, 0)),
        (" Test Files  1 passed (1)\n      Tests  2 failed | 5 passed (7)\n", (5, 2, 0, 0)),
        ("Tests:       1 failed, 3 passed, 4 total\n", (3, 1, 0, 0)),
    ],
)
def test_counts_are_read_from_the_summary_line(output: str, counts: tuple[int, int, int, int]) -> None:
    found = count_tests(output)
    assert (found["passed"], found["failed"], found["errors"], found["skipped"]) == counts
