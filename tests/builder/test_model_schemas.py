"""The builder's eleven tools: fixed names, required fields, validation that answers instead of raising."""

from __future__ import annotations

from forgeguard_app.builder.schemas import SCHEMAS, TOOL_NAMES, builder_tools, validate_input

SPEC_REQUIRED = {
    "plan_phase": ["tasks"],
    "complete_task": ["task"],
    "read_file": ["path"],
    "list_directory": ["path"],
    "search_code": ["pattern"],
    "write_file": ["path", "content"],
    "delete_file": ["path"],
    "run_tests": ["command"],
    "check_syntax": ["path"],
    "run_command": ["command"],
    "sign_off_phase": ["summary", "claimed_files", "verification"],
}


def test_the_tools_carry_the_spec_names_and_required_fields() -> None:
    tools = builder_tools()
    assert [t["name"] for t in tools] == list(SPEC_REQUIRED)
    assert {t["name"]: t["input_schema"]["required"] for t in tools} == SPEC_REQUIRED


def test_the_optional_fields_of_the_spec_are_offered() -> None:
    assert set(SCHEMAS["search_code"]["properties"]) == {"pattern", "path"}
    assert set(SCHEMAS["run_tests"]["properties"]) == {"command", "timeout"}
    assert set(SCHEMAS["run_command"]["properties"]) == {"command", "timeout"}


def test_sign_off_verification_requires_the_four_notes_in_order() -> None:
    verification = SCHEMAS["sign_off_phase"]["properties"]["verification"]
    assert verification["required"] == ["static", "runtime", "behavior", "contract"]


def test_only_the_last_tool_carries_the_cache_breakpoint() -> None:
    marked = [t["name"] for t in builder_tools() if "cache_control" in t]
    assert marked == [TOOL_NAMES[-1]]
    assert not any("cache_control" in t for t in builder_tools(cache=False))


def test_a_valid_input_has_no_errors() -> None:
    assert validate_input("write_file", {"path": "app/main.py", "content": ""}) == []
    assert validate_input("search_code", {"pattern": "def \\w+"}) == []


def test_a_missing_required_field_is_named() -> None:
    assert validate_input("write_file", {"path": "app/main.py"}) == [
        "(top level): 'content' is a required property"
    ]


def test_a_wrong_type_is_named_with_its_path() -> None:
    errors = validate_input(
        "sign_off_phase",
        {"summary": "s", "claimed_files": "app/main.py", "verification": {"static": "ok"}},
    )
    assert "claimed_files: 'app/main.py' is not of type 'array'" in errors
    assert "verification: 'runtime' is a required property" in errors


def test_a_task_number_starts_at_one() -> None:
    assert validate_input("complete_task", {"task": 0}) == ["task: 0 is less than the minimum of 1"]


def test_an_unknown_tool_lists_the_real_ones() -> None:
    (error,) = validate_input("merge_pull_request", {})
    assert error.startswith("unknown tool 'merge_pull_request'; the tools are plan_phase, complete_task")


def test_an_input_that_is_not_an_object_is_an_error() -> None:
    assert validate_input("read_file", ["x"]) == ["(top level): the tool input must be a JSON object"]
