"""The comment grammar: which lines are commands, their arguments, suggestions and places."""

from __future__ import annotations

import json
import pathlib

from forgeguard_app.commands.grammar import first_command, misplaced, parse, suggest
from forgeguard_app.commands.table import BY_NAME, Place


def test_a_line_starting_with_forge_is_a_command() -> None:
    assert [c.name for c in parse("/forge audit")] == ["audit"]


def test_the_command_word_is_read_case_insensitively() -> None:
    assert [c.name for c in parse("/Forge STATUS")] == ["status"]


def test_a_command_after_other_text_on_the_line_is_not_a_command() -> None:
    assert parse("please run /forge audit") == []


def test_forge_must_be_a_whole_word() -> None:
    assert parse("/forgery audit") == []


def test_up_to_three_spaces_of_indentation_are_allowed() -> None:
    assert [c.name for c in parse("   /forge help")] == ["help"]


def test_four_spaces_of_indentation_are_an_indented_code_block() -> None:
    assert parse("text\n\n    /forge approve\n") == []


def test_lines_inside_a_fenced_code_block_are_not_commands() -> None:
    body = "Try this:\n```\n/forge approve\n```\n"
    assert parse(body) == []


def test_a_tilde_fence_hides_commands_too_and_closes() -> None:
    body = "~~~text\n/forge approve\n~~~\n/forge status"
    assert [c.name for c in parse(body)] == ["status"]


def test_a_line_starting_with_inline_code_is_not_a_command() -> None:
    assert parse("`/forge approve` is how you approve") == []


def test_a_quoted_command_is_not_a_command() -> None:
    assert parse("> /forge approve\n\nI agree with that") == []


def test_a_command_in_an_html_comment_is_not_a_command() -> None:
    assert parse("<!--\n/forge approve\n-->") == []


def test_the_app_mention_works_like_forge() -> None:
    assert [c.name for c in parse("@forgeguard status", slug="forgeguard")] == ["status"]


def test_the_app_slug_is_configurable() -> None:
    assert [c.name for c in parse("@acme-forge intake", slug="acme-forge")] == ["intake"]
    assert parse("@forgeguard intake", slug="acme-forge") == []


def test_another_users_mention_is_not_a_command() -> None:
    assert parse("@forgeguardian status", slug="forgeguard") == []


def test_arguments_are_the_rest_of_the_line() -> None:
    command = first_command("/forge edit   tech stack  ")
    assert command is not None
    assert (command.name, command.args) == ("edit", "tech stack")


def test_free_text_runs_on_to_the_following_lines() -> None:
    command = first_command("/forge revise use PostgreSQL\nand add an audit log table\n")
    assert command is not None
    assert command.args == "use PostgreSQL"
    assert command.text == "use PostgreSQL\nand add an audit log table"


def test_forge_alone_means_help() -> None:
    assert [c.name for c in parse("/forge")] == ["help"]


def test_every_command_line_is_found_in_order_and_the_first_runs() -> None:
    body = "/forge status\nsome words\n/forge approve"
    assert [c.name for c in parse(body)] == ["status", "approve"]
    first = first_command(body)
    assert first is not None and first.name == "status"
    assert first.text == "some words"


def test_an_unknown_command_gets_the_closest_known_one() -> None:
    assert suggest("aprove", BY_NAME) == "approve"
    assert suggest("stauts", BY_NAME) == "status"


def test_a_word_far_from_every_command_gets_no_suggestion() -> None:
    assert suggest("xylophone", BY_NAME) is None


def test_an_unknown_command_is_parsed_with_no_table_entry() -> None:
    command = first_command("/forge deploy now")
    assert command is not None
    assert command.name == "deploy" and command.name not in BY_NAME


def test_audit_is_misplaced_in_an_issue() -> None:
    assert misplaced(BY_NAME["audit"], frozenset({Place.ISSUE}))
    assert not misplaced(BY_NAME["audit"], frozenset({Place.PULL_REQUEST}))


def test_approve_is_allowed_only_in_a_contracts_pull_request() -> None:
    assert misplaced(BY_NAME["approve"], frozenset({Place.PULL_REQUEST}))
    assert not misplaced(BY_NAME["approve"], frozenset({Place.PULL_REQUEST, Place.CONTRACTS_PR}))


def test_a_real_comment_without_a_command_has_none(shared_dir: pathlib.Path) -> None:
    folder = shared_dir / "github-corpus/webhooks/issue_comment"
    for path in sorted(folder.glob("*.json")):
        body = json.loads(path.read_text())["comment"]["body"]
        assert parse(body) == [], path.name


def test_a_command_inside_an_html_comment_opened_mid_line_is_not_run() -> None:
    assert parse("Looks good <!--\n/forge help\n-->") == []


def test_a_command_after_a_mid_line_html_comment_closes_is_found() -> None:
    [command] = parse("Looks good <!-- hidden\n/forge approve\n-->\n/forge status")
    assert command.name == "status"


def test_an_html_comment_opener_inside_inline_code_hides_nothing() -> None:
    [command] = parse("Write `<!--` to hide text\n/forge help")
    assert command.name == "help"
