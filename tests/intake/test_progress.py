"""The progress comment as a pure function of the state, with untrusted text escaped."""

from __future__ import annotations

from decimal import Decimal

from forgeguard_app.intake.progress_text import render_progress
from forgeguard_app.intake.state import IntakeState, Question
from forgeguard_app.markdown import md
from tests.intake.scripted import SAMPLE


def test_the_eight_sections_show_as_a_checklist_with_what_was_understood() -> None:
    state = IntakeState(title="Shelf")
    state.record("product_intent", SAMPLE["product_intent"], "A lending library for books.")
    text = render_progress(state, Decimal("0.0123"))
    assert "- [x] **Product intent**: A lending library for books." in text
    assert "- [ ] **Tech stack** ← current" in text
    assert text.count("- [ ]") == 7


def test_the_open_questions_show_with_their_suggested_defaults() -> None:
    state = IntakeState(questions=[Question("Which database?", "PostgreSQL"), Question("Any frontend?")])
    text = render_progress(state, Decimal(0))
    assert "1. Which database? _Suggested: PostgreSQL_" in text
    assert "2. Any frontend?\n" in text


def test_the_cost_so_far_is_shown() -> None:
    assert "Model cost so far: $0.0123" in render_progress(IntakeState(), Decimal("0.0123"))


def test_an_unknown_cost_says_so() -> None:
    assert "Model cost so far: unknown" in render_progress(IntakeState(), None)


def test_notes_are_shown_as_quotes() -> None:
    text = render_progress(IntakeState(), Decimal(0), notes=["That comment was empty."])
    assert "> That comment was empty." in text


def test_a_finished_intake_says_the_contracts_pull_request_follows() -> None:
    state = IntakeState(finished=True, current=None)
    text = render_progress(state, Decimal(0))
    assert "writes the contracts and opens their pull request" in text
    assert "`/forge contracts` writes the contracts again" in text


def test_mentions_in_untrusted_text_do_not_ping_anyone() -> None:
    assert "@" + "\u200b" + "octocat" in md("ask @octocat")


def test_html_in_untrusted_text_is_neutralised() -> None:
    assert md('<img src=x onerror="alert(1)">') == '&lt;img src=x onerror="alert(1)"&gt;'


def test_markdown_in_untrusted_text_cannot_format_or_link() -> None:
    assert md("**bold** [link](http://x) `code`") == "\\*\\*bold\\*\\* \\[link\\](http:\u200b//x) \\`code\\`"


def test_untrusted_text_stays_on_one_line() -> None:
    assert md("one\n\n## two") == r"one \#\# two"


def test_untrusted_text_in_the_progress_comment_is_escaped() -> None:
    state = IntakeState(title="@everyone <b>hi</b>", questions=[Question("Ping @admin?", "<script>")])
    text = render_progress(state, Decimal(0))
    assert "@everyone" not in text and "<b>" not in text and "<script>" not in text and "@admin" not in text
