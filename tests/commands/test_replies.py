"""The command layer's short replies and the permission decision."""

from __future__ import annotations

import json
import pathlib

from forgeguard_app.commands.grammar import ParsedCommand
from forgeguard_app.commands.permissions import is_bot, permission_from_response
from forgeguard_app.commands.replies import help_text, ignored_others, unknown_command, wrong_place
from forgeguard_app.commands.table import BY_NAME, COMMANDS


def test_help_lists_every_command_of_the_table() -> None:
    text = help_text("forgeguard", COMMANDS)
    for command in COMMANDS:
        assert f"`/forge {command.usage}`" in text


def test_help_names_the_app_mention() -> None:
    assert "@acme-forge" in help_text("acme-forge", COMMANDS)


def test_an_unknown_command_reply_suggests_the_closest() -> None:
    assert "Did you mean `/forge approve`?" in unknown_command("aprove", BY_NAME)


def test_an_unknown_command_is_echoed_without_breaking_out_of_code() -> None:
    reply = unknown_command("x`y", BY_NAME)
    assert "`x y`" in reply


def test_the_wrong_place_reply_says_where_the_command_works() -> None:
    assert (
        wrong_place(BY_NAME["audit"], "issue") == "`/forge audit` works in a pull request, not in this issue."
    )


def test_write_permission_is_allowed() -> None:
    assert permission_from_response("octocat", {"permission": "write", "role_name": "write"}).allowed


def test_the_maintain_role_is_allowed() -> None:
    assert permission_from_response("octocat", {"permission": "write", "role_name": "maintain"}).allowed


def test_read_permission_is_refused_with_a_reason() -> None:
    permission = permission_from_response("octocat", {"permission": "read", "role_name": "triage"})
    assert not permission.allowed
    assert "`triage` access" in permission.refusal()


def test_a_user_github_does_not_know_is_refused() -> None:
    assert not permission_from_response("stranger", None).allowed


def test_a_bot_account_is_recognised_by_type() -> None:
    assert is_bot({"login": "dependabot", "type": "Bot"})


def test_a_bot_account_is_recognised_by_its_login() -> None:
    assert is_bot({"login": "forgeguard[bot]", "type": "User"})


def test_the_corpus_comment_authors_are_people(shared_dir: pathlib.Path) -> None:
    payload = json.loads(
        (shared_dir / "github-corpus/webhooks/issue_comment/created.payload.json").read_text()
    )
    assert not is_bot(payload["comment"]["user"])


def test_an_ignored_command_word_with_backticks_stays_inside_its_code_span() -> None:
    others = [ParsedCommand(name="x`@team`y", args="", text="", line=1)]
    note = ignored_others(others)
    assert note.count("`") == 2 and note.endswith("`/forge x @team y`.")
