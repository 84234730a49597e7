"""The questionnaire: one turn of the intake conversation with the model.

Given the saved state and a new answer, the model is called with three
tools: `ask_questions`, `record_section` (its data validated against the
section's schema; an invalid one goes back to the model as an error result and
is not stored) and `finish`. Nothing the model can call changes anything but
the questionnaire's own state.

The prompt is laid out for prompt caching: tools and the system prompt (the
instructions and all eight schemas) are stable and end in a cache breakpoint;
the per-turn part comes after, in the user turn: the recorded sections as
data, earlier choices of this installation, the last few turns verbatim
(history trimming), and the answer between `<answer>` tags. People's text
never enters the system prompt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jinja2

from forgeguard_app.intake.sections import BY_KEY, SECTION_KEYS, SECTIONS, schemas_document, validate_section
from forgeguard_app.intake.state import IntakeState, Question
from forgeguard_app.llm.accounting import CallContext, Usage
from forgeguard_app.llm.client import LLM, ToolUse, text_block, tool

MAX_ANSWER_CHARS = 12_000
KEEP_TURNS = 4
"""Transcript entries sent verbatim when trimming; older ones live on as recorded sections."""
MAX_INVALID = 3
MAX_CALLS_PER_TURN = 8
MAX_TOKENS = 4096

QUESTION = {
    "type": "object",
    "properties": {
        "question": {"type": "string", "minLength": 1, "maxLength": 500},
        "suggested_default": {"type": "string", "minLength": 1, "maxLength": 300},
    },
    "required": ["question"],
    "additionalProperties": False,
}
ASK_SCHEMA = {
    "type": "object",
    "properties": {
        "section": {"type": "string", "enum": list(SECTION_KEYS)},
        "questions": {"type": "array", "items": QUESTION, "minItems": 1, "maxItems": 4},
    },
    "required": ["section", "questions"],
    "additionalProperties": False,
}
RECORD_SCHEMA = {
    "type": "object",
    "properties": {
        "section": {"type": "string", "enum": list(SECTION_KEYS)},
        "data": {"type": "object", "description": "The section's data, valid against its schema."},
        "understood": {"type": "string", "minLength": 1, "maxLength": 400},
    },
    "required": ["section", "data", "understood"],
    "additionalProperties": False,
}
FINISH_SCHEMA = {
    "type": "object",
    "properties": {"summary": {"type": "string", "minLength": 1, "maxLength": 1000}},
    "required": ["summary"],
    "additionalProperties": False,
}


def intake_tools(*, cache: bool) -> list[dict[str, Any]]:
    return [
        tool("ask_questions", "Ask the people one to four focused questions about a section.", ASK_SCHEMA),
        tool("record_section", "Record a section's data once the answers suffice.", RECORD_SCHEMA),
        tool("finish", "End the intake once all eight sections are recorded.", FINISH_SCHEMA, cache=cache),
    ]


@lru_cache(maxsize=1)
def system_prompt() -> str:
    """The stable instructions and schemas (identical for every intake, so the API caches them)."""
    # A prompt for the model, not Markdown for GitHub: the values are ForgeGuard's own (section names,
    # the JSON schemas), rendered as they are.
    env = jinja2.Environment(  # noqa: S701
        loader=jinja2.PackageLoader("forgeguard_app", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    template = env.get_template("intake/system.md.j2")
    return template.render(sections=SECTIONS, schemas=schemas_document())


_DELIMITERS = re.compile(r"</?\s*(answer|recent_conversation|intake_state|turn)\b", re.IGNORECASE)


def fence(text: str) -> str:
    """People's text with our delimiter tags defused, so an answer cannot close its own `<answer>`."""
    return _DELIMITERS.sub(lambda m: m.group(0).replace("<", "‹"), text)


def clean_answer(text: str) -> tuple[str, list[str]]:
    """The answer as the model will see it, and notes for the people (truncation)."""
    value = text.strip()
    notes = []
    if len(value) > MAX_ANSWER_CHARS:
        notes.append(
            f"Your answer was {len(value):,} characters long; only the first {MAX_ANSWER_CHARS:,} were read."
        )
        value = value[:MAX_ANSWER_CHARS] + "\n[… answer truncated …]"
    return value, notes


@dataclass
class TurnOutcome:
    """What one turn did: the new state, what to tell people, what it cost."""

    state: IntakeState
    recorded: list[str] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    finished: bool = False
    calls: int = 0
    usage: Usage = field(default_factory=Usage)

    @property
    def asked(self) -> bool:
        return bool(self.questions)


class Questionnaire:
    """Runs intake turns against the model. `cache`/`trim` exist so the benchmark can turn them off."""

    def __init__(self, llm: LLM, model: str, *, cache: bool = True, trim: bool = True) -> None:
        self.llm = llm
        self.model = model
        self.cache = cache
        self.trim = trim

    async def start(
        self,
        state: IntakeState,
        description: str = "",
        *,
        suggestions: Mapping[str, Any] | None = None,
        context: CallContext | None = None,
    ) -> TurnOutcome:
        """The first turn: the issue's description (if any) is the first answer."""
        if description.strip():
            return await self.answer(state, description, suggestions=suggestions, context=context)
        prompt = "The intake has just started. Ask the first questions about the current section."
        return await self._turn(state.copy(), None, prompt, suggestions, context, [])

    async def resume(
        self,
        state: IntakeState,
        *,
        suggestions: Mapping[str, Any] | None = None,
        context: CallContext | None = None,
    ) -> TurnOutcome:
        """A turn without a new answer: after `back`/`edit`, ask about the reopened section."""
        prompt = f"The people reopened the section `{state.current}`. Ask what they want to change."
        return await self._turn(state.copy(), None, prompt, suggestions, context, [])

    async def answer(
        self,
        state: IntakeState,
        text: str,
        *,
        suggestions: Mapping[str, Any] | None = None,
        context: CallContext | None = None,
    ) -> TurnOutcome:
        """One answer from the issue: record what it settles, ask what is still open."""
        new = state.copy()
        value, notes = clean_answer(text)
        if not value:
            notes.append(
                "That comment was empty, so there was nothing to record; the questions below still stand."
            )
            return TurnOutcome(state=new, questions=list(new.questions), notes=notes)
        if new.finished:
            notes.append(
                "All sections are already recorded. Use `/forge edit <section>` to change one, "
                "or `/forge contracts` to generate the contracts."
            )
            return TurnOutcome(state=new, notes=notes, finished=True)
        new.add_turn("user", value)
        return await self._turn(new, value, None, suggestions, context, notes)

    # the turn ---------------------------------------------------------------------------------------

    def _system(self) -> list[dict[str, Any]]:
        return [text_block(system_prompt(), cache=self.cache)]

    def _context_blocks(
        self,
        state: IntakeState,
        answer: str | None,
        prompt: str | None,
        suggestions: Mapping[str, Any] | None,
    ) -> list[dict[str, Any]]:
        snapshot = {
            "project_title": state.title,
            "current_section": state.current,
            "remaining_sections": state.remaining,
            "recorded": state.sections,
            "revising": state.revising,
            "earlier_choices": dict(suggestions or {}),
        }
        blocks = [
            text_block(
                f"<intake_state>\n{fence(json.dumps(snapshot, indent=1, sort_keys=True))}\n</intake_state>"
            )
        ]
        history = state.transcript[:-1] if answer is not None else list(state.transcript)
        if self.trim and len(history) > KEEP_TURNS:
            omitted = len(history) - KEEP_TURNS
            history = history[-KEEP_TURNS:]
            header = f"({omitted} earlier messages omitted; what they settled is in `recorded`.)\n"
        else:
            header = ""
        if history:
            lines = [f'<turn role="{t.role}">\n{fence(t.text)}\n</turn>' for t in history]
            blocks.append(
                text_block(f"<recent_conversation>\n{header}" + "\n".join(lines) + "\n</recent_conversation>")
            )
        if answer is not None:
            final = f"<answer>\n{fence(answer)}\n</answer>"
        else:
            final = prompt or "Continue the intake."
        blocks.append(text_block(final, cache=self.cache))
        return blocks

    async def _turn(
        self,
        state: IntakeState,
        answer: str | None,
        prompt: str | None,
        suggestions: Mapping[str, Any] | None,
        context: CallContext | None,
        notes: list[str],
    ) -> TurnOutcome:
        outcome = TurnOutcome(state=state, notes=notes)
        messages: list[dict[str, Any]] = [
            {"role": "user", "content": self._context_blocks(state, answer, prompt, suggestions)}
        ]
        tools = intake_tools(cache=False)
        last_errors: list[str] = []
        while outcome.calls < MAX_CALLS_PER_TURN:
            result = await self.llm.call_tool(
                purpose="intake.turn",
                model=self.model,
                system=self._system(),
                messages=messages,
                tools=tools,
                tool_choice={"type": "any"},
                max_tokens=MAX_TOKENS,
                context=context,
            )
            outcome.calls += 1
            outcome.usage = outcome.usage + result.usage
            messages.append({"role": "assistant", "content": result.content or [text_block("(no answer)")]})
            if not result.tool_uses:
                messages.append({"role": "user", "content": "Please answer with one of the tools."})
                continue
            results: list[dict[str, Any]] = []
            done = False
            for use in result.tool_uses:
                reply, errors, ends = self._apply(state, use, outcome)
                results.append(_tool_result(use.id, reply, is_error=bool(errors)))
                if errors:
                    last_errors = errors
                done = done or ends
            if done:
                break
            if state.invalid_streak >= MAX_INVALID:
                section = BY_KEY[state.current].title if state.current in BY_KEY else "this section"
                outcome.notes.append(
                    f"I could not record {section}: three attempts in a row did not fit its format "
                    f"({'; '.join(last_errors[:3])}). Please answer again in a little more detail, or use "
                    "`/forge contracts` to continue with defaults."
                )
                state.invalid_streak = 0
                outcome.questions = list(state.questions)
                break
            messages.append({"role": "user", "content": results})
        else:
            outcome.notes.append(
                "The model did not come to a question this time; your answer is saved. "
                "Reply again (or use `/forge status`) to continue."
            )
            outcome.questions = list(state.questions)
        if outcome.questions:
            state.add_turn("assistant", "\n".join(_question_line(q) for q in outcome.questions))
        return outcome

    def _apply(self, state: IntakeState, use: ToolUse, outcome: TurnOutcome) -> tuple[str, list[str], bool]:
        """Carry out one tool call on the state: (tool result text, errors, whether the turn ends)."""
        if not use.valid:
            if use.name == "record_section":
                state.invalid_streak += 1
            return _errors_text(use.errors), list(use.errors), False
        if use.name == "record_section":
            key = use.input["section"]
            errors = validate_section(key, use.input["data"])
            if errors:
                state.invalid_streak += 1
                return _errors_text(errors), errors, False
            state.record(key, use.input["data"], use.input["understood"])
            outcome.recorded.append(key)
            if state.current is None:
                return "Recorded. All eight sections are recorded now: call `finish`.", [], False
            return f"Recorded `{key}`. Next section: `{state.current}` — ask about it.", [], False
        if use.name == "ask_questions":
            questions = [Question(q["question"], q.get("suggested_default")) for q in use.input["questions"]]
            state.questions = questions
            outcome.questions = questions
            return "The questions were posted; wait for the answer.", [], True
        # finish
        if state.remaining:
            missing = ", ".join(state.remaining)
            return (
                _errors_text([f"not every section is recorded yet: {missing}"]),
                ["sections missing"],
                False,
            )
        state.finished = True
        state.questions = []
        outcome.finished = True
        return "Finished.", [], True


def _tool_result(tool_use_id: str, text: str, *, is_error: bool) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id, "content": text}
    if is_error:
        block["is_error"] = True
    return block


def _errors_text(errors: list[str] | tuple[str, ...]) -> str:
    return "Not recorded: the input does not fit the schema.\n" + "\n".join(f"- {e}" for e in errors)


def _question_line(question: Question) -> str:
    suffix = f" (suggested: {question.suggestion})" if question.suggestion else ""
    return f"- {question.text}{suffix}"
