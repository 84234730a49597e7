"""The builder's conversation: always a valid Messages API history, saved as JSON, compacted near the end."""

from __future__ import annotations

import json
from typing import Any

import pytest

from checks.model import AuditReport, CheckResult, Finding
from forgeguard_app.builder.conversation import (
    TRUNCATED_ERROR,
    Conversation,
    FailedCheck,
    SignoffVerdict,
    failed_checks,
)
from forgeguard_app.builder.schemas import builder_tools
from tests.builder.model_support import sample_phases
from tests.fixtures.anthropic import validate_request

PHASE0, PHASE1 = sample_phases()
FINDING = "app/api/books.py:3: `requests` is imported but not declared in pyproject.toml"


def use(id: str, name: str, **input: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": id, "name": name, "input": input}


def started() -> Conversation:
    conversation = Conversation()
    conversation.start_phase(PHASE0, total=2)
    return conversation


def api_problem(conversation: Conversation) -> str | None:
    body = {"model": "m", "max_tokens": 10, "messages": conversation.request_messages()}
    return validate_request(body)


def test_the_conversation_survives_a_json_round_trip() -> None:
    conversation = started()
    conversation.add_assistant([use("t1", "read_file", path="app/main.py")], truncated=["t9"])
    conversation.add_tool_result("t1", "print('hi')")
    restored = Conversation.from_json(json.dumps(conversation.to_json()))
    assert restored == conversation


def test_nothing_saved_gives_an_empty_conversation() -> None:
    assert Conversation.from_json(None) == Conversation()


def test_the_calls_of_one_turn_are_pending_in_order() -> None:
    conversation = started()
    conversation.add_assistant(
        [
            {"type": "text", "text": "Reading first."},
            use("t1", "list_directory", path="."),
            use("t2", "read_file", path="app/main.py"),
        ]
    )
    assert [c.id for c in conversation.pending_calls()] == ["t1", "t2"]
    conversation.add_tool_result("t1", "app/")
    assert [c.id for c in conversation.pending_calls()] == ["t2"]
    assert not conversation.ready


def test_a_result_out_of_order_is_refused() -> None:
    conversation = started()
    conversation.add_assistant([use("t1", "list_directory", path="."), use("t2", "read_file", path="a.py")])
    with pytest.raises(ValueError, match="the next result must answer t1, not t2"):
        conversation.add_tool_result("t2", "x")


def test_once_every_call_is_answered_the_next_turn_can_be_taken() -> None:
    conversation = started()
    conversation.add_assistant([use("t1", "list_directory", path="."), use("t2", "read_file", path="a.py")])
    conversation.add_tool_result("t1", "a.py")
    conversation.add_tool_result("t2", "No such file: a.py", is_error=True)
    assert conversation.ready
    results = conversation.messages[-1]["content"]
    assert [(b["tool_use_id"], b.get("is_error", False)) for b in results] == [("t1", False), ("t2", True)]
    assert api_problem(conversation) is None


def test_an_invalid_input_is_pending_with_its_errors_to_send_back() -> None:
    conversation = started()
    conversation.add_assistant([use("t1", "write_file", path="app/main.py")])
    (call,) = conversation.pending_calls()
    assert call.errors == ("(top level): 'content' is a required property",)


def test_a_call_cut_at_max_tokens_is_pending_with_the_truncation_error() -> None:
    conversation = started()
    conversation.add_assistant([use("t1", "write_file", path="app/main.py", content="imp")], truncated=["t1"])
    (call,) = conversation.pending_calls()
    assert call.errors == (TRUNCATED_ERROR,)


def test_an_interjection_during_pending_calls_follows_their_results() -> None:
    conversation = started()
    conversation.add_assistant([use("t1", "list_directory", path="."), use("t2", "read_file", path="a.py")])
    conversation.add_tool_result("t1", "a.py")
    conversation.add_interjection("Please use httpx.", login="alice")
    conversation.add_tool_result("t2", "x = 1")
    kinds = [b["type"] for b in conversation.messages[-1]["content"]]
    assert kinds == ["tool_result", "tool_result", "text"]
    assert conversation.messages[-1]["content"][-1]["text"].startswith('<interjection from="@alice"')
    assert api_problem(conversation) is None


def test_answer_pending_closes_every_open_call() -> None:
    conversation = started()
    conversation.add_assistant([use("t1", "run_tests", command="pytest"), use("t2", "read_file", path="a")])
    assert conversation.answer_pending("Not run: the build was cancelled.") == 2
    assert conversation.ready


def test_a_failed_sign_off_is_an_error_result_and_the_next_phase_joins_a_passed_one() -> None:
    conversation = started()
    verification = {"static": "s", "runtime": "r", "behavior": "b", "contract": "c"}
    conversation.add_assistant(
        [use("s1", "sign_off_phase", summary="x", claimed_files=[], verification=verification)]
    )
    failed = (FailedCheck("A9", "Dependencies", "1 undeclared import", (FINDING,)),)
    conversation.add_signoff_result("s1", SignoffVerdict(False, PHASE0, failed, None))
    result = conversation.messages[-1]["content"][0]
    assert result["is_error"] is True and result["content"].startswith("FAIL: Phase 0 -- Genesis")

    conversation.add_assistant(
        [use("s2", "sign_off_phase", summary="x", claimed_files=[], verification=verification)]
    )
    conversation.add_signoff_result("s2", SignoffVerdict(True, PHASE0))
    conversation.start_phase(PHASE1, total=2)
    opening = conversation.messages[-1]["content"]
    assert opening[0]["content"].startswith("PASS: Phase 0 -- Genesis")
    assert opening[1]["text"].startswith("Phase 1 -- Catalogue and loans")
    assert conversation.phase_start == len(conversation.messages) - 1
    assert api_problem(conversation) is None


def test_a_turn_without_tools_counts_as_idle_and_empty_text_is_dropped() -> None:
    conversation = started()
    conversation.add_assistant([{"type": "text", "text": "Thinking."}, {"type": "text", "text": ""}])
    assert conversation.messages[-1]["content"] == [{"type": "text", "text": "Thinking."}]
    assert conversation.idle_turns == 1
    conversation.add_note("Continue with the tools.")
    conversation.add_assistant([use("t1", "list_directory", path=".")])
    assert conversation.idle_turns == 0


def test_the_request_carries_one_moving_breakpoint_and_leaves_the_saved_list_alone() -> None:
    conversation = started()
    conversation.add_assistant([use("t1", "list_directory", path=".")])
    conversation.add_tool_result("t1", "app/")
    messages = conversation.request_messages()
    marks = [b for m in messages for b in m["content"] if "cache_control" in b]
    assert marks == [messages[-1]["content"][-1]]
    assert not any("cache_control" in b for m in conversation.messages for b in m["content"])
    assert not any(
        "cache_control" in b for m in conversation.request_messages(cache=False) for b in m["content"]
    )


def test_a_request_with_unanswered_calls_is_refused() -> None:
    conversation = started()
    conversation.add_assistant([use("t1", "list_directory", path=".")])
    with pytest.raises(ValueError, match="not ready"):
        conversation.request_messages()


def test_failed_checks_keep_the_blocking_failures_with_every_finding() -> None:
    report = AuditReport(
        base="a",
        head="b",
        files=2,
        phase="Phase 0 -- Genesis",
        claimed_files=[],
        results=[
            CheckResult("A1", "Scope", "blocking", "pass", "ok"),
            CheckResult(
                "A9",
                "Dependencies",
                "blocking",
                "fail",
                "1 undeclared import",
                [Finding("app/api/books.py", "`requests` is imported but not declared", start_line=3)],
            ),
            CheckResult("W1", "Secrets", "warning", "fail", "1 possible secret", [Finding("a.py", "key")]),
        ],
        governed=True,
    )
    assert failed_checks(report) == [
        FailedCheck(
            "A9",
            "Dependencies",
            "1 undeclared import",
            ("app/api/books.py:3: `requests` is imported but not declared",),
        )
    ]


# compaction -------------------------------------------------------------------------------------------

BIG = "line of a large file\n" * 400  # 8,400 characters
VERIFICATION = {"static": "s", "runtime": "r", "behavior": "b", "contract": "c"}


def two_phases(*, turns: int, output: str) -> Conversation:
    """Phase 0 with `turns` read_file turns, an audit failure, a pass; phase 1 with two turns."""
    conversation = started()
    for i in range(turns):
        conversation.add_assistant([use(f"r{i}", "read_file", path=f"app/m{i}.py")])
        conversation.add_tool_result(f"r{i}", output)
    conversation.add_interjection("Keep the handlers thin.", login="alice")
    conversation.add_assistant([use("w0", "write_file", path="app/x.py", content=BIG)])
    conversation.add_tool_result("w0", "Wrote 8,400 bytes")
    failed = (FailedCheck("A9", "Dependencies", "1 undeclared import", (FINDING,)),)
    conversation.add_assistant(
        [use("s0", "sign_off_phase", summary="x", claimed_files=[], verification=VERIFICATION)]
    )
    conversation.add_signoff_result("s0", SignoffVerdict(False, PHASE0, failed, "1. Declare requests."))
    conversation.add_assistant(
        [use("s1", "sign_off_phase", summary="x", claimed_files=[], verification=VERIFICATION)]
    )
    conversation.add_signoff_result("s1", SignoffVerdict(True, PHASE0))
    conversation.start_phase(PHASE1, total=2)
    for i in range(2):
        conversation.add_assistant([use(f"c{i}", "read_file", path=f"app/c{i}.py")])
        conversation.add_tool_result(f"c{i}", output)
    return conversation


def current_phase(conversation: Conversation) -> list[dict[str, Any]]:
    return conversation.messages[conversation.phase_start + 1 :]


def every_text(conversation: Conversation) -> str:
    return json.dumps(conversation.messages)


def test_below_the_threshold_nothing_is_compacted() -> None:
    conversation = two_phases(turns=3, output=BIG)
    before = conversation.to_json()
    assert not conversation.compact(context_tokens=200_000)
    assert conversation.to_json() == before


def test_compaction_stubs_old_outputs_and_keeps_the_current_phase_and_the_findings() -> None:
    conversation = two_phases(turns=12, output=BIG)
    tools = builder_tools()
    limit = conversation.estimate_tokens(tools=tools)  # the window is exactly what we hold now
    phase_now = json.dumps(current_phase(conversation))
    assert conversation.compact(tools=tools, context_tokens=limit)
    assert json.dumps(current_phase(conversation)) == phase_now
    text = every_text(conversation)
    assert FINDING in text and "1. Declare requests." in text and "PASS: Phase 0 -- Genesis" in text
    assert "[read_file result compacted: 8,400 characters; it began: line of a large file]" in text
    assert "[file content compacted: 8,400 characters" in text
    assert conversation.estimate_tokens(tools=tools) <= limit * 0.45
    assert conversation.compactions == 1
    assert api_problem(conversation) is None


def test_when_stubs_are_not_enough_earlier_phases_fold_into_a_digest_with_every_verdict() -> None:
    conversation = two_phases(turns=150, output="short output")  # many small turns: nothing to stub
    limit = conversation.estimate_tokens()
    phase_now = json.dumps(current_phase(conversation))
    assert conversation.compact(context_tokens=limit)
    digest = conversation.messages[0]["content"][0]["text"]
    assert digest.startswith("<earlier_phases>")
    assert FINDING in digest and "PASS: Phase 0 -- Genesis" in digest
    assert "Keep the handlers thin." in digest
    assert conversation.messages[0]["content"][1]["text"].startswith("Phase 1 -- Catalogue and loans")
    assert conversation.phase_start == 0
    assert json.dumps(current_phase(conversation)) == phase_now
    assert api_problem(conversation) is None


def test_a_compacted_conversation_still_takes_tool_results() -> None:
    conversation = two_phases(turns=12, output=BIG)
    conversation.add_assistant([use("n1", "list_directory", path=".")])
    conversation.compact(context_tokens=conversation.estimate_tokens())
    conversation.add_tool_result("n1", "app/")
    assert api_problem(conversation) is None


def test_a_denser_count_from_the_api_raises_the_estimates() -> None:
    conversation = two_phases(turns=3, output=BIG)
    before = conversation.estimate_tokens()
    conversation.calibrate(conversation.prompt_chars(), before * 2)
    assert conversation.estimate_tokens() >= before * 2 - 1
    assert Conversation.from_json(conversation.to_json()).chars_per_token == conversation.chars_per_token


def test_a_sparser_count_never_lowers_the_estimates() -> None:
    conversation = two_phases(turns=3, output=BIG)
    before = conversation.estimate_tokens()
    conversation.calibrate(conversation.prompt_chars(), before // 3)
    assert conversation.estimate_tokens() == before
