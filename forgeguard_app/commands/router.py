"""The `issue_comment` router: acknowledgement, permission, place, then the command or the answer.

For every command: `eyes`, permission (asked of GitHub), the place check with
the wrong-place reply, then the table entry's handler: run here in the
delivery job, or (`queued`, the work that touches an intake) queued as a
`commands.run` job with one order key per intake issue, so it runs one at a
time per issue, in the order the comments came, without holding up the
repository's other deliveries. The final reply and `+1`/`confused` come from
the handler's `Outcome`. See `flow` for how edits and deletions are treated.
"""

from __future__ import annotations

import logging
from typing import Any

from gidgethub.abc import GitHubAPI
from gidgethub.routing import Router
from gidgethub.sansio import Event

from forgeguard_app.builder import store as builds
from forgeguard_app.commands import intake_answers, jobs, progress_comment, replies, store
from forgeguard_app.commands.command import Invocation, Outcome
from forgeguard_app.commands.flow import Answer, DropAnswer, EditAnswer, Ignore, RunCommand, classify
from forgeguard_app.commands.grammar import ParsedCommand, app_slug, misplaced
from forgeguard_app.commands.permissions import ask_permission
from forgeguard_app.commands.reactions import EYES, FAILURE, react
from forgeguard_app.commands.table import BY_NAME
from forgeguard_app.commands.thread import Comment, Place, Thread, comment_of, thread_of
from forgeguard_app.context import EventContext
from forgeguard_app.db import Database

log = logging.getLogger(__name__)

router = Router()

__all__ = ["app_slug", "router"]


def describe_place(thread: Thread, places: frozenset[Place]) -> str:
    """The thread in words, for wrong-place replies."""
    if Place.CONTRACTS_PR in places:
        return Place.CONTRACTS_PR.value
    if Place.BUILD_PR in places:
        return Place.BUILD_PR.value
    if Place.INTAKE_ISSUE in places:
        return Place.INTAKE_ISSUE.value
    return thread.kind


async def places_of(db: Database, thread: Thread) -> frozenset[Place]:
    """What the thread is, from the app's own records (labels can be set by anyone with triage)."""
    places = set(thread.base_places())
    if thread.is_pull_request:
        async with db.pool.acquire() as conn:
            if await store.by_pull(conn, thread.repository_id, thread.number) is not None:
                places.add(Place.CONTRACTS_PR)
            elif await builds.by_pull(conn, thread.repository_id, thread.number) is not None:
                places.add(Place.BUILD_PR)
    elif await intake_answers.intake_exists(db, thread):
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
            await intake_answers.edit_answer(ctx.db, thread, comment)
        return
    if isinstance(action, DropAnswer):
        if not thread.is_pull_request:
            await intake_answers.drop_answer(ctx.db, thread, comment)
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
        await progress_comment.reply(api, thread.owner, thread.repo, thread.number, permission.refusal())
        await react(api, thread.owner, thread.repo, comment.id, FAILURE)
        return
    await run_command(ctx, api, thread, comment, action.command, action.others)


async def _take_answer(ctx: EventContext, thread: Thread, comment: Comment) -> None:
    """A comment without a command in an intake issue, by a permitted person, is queued as an answer."""
    assert ctx.github is not None
    if thread.is_pull_request:
        return
    if not await intake_answers.accepts_answers(ctx.db, thread):
        return
    api = await ctx.github.installation_api(thread.installation_id)
    permission = await ask_permission(api, thread.owner, thread.repo, comment.login)
    if not permission.allowed:
        log.info(
            "comment %s by %s is not an answer: %s access", comment.id, comment.login, permission.permission
        )
        return
    await react(api, thread.owner, thread.repo, comment.id, EYES)
    await intake_answers.queue_answer(ctx.db, thread, comment)
    async with ctx.db.pool.acquire() as conn:
        await jobs.enqueue_command(
            conn, thread, comment, name=intake_answers.ANSWER, args="", text="", intake_issue=thread.number
        )


async def run_command(
    ctx: EventContext,
    api: GitHubAPI,
    thread: Thread,
    comment: Comment,
    parsed: ParsedCommand,
    others: tuple[ParsedCommand, ...],
) -> None:
    """A permitted person's command: its handler runs here, or it is queued for the issue's job."""
    note = replies.ignored_others(others) if others else ""
    places = await places_of(ctx.db, thread)
    inv = Invocation(
        ctx=ctx,
        api=api,
        thread=thread,
        comment=comment,
        name=parsed.name,
        args=parsed.args,
        text=parsed.text,
        places=places,
        note=note,
    )
    command = BY_NAME.get(parsed.name)
    if command is None:
        await jobs.finish(inv, Outcome(replies.unknown_command(parsed.name, BY_NAME), ok=False))
        return
    # a command of a feature not in this release says so wherever it is used
    if command.available and misplaced(command, places):
        reply = replies.wrong_place(command, describe_place(thread, places))
        await jobs.finish(inv, Outcome(reply, ok=False))
        return
    if not command.queued:
        await jobs.finish(inv, await command.run(inv))
        return
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
            note=note,
            places=places,
        )
