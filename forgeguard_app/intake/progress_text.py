"""The text of the intake's progress comment, as a pure function of its state (Markdown, escaped by
`forgeguard_app.markdown`: every value from people or the model is untrusted)."""

from __future__ import annotations

from decimal import Decimal

import jinja2

from forgeguard_app.intake.sections import BY_KEY, SECTIONS
from forgeguard_app.intake.state import IntakeState
from forgeguard_app.markdown import Trusted, markdown_env

_ENV: jinja2.Environment | None = None


def environment() -> jinja2.Environment:
    """The Markdown environment of the intake's templates (built once)."""
    global _ENV
    if _ENV is None:
        _ENV = markdown_env("templates")
    return _ENV


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
            sections=[{"key": s.key, "title": Trusted(s.title)} for s in SECTIONS],
            current_title=Trusted(current.title if current else ""),
            notes=notes or [],
            cost=Trusted(format_cost(cost_usd)),
        )
    )
