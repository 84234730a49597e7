"""The builder's eleven tools: fixed names and required fields (spec builder.md), JSON schemas, validation.

The names and the required fields are part of the spec; descriptions tell the
model what each tool gives back. `validate_input` is what decides whether a
call is executed: an invalid input goes back to the model as an `is_error`
tool result, it is never raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from forgeguard_app.llm.client import tool, validate_tool_input

PLAN_PHASE: Final = "plan_phase"
COMPLETE_TASK: Final = "complete_task"
READ_FILE: Final = "read_file"
LIST_DIRECTORY: Final = "list_directory"
SEARCH_CODE: Final = "search_code"
WRITE_FILE: Final = "write_file"
DELETE_FILE: Final = "delete_file"
RUN_TESTS: Final = "run_tests"
CHECK_SYNTAX: Final = "check_syntax"
RUN_COMMAND: Final = "run_command"
SIGN_OFF_PHASE: Final = "sign_off_phase"

TOOL_NAMES: Final = (
    PLAN_PHASE,
    COMPLETE_TASK,
    READ_FILE,
    LIST_DIRECTORY,
    SEARCH_CODE,
    WRITE_FILE,
    DELETE_FILE,
    RUN_TESTS,
    CHECK_SYNTAX,
    RUN_COMMAND,
    SIGN_OFF_PHASE,
)
STATE_TOOLS: Final = frozenset({PLAN_PHASE, COMPLETE_TASK, SIGN_OFF_PHASE})
"""Tools the build's own state answers (the core); the others run in the sandbox (`builder.tools`)."""

MAX_TASKS = 30
MAX_CONTENT_CHARS = 1_000_000
MAX_TIMEOUT_S = 600

_PATH = {"type": "string", "minLength": 1, "maxLength": 1000, "description": "Relative to the project root."}
_NOTE = {"type": "string", "minLength": 1, "maxLength": 4000}
_TIMEOUT = {
    "type": "integer",
    "minimum": 1,
    "maximum": MAX_TIMEOUT_S,
    "description": "Seconds before the command and its whole process group are killed.",
}


def _object(properties: Mapping[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": dict(properties),
        "required": required,
        "additionalProperties": False,
    }


SCHEMAS: Final[dict[str, dict[str, Any]]] = {
    PLAN_PHASE: _object(
        {
            "tasks": {
                "type": "array",
                "items": {"type": "string", "minLength": 1, "maxLength": 400},
                "minItems": 1,
                "maxItems": MAX_TASKS,
            }
        },
        ["tasks"],
    ),
    COMPLETE_TASK: _object(
        {"task": {"type": "integer", "minimum": 1, "description": "The task's number in the plan, from 1."}},
        ["task"],
    ),
    READ_FILE: _object({"path": _PATH}, ["path"]),
    LIST_DIRECTORY: _object(
        {"path": {**_PATH, "description": "A folder; `.` for the project root."}}, ["path"]
    ),
    SEARCH_CODE: _object(
        {
            "pattern": {
                "type": "string",
                "minLength": 1,
                "maxLength": 500,
                "description": "A regular expression.",
            },
            "path": {**_PATH, "description": "Limit the search to this file or folder."},
        },
        ["pattern"],
    ),
    WRITE_FILE: _object(
        {"path": _PATH, "content": {"type": "string", "maxLength": MAX_CONTENT_CHARS}}, ["path", "content"]
    ),
    DELETE_FILE: _object({"path": _PATH}, ["path"]),
    RUN_TESTS: _object(
        {
            "command": {
                "type": "string",
                "minLength": 1,
                "maxLength": 2000,
                "description": "e.g. `pytest -q tests/test_items.py`; no shell syntax.",
            },
            "timeout": _TIMEOUT,
        },
        ["command"],
    ),
    CHECK_SYNTAX: _object({"path": _PATH}, ["path"]),
    RUN_COMMAND: _object(
        {
            "command": {
                "type": "string",
                "minLength": 1,
                "maxLength": 2000,
                "description": "No shell syntax.",
            },
            "timeout": _TIMEOUT,
        },
        ["command"],
    ),
    SIGN_OFF_PHASE: _object(
        {
            "summary": _NOTE,
            "claimed_files": {
                "type": "array",
                "items": {"type": "string", "minLength": 1, "maxLength": 1000},
                "description": "Every file this phase created, changed or deleted (evidence files included).",
            },
            "verification": _object(
                {"static": _NOTE, "runtime": _NOTE, "behavior": _NOTE, "contract": _NOTE},
                ["static", "runtime", "behavior", "contract"],
            ),
        },
        ["summary", "claimed_files", "verification"],
    ),
}

DESCRIPTIONS: Final[dict[str, str]] = {
    PLAN_PHASE: "Plan the current phase only, as a list of tasks. Returns the numbered tasks.",
    COMPLETE_TASK: "Mark a task of the current plan done, by its number (from 1). Returns a confirmation.",
    READ_FILE: "Read a file of the project. Returns its text, cut at 50 KB with a note.",
    LIST_DIRECTORY: "List a folder of the project (`.` for the root). Folders end with `/`.",
    SEARCH_CODE: (
        "Search the project's files with a regular expression. Returns `path:line: text`, at most 50 hits."
    ),
    WRITE_FILE: "Create or replace a file with the given content. Returns the size written.",
    DELETE_FILE: "Delete a file of the project. Returns a confirmation.",
    RUN_TESTS: (
        "Run the tests (e.g. `pytest -q tests/test_items.py`). Returns the exit code, counts and output, cut."
    ),
    CHECK_SYNTAX: "Check a source file's syntax. Returns errors with line numbers, or `No errors`.",
    RUN_COMMAND: (
        "Run an allowed command without a shell (`python -m <module>`, `pip install ...`, `npm test`, "
        "`npm install`, `npx vitest`, `npx tsc`, `ls`, `cat`, `head`, `tail`, `wc`, `find`). "
        "Returns the exit code and output, cut."
    ),
    SIGN_OFF_PHASE: (
        "Sign the current phase off when its exit criteria are met. The app then runs the tests itself, "
        "writes the evidence, audits the phase and returns the verdict: PASS, or FAIL with every failed "
        "check, its findings and a remediation plan."
    ),
}


def builder_tools(*, cache: bool = True) -> list[dict[str, Any]]:
    """The tool definitions for the Messages API, in a fixed order; `cache` puts a breakpoint on the last."""
    last = TOOL_NAMES[-1]
    return [
        tool(name, DESCRIPTIONS[name], SCHEMAS[name], cache=cache and name == last) for name in TOOL_NAMES
    ]


def validate_input(name: str, value: Any) -> list[str]:
    """Why this call cannot run: unknown tool or each schema violation (`path: message`); empty if valid."""
    schema = SCHEMAS.get(name)
    if schema is None:
        return [f"unknown tool {name!r}; the tools are {', '.join(TOOL_NAMES)}"]
    if not isinstance(value, dict):
        return ["(top level): the tool input must be a JSON object"]
    return validate_tool_input(schema, value)
