"""The LLM layer: the Anthropic client wrapper, usage accounting and the price table."""

from forgeguard_app.llm.accounting import CallContext, Usage, cost_usd, intake_cost
from forgeguard_app.llm.client import LLM, LLMError, LLMUnavailable, ToolCallResult, ToolUse, text_block, tool

__all__ = [
    "LLM",
    "CallContext",
    "LLMError",
    "LLMUnavailable",
    "ToolCallResult",
    "ToolUse",
    "Usage",
    "cost_usd",
    "intake_cost",
    "text_block",
    "tool",
]
