"""The builder's conversation: a JSON-serialisable message list and the helpers that keep it valid.

The core stores `Conversation.to_json()` after every model turn and tool call
and rebuilds it with `Conversation.from_json()`. The list is always a valid
Messages API history: it starts with a user turn, roles alternate, every
`tool_use` of an assistant turn is answered by one `tool_result` in the next
user turn, in order, and text blocks (phase turns, interjections, nudges)
come after the tool results of their turn, as the API requires.

Compaction (`compact`) runs near the model's context limit. It keeps the
system prompt (the contracts live there), every turn of the current phase
and every audit finding (the `sign_off_phase` results), and replaces older
tool outputs and written file contents with one-line stubs; if that is not
enough, the earlier phases are folded into one digest turn that still carries
every audit verdict and every interjection.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from checks.model import AuditReport
from forgeguard_app.builder import prompt
from forgeguard_app.builder.schemas import SIGN_OFF_PHASE, WRITE_FILE, validate_input
from forgeguard_app.intake.phases import Phase
from forgeguard_app.llm.client import EPHEMERAL, ToolUse

CHARS_PER_TOKEN = 3.5
"""A conservative guess (code and JSON tokenize densely); `calibrate` lowers it when the API counts denser."""
MIN_CHARS_PER_TOKEN = 1.5
DEFAULT_CONTEXT_TOKENS = 200_000
COMPACT_AT = 0.75
"""Compact when the estimated prompt passes this share of the context window…"""
COMPACT_TO = 0.45
"""…down to this share, so that compaction (which costs a cache rewrite) stays rare."""
STUB_OVER_CHARS = 400
"""Tool outputs and file contents longer than this are stubbed when compacted."""

TRUNCATED_ERROR = (
    "This tool call was cut off at the output token limit, so its input is incomplete and it was not run. "
    "Call the tool again; split a large file into several smaller write_file calls if needed."
)
NUDGE_END_TURN = (
    "Continue the current phase with the tools. When its exit criteria are met, call sign_off_phase."
)
NUDGE_MAX_TOKENS = (
    "Your reply was cut off at the output token limit. Continue where you stopped, using the tools; "
    "keep each tool call small enough to fit."
)


@dataclass(frozen=True)
class FailedCheck:
    """A check that failed an attempt, with its findings as `path:line: message` lines."""

    code: str
    name: str
    detail: str
    findings: tuple[str, ...] = ()


def failed_checks(report: AuditReport) -> list[FailedCheck]:
    """The blocking failures of an audit, in check order, each with all its findings."""
    out = []
    for result in report.results:
        if not result.blocks:
            continue
        lines = []
        for finding in result.findings:
            where = f"{finding.path}:{finding.start_line}" if finding.start_line else finding.path
            lines.append(f"{where}: {finding.message}" if where else finding.message)
        out.append(FailedCheck(result.code, result.name, result.detail, tuple(lines)))
    return out


@dataclass(frozen=True)
class SignoffVerdict:
    """What `sign_off_phase` answers: PASS or FAIL for `Phase <N> -- <name>`, failures, the plan."""

    passed: bool
    phase: Phase
    failed: tuple[FailedCheck, ...] = ()
    plan: str | None = None
    """The recovery planner's remediation plan as text; None when there is none (or the planner failed)."""
    notes: tuple[str, ...] = ()
    """Further lines the core wants the model to read (the test run's status, the attempt number…)."""


def signoff_text(verdict: SignoffVerdict) -> str:
    """The sign-off result: `PASS`/`FAIL`, the phase, every failed check with its findings, the plan."""
    return prompt.render_signoff(verdict)


@dataclass
class Conversation:
    """The builder's message history plus what is needed to keep it valid and compact it."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    phase_start: int = 0
    """Index of the user message that opened the current phase."""
    phase_number: int | None = None
    truncated: list[str] = field(default_factory=list)
    """Ids of tool_use blocks cut off at max_tokens: answered with an error, never run."""
    idle_turns: int = 0
    """Consecutive model turns without a tool call (the core may pause after a few)."""
    compactions: int = 0
    chars_per_token: float = CHARS_PER_TOKEN
    """Characters of a request per token the API counted (the densest seen, at most CHARS_PER_TOKEN)."""

    # persistence ----------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready copy (`json.dumps` works on it)."""
        return {
            "messages": copy.deepcopy(self.messages),
            "phase_start": self.phase_start,
            "phase_number": self.phase_number,
            "truncated": list(self.truncated),
            "idle_turns": self.idle_turns,
            "compactions": self.compactions,
            "chars_per_token": self.chars_per_token,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str | None) -> Conversation:
        """The conversation saved by `to_json` (a mapping or its JSON text); None gives an empty one."""
        if data is None:
            return cls()
        raw = json.loads(data) if isinstance(data, str) else data
        return cls(
            messages=copy.deepcopy(list(raw.get("messages", []))),
            phase_start=int(raw.get("phase_start", 0)),
            phase_number=raw.get("phase_number"),
            truncated=list(raw.get("truncated", [])),
            idle_turns=int(raw.get("idle_turns", 0)),
            compactions=int(raw.get("compactions", 0)),
            chars_per_token=float(raw.get("chars_per_token", CHARS_PER_TOKEN)),
        )

    # state ------------------------------------------------------------------------------------------

    @property
    def last_role(self) -> str | None:
        return self.messages[-1]["role"] if self.messages else None

    def pending_calls(self) -> list[ToolUse]:
        """The last assistant turn's tool calls not yet answered, in order, each with why it cannot run.

        `errors` is empty for a call to execute; otherwise answer it with
        `add_tool_result(call.id, "\\n".join(call.errors), is_error=True)`.
        """
        uses = self._last_tool_uses()
        answered = self._answered_ids()
        out = []
        for block in uses:
            if block["id"] in answered:
                continue
            if block["id"] in self.truncated:
                errors: tuple[str, ...] = (TRUNCATED_ERROR,)
            else:
                errors = tuple(validate_input(block["name"], block.get("input")))
            raw = block.get("input")
            out.append(
                ToolUse(
                    id=block["id"],
                    name=block["name"],
                    input=raw if isinstance(raw, dict) else {},
                    errors=errors,
                )
            )
        return out

    def next_call(self) -> ToolUse | None:
        """The next tool call to answer, or None when every call of the last turn is answered."""
        pending = self.pending_calls()
        return pending[0] if pending else None

    @property
    def ready(self) -> bool:
        """True when the next model turn can be taken: a user turn last and every tool call answered."""
        return self.last_role == "user" and not self.pending_calls()

    # appending --------------------------------------------------------------------------------------

    def start_phase(self, phase: Phase, *, total: int | None = None, note: str | None = None) -> None:
        """The user turn that opens `phase` (`Phase <N> -- <name>`, objective, deliverables, exit criteria).

        It joins the sign-off result of the previous phase when that is still
        the open user turn. `note` is trusted text from the app (e.g. "the
        previous phase was skipped by a person").
        """
        self._user_text(prompt.render_phase_turn(phase, total=total, note=note))
        self.phase_start = len(self.messages) - 1
        self.phase_number = phase.number

    def add_assistant(self, content: Sequence[Mapping[str, Any]], *, truncated: Iterable[str] = ()) -> None:
        """The model's turn (from `TurnResult.content`); `truncated` names tool calls cut at max_tokens."""
        if self.last_role != "user":
            raise ValueError("an assistant turn must follow a user turn")
        if self.pending_calls():
            raise ValueError("the last assistant turn still has unanswered tool calls")
        blocks = [dict(b) for b in content if not (b.get("type") == "text" and not b.get("text"))]
        if not blocks:
            blocks = [{"type": "text", "text": "(no output)"}]
        self.messages.append({"role": "assistant", "content": blocks})
        self.truncated.extend(truncated)
        has_tools = any(b.get("type") == "tool_use" for b in blocks)
        self.idle_turns = 0 if has_tools else self.idle_turns + 1

    def add_tool_result(self, tool_use_id: str, text: str, *, is_error: bool = False) -> None:
        """The result of the next pending tool call (results must come in the order of the calls)."""
        expected = self.next_call()
        if expected is None:
            raise ValueError("no tool call is waiting for a result")
        if expected.id != tool_use_id:
            raise ValueError(f"the next result must answer {expected.id}, not {tool_use_id}")
        block: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": tool_use_id,
            "content": text if text else "(empty)",
        }
        if is_error:
            block["is_error"] = True
        content = self._open_user_turn()
        at = next((i for i, b in enumerate(content) if b.get("type") != "tool_result"), len(content))
        content.insert(at, block)

    def answer_pending(self, text: str, *, is_error: bool = True) -> int:
        """Answer every call still pending with the same text (a cancel, a skip); returns how many."""
        pending = self.pending_calls()
        for call in pending:
            self.add_tool_result(call.id, text, is_error=is_error)
        return len(pending)

    def add_signoff_result(self, tool_use_id: str, verdict: SignoffVerdict) -> None:
        """The answer to `sign_off_phase`: `signoff_text(verdict)`, flagged `is_error` on FAIL."""
        self.add_tool_result(tool_use_id, signoff_text(verdict), is_error=not verdict.passed)

    def add_interjection(self, text: str, *, login: str, kind: str = "say") -> None:
        """A person's message (`/forge say`, or `retry`'s message), framed as untrusted data.

        It may arrive while tool calls are pending: it then follows their
        results in the same user turn, before the next model turn.
        """
        self._user_text(prompt.render_interjection(text, login=login, kind=kind))

    def add_note(self, text: str) -> None:
        """Text from the app itself (a nudge, a pause's reason) for the next turn; our tags are defused."""
        self._user_text(prompt.fence(text))

    # the request ------------------------------------------------------------------------------------

    def request_messages(self, *, cache: bool = True) -> list[dict[str, Any]]:
        """The messages to send: a copy with one cache breakpoint on the last block (the moving prefix)."""
        if not self.ready:
            raise ValueError("the conversation is not ready for a model turn (unanswered tool calls?)")
        messages = copy.deepcopy(self.messages)
        if cache:
            last = messages[-1]
            if isinstance(last["content"], str):
                last["content"] = [{"type": "text", "text": last["content"]}]
            last["content"][-1]["cache_control"] = dict(EPHEMERAL)
        return messages

    # compaction -------------------------------------------------------------------------------------

    def prompt_chars(self, *, system: Any = None, tools: Any = None) -> int:
        """The size of the prompt as JSON characters (messages, and system and tools when given)."""
        size = len(json.dumps(self.messages, ensure_ascii=False))
        if system is not None:
            size += len(json.dumps(system, ensure_ascii=False))
        if tools is not None:
            size += len(json.dumps(tools, ensure_ascii=False))
        return size

    def estimate_tokens(self, *, system: Any = None, tools: Any = None) -> int:
        """An estimate of the prompt's size in tokens (its JSON characters over `chars_per_token`)."""
        return math.ceil(self.prompt_chars(system=system, tools=tools) / self.chars_per_token)

    def calibrate(self, prompt_chars: int, prompt_tokens: int) -> None:
        """Learn from the API's count of a request (`Usage.total_input_tokens`) not to fall short of it."""
        if prompt_chars <= 0 or prompt_tokens <= 0:
            return
        measured = max(prompt_chars / prompt_tokens, MIN_CHARS_PER_TOKEN)
        self.chars_per_token = min(self.chars_per_token, measured)

    def needs_compaction(
        self, *, system: Any = None, tools: Any = None, context_tokens: int = DEFAULT_CONTEXT_TOKENS
    ) -> bool:
        return self.estimate_tokens(system=system, tools=tools) > context_tokens * COMPACT_AT

    def compact(
        self,
        *,
        system: Any = None,
        tools: Any = None,
        context_tokens: int = DEFAULT_CONTEXT_TOKENS,
        force: bool = False,
    ) -> bool:
        """Shrink the history below COMPACT_TO of the window when it passed COMPACT_AT; True if it did.

        `force` compacts whatever the estimate says (the API found the prompt too long).

        1. stub long tool outputs and written contents before the current phase;
        2. fold the earlier phases into one digest turn (audit verdicts and interjections kept whole);
        3. stub long tool outputs of the current phase, keeping its last four messages whole;
        4. as a last resort, stub those too (the current phase alone outgrew the window).
        Audit verdicts (`sign_off_phase` results) are never stubbed.
        """
        if not force and not self.needs_compaction(system=system, tools=tools, context_tokens=context_tokens):
            return False
        target = context_tokens * COMPACT_TO
        if force:  # our estimate fell short of the API's count: halve what we hold, at least
            target = min(target, self.estimate_tokens(system=system, tools=tools) / 2)

        def small_enough() -> bool:
            return self.estimate_tokens(system=system, tools=tools) <= target

        self._stub_range(0, self.phase_start)
        if not small_enough():
            self._fold_earlier_phases()
        if not small_enough():
            keep_last = 4
            self._stub_range(self.phase_start + 1, max(self.phase_start + 1, len(self.messages) - keep_last))
        if not small_enough():
            self._stub_range(self.phase_start + 1, len(self.messages))
        self.compactions += 1
        return True

    # internals --------------------------------------------------------------------------------------

    def _last_tool_uses(self) -> list[dict[str, Any]]:
        for message in reversed(self.messages):
            if message["role"] == "assistant":
                content = message["content"]
                if isinstance(content, str):
                    return []
                return [b for b in content if b.get("type") == "tool_use"]
        return []

    def _answered_ids(self) -> set[str]:
        if self.last_role != "user" or len(self.messages) < 2:
            return set()
        content = self.messages[-1]["content"]
        if isinstance(content, str):
            return set()
        return {b["tool_use_id"] for b in content if b.get("type") == "tool_result"}

    def _open_user_turn(self) -> list[dict[str, Any]]:
        """The trailing user turn's content list (a new user turn when the assistant spoke last)."""
        if self.last_role != "user":
            self.messages.append({"role": "user", "content": []})
        last = self.messages[-1]
        if isinstance(last["content"], str):
            last["content"] = [{"type": "text", "text": last["content"]}]
        content: list[dict[str, Any]] = last["content"]
        return content

    def _user_text(self, text: str) -> None:
        # text goes after the turn's tool results, which `add_tool_result` keeps in front
        self._open_user_turn().append({"type": "text", "text": text})

    def _names_by_id(self) -> dict[str, str]:
        names = {}
        for message in self.messages:
            if message["role"] == "assistant" and isinstance(message["content"], list):
                for block in message["content"]:
                    if block.get("type") == "tool_use":
                        names[block["id"]] = block["name"]
        return names

    def _stub_range(self, start: int, stop: int) -> None:
        names = self._names_by_id()
        for message in self.messages[start:stop]:
            content = message["content"]
            if isinstance(content, str):
                continue
            for block in content:
                if block.get("type") == "tool_result":
                    name = names.get(block["tool_use_id"], "tool")
                    if name == SIGN_OFF_PHASE:
                        continue
                    body = _result_text(block)
                    if len(body) > STUB_OVER_CHARS:
                        block["content"] = _stub(f"{name} result", body)
                elif block.get("type") == "tool_use" and block.get("name") == WRITE_FILE:
                    data = block.get("input")
                    if isinstance(data, dict) and len(str(data.get("content", ""))) > STUB_OVER_CHARS:
                        block["input"] = {**data, "content": _stub("file content", str(data["content"]))}
                elif (
                    block.get("type") == "tool_use"
                    and len(json.dumps(block.get("input"))) > STUB_OVER_CHARS * 4
                ):
                    block["input"] = {"compacted": _stub("tool input", json.dumps(block.get("input")))}
                elif (
                    message["role"] == "assistant"
                    and block.get("type") == "text"
                    and len(block["text"]) > STUB_OVER_CHARS * 2
                ):
                    block["text"] = block["text"][:STUB_OVER_CHARS] + " […compacted]"

    def _fold_earlier_phases(self) -> None:
        """Replace every turn before the current phase's opening turn with one digest user turn."""
        if self.phase_start <= 0:
            return
        names = self._names_by_id()
        verdicts: list[str] = []
        interjections: list[str] = []
        for message in self.messages[: self.phase_start + 1]:
            content = message["content"]
            if message["role"] != "user" or isinstance(content, str):
                continue
            for block in content:
                if block.get("type") == "tool_result" and names.get(block["tool_use_id"]) == SIGN_OFF_PHASE:
                    verdicts.append(_result_text(block))
                elif block.get("type") == "text" and prompt.is_interjection(block["text"]):
                    interjections.append(block["text"])
        opening = self.messages[self.phase_start]["content"]
        kept = [b for b in opening if b.get("type") == "text" and not prompt.is_interjection(b["text"])]
        digest = prompt.render_digest(verdicts=verdicts, interjections=interjections)
        rest = self.messages[self.phase_start + 1 :]
        self.messages = [{"role": "user", "content": [{"type": "text", "text": digest}, *kept]}, *rest]
        self.phase_start = 0
        self.truncated = [i for i in self.truncated if i in self._names_by_id()]


def _result_text(block: Mapping[str, Any]) -> str:
    content = block.get("content", "")
    if isinstance(content, str):
        return content
    return "\n".join(b.get("text", "") for b in content if isinstance(b, dict))


def _stub(what: str, body: str) -> str:
    first = body.strip().splitlines()[0][:160] if body.strip() else ""
    return f"[{what} compacted: {len(body):,} characters; it began: {first}]"
