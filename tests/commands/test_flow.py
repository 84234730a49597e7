"""The decision about an issue_comment delivery, before any request: ignore, command or answer."""

from __future__ import annotations

import pathlib

import pytest

from forgeguard_app.commands.flow import (
    Answer,
    DropAnswer,
    EditAnswer,
    Ignore,
    RunCommand,
    classify,
)
from forgeguard_app.commands.router import app_slug
from forgeguard_app.commands.thread import Place, comment_of, thread_of
from forgeguard_app.settings import Settings
from tests.commands.corpus import comment_payload, load


def test_a_comment_by_a_bot_is_ignored() -> None:
    payload = comment_payload(body="/forge approve", login="renovate", user_type="Bot")
    assert isinstance(classify(payload, "forgeguard"), Ignore)


def test_the_apps_own_comment_is_ignored() -> None:
    payload = comment_payload(body="/forge help", login="forgeguard[bot]")
    assert isinstance(classify(payload, "forgeguard"), Ignore)


def test_a_delivery_without_an_installation_is_ignored() -> None:
    payload = load("created.payload.json")
    assert "installation" not in payload
    assert isinstance(classify(payload, "forgeguard"), Ignore)


def test_a_new_comment_with_a_command_runs_its_first_command() -> None:
    action = classify(comment_payload(body="/forge status\n/forge approve"), "forgeguard")
    assert isinstance(action, RunCommand)
    assert action.command.name == "status"
    assert [c.name for c in action.others] == ["approve"]


def test_the_corpus_comment_without_a_command_is_a_candidate_answer() -> None:
    payload = load("created.with-installation.payload.json")
    assert isinstance(classify(payload, "forgeguard"), Answer)


def test_an_edited_comment_is_a_candidate_answer_edit() -> None:
    assert isinstance(
        classify(comment_payload("edited", body="Postgres, not MySQL"), "forgeguard"), EditAnswer
    )


def test_an_edited_command_is_not_run_again() -> None:
    assert isinstance(classify(comment_payload("edited", body="/forge approve"), "forgeguard"), Ignore)


def test_a_deleted_comment_drops_its_answer() -> None:
    assert isinstance(classify(comment_payload("deleted", body="anything"), "forgeguard"), DropAnswer)


def test_the_thread_of_a_pull_request_comment_is_a_pull_request() -> None:
    thread = thread_of(comment_payload(body="x", pull_request=True, issue_number=12))
    assert thread.is_pull_request and thread.number == 12
    assert thread.base_places() == frozenset({Place.PULL_REQUEST})


def test_the_thread_and_comment_are_read_from_the_payload() -> None:
    payload = comment_payload(body="hello", comment_id=55, labels=("forge:intake",))
    thread, comment = thread_of(payload), comment_of(payload)
    assert (thread.owner, thread.repo, thread.repository_id, thread.installation_id) == (
        "octo-org",
        "hello",
        4242,
        1,
    )
    assert thread.labels == frozenset({"forge:intake"})
    assert (comment.id, comment.body, comment.login) == (55, "hello", "octocat")


def test_the_app_slug_comes_from_the_env_file_the_setup_flow_wrote(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = tmp_path / ".env"
    env.write_text("GITHUB_APP_SLUG=Acme-Forge\n")
    assert app_slug(Settings.from_env(environ={}, env_file=env)) == "acme-forge"


def test_the_app_slug_defaults_to_forgeguard() -> None:
    assert app_slug(Settings.from_env(environ={}, env_file="/nonexistent/.env")) == "forgeguard"
