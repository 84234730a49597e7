"""The Anthropic client wrapper: structured answers through tool use, streaming, caching, accounting.

Answers are never parsed from free text: every call offers tools with JSON
schemas, and every tool input the model returns is validated against its
tool's schema (the errors travel with the `ToolUse`, for the caller to send
back). Rate limits and overloads are retried by the SDK; when they persist the
call raises `LLMUnavailable`, which callers turn into "the model is
unavailable, we wait and resume".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import anthropic
import jsonschema

from forgeguard_app.llm.accounting import CallContext, Usage, cost_usd, record_call

if TYPE_CHECKING:
    from forgeguard_app.db import Database
    from forgeguard_app.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_MAX_RETRIES = 4
STREAM_FROM_MAX_TOKENS = 8192
"""Calls allowed this many output tokens or more are streamed (long outputs)."""
EPHEMERAL: dict[str, str] = {"type": "ephemeral"}


class LLMError(Exception):
    """The model call failed for a reason retrying will not fix (bad request, bad key)."""


class LLMUnavailable(LLMError):
    """The model is rate limited, overloaded or unreachable, also after retries: wait and resume."""


@dataclass(frozen=True)
class ToolUse:
    """One tool call of the model, with its input checked against the tool's input schema."""

    id: str
    name: str
    input: dict[str, Any]
    errors: tuple[str, ...] = ()
    """Schema violations of `input`, or an unknown tool; empty when valid."""

    @property
    def valid(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class ToolCallResult:
    """What the model answered: its tool calls, any text, usage and cost."""

    model: str
    tool_uses: list[ToolUse]
    text: str
    stop_reason: str | None
    usage: Usage
    cost_usd: Decimal | None
    content: list[dict[str, Any]] = field(default_factory=list)
    """The assistant content blocks, ready to append to `messages` as the assistant turn."""

    def first(self, name: str) -> ToolUse | None:
        return next((t for t in self.tool_uses if t.name == name), None)


def text_block(text: str, *, cache: bool = False) -> dict[str, Any]:
    """A text content block; `cache=True` puts a cache breakpoint after it."""
    block: dict[str, Any] = {"type": "text", "text": text}
    if cache:
        block["cache_control"] = dict(EPHEMERAL)
    return block


def tool(name: str, description: str, schema: Mapping[str, Any], *, cache: bool = False) -> dict[str, Any]:
    """A tool definition; `cache=True` on the last tool caches the whole tool list."""
    spec: dict[str, Any] = {"name": name, "description": description, "input_schema": dict(schema)}
    if cache:
        spec["cache_control"] = dict(EPHEMERAL)
    return spec


def validate_tool_input(schema: Mapping[str, Any], value: Any) -> list[str]:
    """Every violation of `schema` in `value`, as `path: message` lines, sorted by path."""
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path))):
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        problems.append(f"{where}: {error.message}")
    return problems


def check_tool_uses(content: Iterable[Any], tools: Sequence[Mapping[str, Any]]) -> list[ToolUse]:
    """The tool_use blocks of a response, each validated against the schema of the tool it names."""
    schemas = {t["name"]: t.get("input_schema", {}) for t in tools}
    uses = []
    for block in content:
        if getattr(block, "type", None) != "tool_use":
            continue
        raw = block.input if isinstance(block.input, dict) else {}
        if block.name not in schemas:
            errors = [f"unknown tool {block.name!r}; the tools are {', '.join(sorted(schemas))}"]
        elif not isinstance(block.input, dict):
            errors = ["the tool input must be a JSON object"]
        else:
            errors = validate_tool_input(schemas[block.name], raw)
        uses.append(ToolUse(id=block.id, name=block.name, input=raw, errors=tuple(errors)))
    return uses


def usage_of(message: Any) -> Usage:
    u = message.usage
    return Usage(
        input_tokens=u.input_tokens or 0,
        output_tokens=u.output_tokens or 0,
        cache_creation_input_tokens=u.cache_creation_input_tokens or 0,
        cache_read_input_tokens=u.cache_read_input_tokens or 0,
    )


def _is_unavailable(exc: anthropic.APIError) -> bool:
    """Rate limits, overloads, server errors and lost connections: worth waiting for."""
    if isinstance(exc, anthropic.APIConnectionError):
        return True
    # an error event in the middle of a stream arrives with the stream's status, 200
    body = getattr(exc, "body", None)
    kind = body.get("error", {}).get("type") if isinstance(body, dict) else None
    if kind in ("overloaded_error", "rate_limit_error", "api_error", "timeout_error"):
        return True
    if isinstance(exc, anthropic.APIStatusError):
        return exc.status_code in (408, 429) or exc.status_code >= 500
    return False


class LLM:
    """The app's one way to call the model; every call is recorded in `llm_calls` when a db is given."""

    def __init__(
        self,
        settings: Settings,
        db: Database | None = None,
        *,
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout: float = 600.0,
    ) -> None:
        if not settings.anthropic_api_key:
            raise LLMError("ANTHROPIC_API_KEY is not set: the intake needs the model")
        self.settings = settings
        self.db = db
        self.client = anthropic.AsyncAnthropic(
            api_key=settings.anthropic_api_key,
            base_url=settings.anthropic_base_url,
            max_retries=max_retries,
            timeout=timeout,
        )

    async def close(self) -> None:
        await self.client.close()

    async def call_tool(
        self,
        *,
        purpose: str,
        model: str,
        system: str | list[dict[str, Any]],
        messages: list[dict[str, Any]],
        tools: Sequence[Mapping[str, Any]],
        tool_choice: Mapping[str, Any] | None = None,
        max_tokens: int = 4096,
        stream: bool | None = None,
        context: CallContext | None = None,
    ) -> ToolCallResult:
        """One Messages API call offering `tools`; long outputs (or `stream=True`) are streamed.

        Raises `LLMUnavailable` when the API stays rate limited or overloaded
        after the SDK's retries, `LLMError` for other failures. The call is
        recorded either way.
        """
        ctx = context or CallContext()
        streaming = stream if stream is not None else max_tokens >= STREAM_FROM_MAX_TOKENS
        params: dict[str, Any] = {
            "model": model,
            "max_tokens": max_tokens,
            "system": system,
            "messages": messages,
            "tools": list(tools),
        }
        if tool_choice is not None:
            params["tool_choice"] = dict(tool_choice)
        started = time.monotonic()
        try:
            if streaming:
                async with self.client.messages.stream(**params) as events:
                    message: Any = await events.get_final_message()
                    request_id = events.request_id
            else:
                message = await self.client.messages.create(**params)
                request_id = getattr(message, "_request_id", None)
        except anthropic.APIError as exc:
            unavailable = _is_unavailable(exc)
            status = "unavailable" if unavailable else "error"
            reason = _describe(exc)
            await self._record(purpose, model, ctx, Usage(), None, started, status, reason, None)
            log.warning("model call %s failed (%s): %s", purpose, status, reason)
            if unavailable:
                raise LLMUnavailable(f"the model is unavailable: {reason}") from exc
            raise LLMError(f"the model call failed: {reason}") from exc

        usage = usage_of(message)
        cost = cost_usd(model, usage)
        await self._record(purpose, model, ctx, usage, cost, started, "ok", None, request_id)
        content = [_block_param(b) for b in message.content]
        return ToolCallResult(
            model=model,
            tool_uses=check_tool_uses(message.content, tools),
            text="".join(b.text for b in message.content if b.type == "text"),
            stop_reason=message.stop_reason,
            usage=usage,
            cost_usd=cost,
            content=[c for c in content if c is not None],
        )

    async def _record(
        self,
        purpose: str,
        model: str,
        ctx: CallContext,
        usage: Usage,
        cost: Decimal | None,
        started: float,
        status: str,
        error: str | None,
        request_id: str | None,
    ) -> None:
        if self.db is None:
            return
        await record_call(
            self.db,
            purpose=purpose,
            model=model,
            context=ctx,
            usage=usage,
            cost=cost,
            duration_ms=int((time.monotonic() - started) * 1000),
            status=status,
            error=error,
            request_id=request_id,
        )


def _describe(exc: anthropic.APIError) -> str:
    """A short reason without request content or credentials."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = cast(dict[str, Any], body["error"])
        return f"{err.get('type', 'error')}: {err.get('message', '')}".strip()
    if isinstance(exc, anthropic.APIStatusError):
        return f"HTTP {exc.status_code}"
    return type(exc).__name__


def _block_param(block: Any) -> dict[str, Any] | None:
    """A response content block as a request content block (for the next turn)."""
    if block.type == "text":
        return {"type": "text", "text": block.text}
    if block.type == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    return None
