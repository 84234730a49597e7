"""The intake's progress comment, as a pure function of its state, and Markdown escaping of untrusted text."""

from __future__ import annotations

import pathlib
from decimal import Decimal
from typing import Any

import jinja2

from checks.render import escape
from forgeguard_app.intake.sections import BY_KEY, SECTIONS
from forgeguard_app.intake.state import IntakeState

TEMPLATES = pathlib.Path(__file__).resolve().parents[1] / "templates"
INLINE_LIMIT = 600


def md(text: Any, limit: int = INLINE_LIMIT) -> str:
    """Untrusted text made safe inline in Markdown: no HTML, no @-mentions, no formatting, one line."""
    value = " ".join(str(text).split())
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return escape(value)


def environment() -> jinja2.Environment:
    """The intake's templates: Markdown, not HTML, so escaping is explicit through the `md` filter."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - Markdown output; untrusted values go through `md`
        keep_trailing_newline=True,
        trim_blocks=False,
    )
    env.filters["md"] = md
    return env


def format_cost(cost_usd: Decimal | None) -> str:
    if cost_usd is None:
        return "unknown"
    return f"${cost_usd:.4f}" if cost_usd < 1 else f"${cost_usd:.2f}"


def render_progress(state: IntakeState, cost_usd: Decimal | None, notes: list[str] | None = None) -> str:
    """The progress comment: the sections as a checklist, what was understood, open questions, cost."""
    current = BY_KEY.get(state.current or "")
    return (
        environment()
        .get_template("intake/progress.md.j2")
        .render(
            title=state.title,
            state=state,
            sections=SECTIONS,
            current_title=current.title if current else "",
            notes=notes or [],
            cost=format_cost(cost_usd),
        )
    )
