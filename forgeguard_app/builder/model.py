"""One builder turn: the conversation sent to the model (streamed), its answer appended, nothing executed.

`take_turn` compacts the conversation when it nears the context window,
sends it with the contracts as the system prompt and the eleven tools
(streaming through `messages.stream`), and appends the assistant turn. It
never runs a tool: the core answers `conversation.pending_calls()` one by one
(several calls of one turn, in order). A `max_tokens` stop never crashes: a
tool call cut off mid-input is kept but marked (it is answered with an error
asking for the call again, smaller), and a turn cut off in its text gets a
note asking the model to go on. A turn without tool calls gets a nudge, and
`conversation.idle_turns` counts them.

Overloads and rate limits are retried by the SDK (`max_retries` of the LLM
client); when they persist, `ModelUnavailable` is raised for the core to turn
into a pause that resumes later. Every call is recorded in `llm_calls` with
purpose `builder`, the build id and the phase.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from forgeguard_app.builder.conversation import (
    DEFAULT_CONTEXT_TOKENS,
    NUDGE_END_TURN,
    NUDGE_MAX_TOKENS,
    Conversation,
)
from forgeguard_app.builder.prompt import system_blocks
from forgeguard_app.builder.schemas import builder_tools
from forgeguard_app.llm.accounting import CallContext, Usage
from forgeguard_app.llm.client import LLM, LLMError, LLMUnavailable, ToolUse

PURPOSE = "builder"
DEFAULT_MAX_TOKENS = 16_000


class ModelUnavailable(Exception):
    """The model stayed overloaded, rate limited or unreachable after the SDK's retries: pause and resume."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ModelFailed(Exception):
    """The call failed for a reason waiting will not fix (a bad request, a bad key): stop with the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TurnSettings:
    """How a builder turn calls the model; `cache`/`compact` exist so the benchmark can switch them off."""

    model: str
    max_tokens: int = DEFAULT_MAX_TOKENS
    context_tokens: int = DEFAULT_CONTEXT_TOKENS
    cache: bool = True
    compact: bool = True


@dataclass(frozen=True)
class TurnResult:
    """What one model turn produced (already appended to the conversation)."""

    calls: list[ToolUse]
    """The turn's tool calls in order; a call with `errors` must be answered with them, `is_error`."""
    text: str
    stop_reason: str | None
    usage: Usage
    cost_usd: Decimal | None
    compacted: bool = False
    notes: list[str] = field(default_factory=list)
    """What the turn added for the model besides its answer (a nudge after an idle or cut-off turn)."""

    @property
    def idle(self) -> bool:
        """True when the model called no tool in this turn."""
        return not self.calls


async def take_turn(
    llm: LLM,
    conversation: Conversation,
    contracts: Mapping[str, str],
    settings: TurnSettings,
    *,
    context: CallContext | None = None,
) -> TurnResult:
    """One model turn on `conversation` (mutated in place: compaction, then the assistant turn).

    `contracts` maps repository paths (`Forge/Contracts/...`) to their text.
    `context` carries the installation, build id and phase for `llm_calls`.
    A prompt the API finds too long is compacted (forced) and sent once
    more. Raises `ModelUnavailable` (pause, try later) or `ModelFailed`
    (stop); no assistant turn is appended when it raises.
    """
    if not conversation.ready:
        raise ValueError("answer every pending tool call before the next model turn")
    tools = builder_tools(cache=settings.cache)
    system = system_blocks(contracts, cache=settings.cache)
    compacted = False
    if settings.compact:
        compacted = conversation.compact(system=system, tools=tools, context_tokens=settings.context_tokens)
    for retry in (False, True):
        sent_chars = conversation.prompt_chars(system=system, tools=tools)
        try:
            result = await llm.call_tool(
                purpose=PURPOSE,
                model=settings.model,
                system=system,
                messages=conversation.request_messages(cache=settings.cache),
                tools=tools,
                max_tokens=settings.max_tokens,
                stream=True,
                context=context,
            )
            break
        except LLMUnavailable as exc:
            raise ModelUnavailable(_reason(exc)) from exc
        except LLMError as exc:
            # our estimate was short of the API's count: compact whatever it says, once
            if retry or not settings.compact or not _too_long(exc):
                raise ModelFailed(_reason(exc)) from exc
            conversation.compact(
                system=system, tools=tools, context_tokens=settings.context_tokens, force=True
            )
            compacted = True

    conversation.calibrate(sent_chars, result.usage.total_input_tokens)
    content: list[dict[str, Any]] = list(result.content)
    cut_id = _cut_tool_use(content) if result.stop_reason == "max_tokens" else None
    conversation.add_assistant(content, truncated=[cut_id] if cut_id else [])
    calls = conversation.pending_calls()  # validated against our schemas, the cut call marked
    notes: list[str] = []
    if not calls:
        note = NUDGE_MAX_TOKENS if result.stop_reason == "max_tokens" else NUDGE_END_TURN
        conversation.add_note(note)
        notes.append(note)
    return TurnResult(
        calls=calls,
        text=result.text,
        stop_reason=result.stop_reason,
        usage=result.usage,
        cost_usd=result.cost_usd,
        compacted=compacted,
        notes=notes,
    )


def _reason(exc: LLMError) -> str:
    """The API's reason (`overloaded_error: Overloaded`), without the client's lead-in."""
    text = str(exc)
    for lead in ("the model is unavailable: ", "the model call failed: "):
        text = text.removeprefix(lead)
    return text


def _too_long(exc: LLMError) -> bool:
    """The API refused the prompt for its length (400 `prompt is too long: N tokens > M maximum`)."""
    return "prompt is too long" in str(exc).lower()


def _cut_tool_use(content: list[dict[str, Any]]) -> str | None:
    """The id of the tool call a max_tokens stop cut off (the last block, when it is a tool_use)."""
    if content and content[-1].get("type") == "tool_use":
        return str(content[-1]["id"])
    return None
