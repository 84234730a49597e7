"""The fake Messages API's own rules: prefix caching and the request checks the real API makes."""

from __future__ import annotations

from typing import Any

from tests.fixtures.anthropic import PrefixCache, request_blocks, validate_request

LONG = "x" * 8000  # 2000 tokens


def body(*user_blocks: dict[str, Any], system: Any = None) -> dict[str, Any]:
    request: dict[str, Any] = {
        "model": "m",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": list(user_blocks)}],
    }
    if system is not None:
        request["system"] = system
    return request


def marked(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text, "cache_control": {"type": "ephemeral"}}


def usage(cache: PrefixCache, request: dict[str, Any]) -> tuple[int, int, int]:
    return cache.usage(request["model"], request_blocks(request))


def test_a_marked_prefix_is_written_then_read() -> None:
    cache = PrefixCache()
    request = body({"type": "text", "text": "question"}, system=[marked(LONG)])
    first, second = usage(cache, request), usage(cache, request)
    assert first[1] > 2000 and first[2] == 0
    assert second == (first[0], 0, first[1])


def test_a_prefix_below_the_minimum_is_not_cached() -> None:
    cache = PrefixCache(min_tokens=1024)
    request = body({"type": "text", "text": "q"}, system=[marked("short")])
    assert usage(cache, request)[1:] == (0, 0)


def test_a_longer_request_reads_the_shared_prefix_and_writes_the_rest() -> None:
    cache = PrefixCache()
    usage(cache, body(marked("first"), system=[marked(LONG)]))
    total, written, read = usage(cache, body(marked("first and then some more"), system=[marked(LONG)]))
    assert read > 2000 and written > 0 and total == 0


def test_unmarked_requests_are_never_cached() -> None:
    cache = PrefixCache()
    request = body({"type": "text", "text": LONG})
    usage(cache, request)
    assert usage(cache, request)[1:] == (0, 0)


def test_more_than_four_breakpoints_are_refused() -> None:
    request = body(*(marked(str(n)) for n in range(5)))
    assert validate_request(request) == "A maximum of 4 blocks with cache_control may be provided. Found 5."


def test_a_tool_result_without_its_tool_use_is_refused() -> None:
    request = {
        "model": "m",
        "max_tokens": 10,
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "x"}]},
        ],
    }
    assert validate_request(request) == "messages.2: unexpected `tool_use_id` found in `tool_result` blocks"


def test_a_tool_use_left_unanswered_is_refused() -> None:
    request = {
        "model": "m",
        "max_tokens": 10,
        "messages": [
            {"role": "user", "content": "hi"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "toolu_1", "name": "t", "input": {}}],
            },
            {"role": "user", "content": "and?"},
        ],
    }
    assert "without `tool_result` blocks immediately after: toolu_1" in (validate_request(request) or "")
