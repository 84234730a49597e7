"""The builder's file and command tools, run in the sandbox; results for the model.

API (bodies land in the next commits):

- `ToolResult(text, is_error, summary)`: `text` goes back to the model as the tool result,
  `summary` (one short line) to the tool log and the progress comment.
- `Toolbox(workspace, sandbox)`: `await toolbox.run(name, args) -> ToolResult` for the eight
  tools of `FILE_TOOLS` (`read_file`, `list_directory`, `search_code`, `write_file`,
  `delete_file`, `run_tests`, `check_syntax`, `run_command`). Never raises for bad input,
  refused paths or commands, or time-outs (an `is_error` result); raises only `DiskFull`
  (the core pauses the build with its message).
- `await run_project_tests(workspace, sandbox, *, command=None, time_limit=...) -> TestRun`:
  the sign-off's own test run (`pytest -q` for a Python project, `npm test` for a
  JavaScript one), for `Forge/evidence/test_runs_latest.md`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from forgeguard_app.builder.sandbox import TIMEOUT_RUN_TESTS, Sandbox
from forgeguard_app.builder.workspace import Workspace

FILE_TOOLS = frozenset(
    {
        "read_file",
        "list_directory",
        "search_code",
        "write_file",
        "delete_file",
        "run_tests",
        "check_syntax",
        "run_command",
    }
)
READ_CAP = 50_000
MAX_HITS = 50


@dataclass(frozen=True)
class ToolResult:
    text: str
    is_error: bool
    summary: str


@dataclass(frozen=True)
class TestRun:
    """One test run of the project, as the evidence file reports it."""

    command: str
    exit_code: int | None
    passed: int
    failed: int
    errors: int
    skipped: int
    timed_out: bool
    duration: float
    output: str
    """stdout then stderr, cut to a readable size."""

    @property
    def status(self) -> str:
        """`PASS` when the command exited 0 within its time, else `FAIL`."""
        return "PASS" if self.exit_code == 0 and not self.timed_out else "FAIL"


class Toolbox:
    """The file and command tools over one working tree and its sandbox."""

    def __init__(self, workspace: Workspace, sandbox: Sandbox) -> None:
        self.workspace = workspace
        self.sandbox = sandbox

    async def run(self, name: str, args: Mapping[str, Any]) -> ToolResult:
        """Runs one tool of `FILE_TOOLS` (an unknown name or bad input is an error result)."""
        raise NotImplementedError


async def run_project_tests(
    workspace: Workspace,
    sandbox: Sandbox,
    *,
    command: str | None = None,
    time_limit: float = TIMEOUT_RUN_TESTS,
) -> TestRun:
    """The project's tests run by the app (see the module docstring)."""
    raise NotImplementedError
