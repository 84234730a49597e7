"""The `issue_comment` router: acknowledgement, permission, place, then the command or the answer.

Quick commands (`help`, `status`, `audit`, unknown, wrong place, builder) are
answered inside the delivery job. Work that touches an intake (start,
answers, `back`, `edit`, `contracts`, `revise`, `approve`, `reject`) is queued
as a `commands.run` job with one order key per intake issue, so it runs one
at a time per issue, in the order the comments came, without holding up the
repository's other deliveries. That job adds the final `+1` or `confused`.
See `flow` for how edits and deletions are treated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from gidgethub.abc import GitHubAPI
from gidgethub.routing import Router
from gidgethub.sansio import Event

from forgeguard_app.builder import commands as builder_commands
from forgeguard_app.builder import service as builder_service
from forgeguard_app.commands import bridge, jobs, progress, replies, store
from forgeguard_app.commands.flow import (
    Answer,
    Comment,
    DropAnswer,
    EditAnswer,
    Ignore,
    RunCommand,
    Thread,
    classify,
    comment_of,
    thread_of,
)
from forgeguard_app.commands.grammar import DEFAULT_SLUG, ParsedCommand, misplaced
from forgeguard_app.commands.permissions import ask_permission
from forgeguard_app.commands.reactions import EYES, FAILURE, SUCCESS, react
from forgeguard_app.commands.table import Place
from forgeguard_app.context import EventContext
from forgeguard_app.db import Database
from forgeguard_app.settings import Settings

log = logging.getLogger(__name__)

router = Router()

QUEUED_COMMANDS = frozenset({"intake", "back", "edit", "contracts", "revise", "approve", "reject"})


def app_slug(settings: Settings) -> str:
    """The app's slug for `@<slug>` commands (`GITHUB_APP_SLUG`, written by `/setup`)."""
    return settings.app_slug.strip().lower() or DEFAULT_SLUG


def describe_place(thread: Thread, places: frozenset[Place]) -> str:
    """The thread in words, for wrong-place replies."""
    if Place.CONTRACTS_PR in places:
        return Place.CONTRACTS_PR.value
    if Place.INTAKE_ISSUE in places:
        return Place.INTAKE_ISSUE.value
    return thread.kind


@dataclass(frozen=True)
class _BuilderInvocation:
    ctx: EventContext
    api: GitHubAPI
    thread: Thread
    comment: Comment
    args: str
    text: str


async def places_of(db: Database, thread: Thread) -> frozenset[Place]:
    """What the thread is, from the app's own records (labels can be set by anyone with triage)."""
    places = set(thread.base_places())
    if thread.is_pull_request:
        async with db.pool.acquire() as conn:
            if await store.by_pull(conn, thread.repository_id, thread.number) is not None:
                places.add(Place.CONTRACTS_PR)
    elif await bridge.intake_exists(db, thread.repository_id, thread.number):
        places.add(Place.INTAKE_ISSUE)
    return frozenset(places)


@router.register("issue_comment", action="created")
@router.register("issue_comment", action="edited")
@router.register("issue_comment", action="deleted")
async def on_issue_comment(event: Event, ctx: EventContext) -> None:
    """Every comment in an issue or pull request goes through here."""
    await handle_comment(event.data, ctx)


async def handle_comment(payload: dict[str, Any], ctx: EventContext) -> None:
    action = classify(payload, app_slug(ctx.settings))
    if isinstance(action, Ignore):
        log.debug("comment ignored: %s", action.reason)
        return
    thread, comment = thread_of(payload), comment_of(payload)
    if isinstance(action, EditAnswer):
        if not thread.is_pull_request:
            await bridge.edit_answer(ctx.db, thread, comment)
        return
    if isinstance(action, DropAnswer):
        if not thread.is_pull_request:
            await bridge.drop_answer(ctx.db, thread, comment)
        return
    if ctx.github is None:
        log.warning("no GitHub client configured; comment %s not handled", comment.id)
        return
    if isinstance(action, Answer):
        await _take_answer(ctx, thread, comment)
        return
    assert isinstance(action, RunCommand)
    api = await ctx.github.installation_api(thread.installation_id)
    await react(api, thread.owner, thread.repo, comment.id, EYES)
    permission = await ask_permission(api, thread.owner, thread.repo, comment.login)
    if not permission.allowed:
        log.info("command %s by %s refused: %s", action.command.name, comment.login, permission.permission)
        await progress.reply(api, thread.owner, thread.repo, thread.number, permission.refusal())
        await react(api, thread.owner, thread.repo, comment.id, FAILURE)
        return
    await run_command(ctx, api, thread, comment, action.command, action.others)


async def _take_answer(ctx: EventContext, thread: Thread, comment: Comment) -> None:
    """A comment without a command in an intake issue, by a permitted person, is queued as an answer."""
    assert ctx.github is not None
    if thread.is_pull_request:
        return
    if not await bridge.intake_accepts_answers(ctx.db, thread.repository_id, thread.number):
        return
    api = await ctx.github.installation_api(thread.installation_id)
    permission = await ask_permission(api, thread.owner, thread.repo, comment.login)
    if not permission.allowed:
        log.info(
            "comment %s by %s is not an answer: %s access", comment.id, comment.login, permission.permission
        )
        return
    await react(api, thread.owner, thread.repo, comment.id, EYES)
    await bridge.queue_answer(ctx.db, thread, comment)
    async with ctx.db.pool.acquire() as conn:
        await jobs.enqueue_command(
            conn, thread, comment, name="answer", args="", text="", intake_issue=thread.number
        )


async def run_command(
    ctx: EventContext,
    api: GitHubAPI,
    thread: Thread,
    comment: Comment,
    parsed: ParsedCommand,
    others: tuple[ParsedCommand, ...],
) -> None:
    """A permitted person's command: answer it here, or queue it for the issue's job."""
    owner, repo = thread.owner, thread.repo
    note = "\n\n" + replies.ignored_others(list(others)) if others else ""

    async def answer(text: str, ok: bool) -> None:
        await progress.reply(api, owner, repo, thread.number, text + note)
        await react(api, owner, repo, comment.id, SUCCESS if ok else FAILURE)

    command = parsed.command
    if command is None:
        await answer(replies.unknown_command(parsed.name), ok=False)
        return
    places = await places_of(ctx.db, thread)
    if command.builder:
        # until the command table lands: the builder's handlers, places checked by the service
        invocation = _BuilderInvocation(ctx, api, thread, comment, parsed.args, parsed.text)
        result = await builder_commands.answer(command.name, invocation)
        if result.reply:
            await answer(result.reply, ok=result.ok)
        else:
            await react(api, owner, repo, comment.id, SUCCESS if result.ok else FAILURE)
        return
    if misplaced(command, places):
        await answer(replies.wrong_place(command, describe_place(thread, places)), ok=False)
        return
    if command.name == "help":
        await answer(replies.help_text(app_slug(ctx.settings)), ok=True)
        return
    if command.name == "status":
        text = await bridge.status_text(ctx.db, thread, places)
        build = await builder_service.status_text(ctx.db, thread)
        await answer(text + ("\n\n" + build if build else ""), ok=True)
        return
    if command.name == "audit":
        await answer(await bridge.request_audit(ctx, api, thread, comment), ok=True)
        return
    if command.name in QUEUED_COMMANDS:
        async with ctx.db.pool.acquire() as conn:
            intake_issue = thread.number
            if thread.is_pull_request:
                pull = await store.by_pull(conn, thread.repository_id, thread.number)
                assert pull is not None  # a contracts PR, or `misplaced` had refused
                intake_issue = pull.issue_number
            await jobs.enqueue_command(
                conn,
                thread,
                comment,
                name=command.name,
                args=parsed.args,
                text=parsed.text,
                intake_issue=intake_issue,
                note=note.strip(),
            )
        return
    raise AssertionError(f"command {command.name!r} has no handler")
