"""Webhook handlers for builds: a closed or locked issue, or a closed build pull request, stops its build.

The watchdog notices a closed or locked issue only at its next poll; these
handlers act when GitHub says so. What stops and how (a paused build now, a
running one at its next step) is decided in `stops`, under the commands' lock.

Every handler is `async def on_x(event: Event, ctx: EventContext) -> None`
(`forgeguard_app.context`); the router is composed in `forgeguard_app.wiring`.
A redelivered event is harmless: a build that has ended stops no more.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any

from gidgethub.routing import Router
from gidgethub.sansio import Event

from forgeguard_app.builder import github_side, stops, store
from forgeguard_app.context import EventContext

log = logging.getLogger(__name__)

router = Router()


def _repository_and_number(payload: Mapping[str, Any], key: str) -> tuple[int, int] | None:
    """The repository id and the number of the payload's `issue` or `pull_request`."""
    repository, item = payload.get("repository"), payload.get(key)
    if not isinstance(repository, Mapping) or not isinstance(item, Mapping):
        return None
    repository_id, number = repository.get("id"), item.get("number")
    if not isinstance(repository_id, int) or not isinstance(number, int):
        return None
    return repository_id, number


@router.register("issues", action="closed")
@router.register("issues", action="locked")
async def on_issue_closed_or_locked(event: Event, ctx: EventContext) -> None:
    """The issue's active build stops as the watchdog would stop it (`stops.issue_stop`).

    The event says what happened; GitHub's issue says what holds now, as the
    watchdog reads it: a late or redelivered `closed` of an issue reopened since
    (and perhaps built again) stops nothing.
    """
    found = _repository_and_number(event.data, "issue")
    if found is None:
        return
    async with ctx.db.pool.acquire() as conn:
        build = await store.active_for_issue(conn, *found)
    if build is None:
        return
    if ctx.github is None:
        log.warning("no GitHub client configured; build %s not checked", build.id)
        return
    api = await ctx.github.installation_api(build.installation_id)
    issue = await github_side.issue_state(api, build.owner, build.repo, build.issue_number)
    await stops.stop(ctx.db, build.id, functools.partial(stops.issue_stop, issue=issue))


@router.register("pull_request", action="closed")
async def on_pull_request_closed(event: Event, ctx: EventContext) -> None:
    """A build pull request closed without being merged stops its build (`stops.pull_stop`).

    Builds are found by their own pull request's number, so an old event never
    reaches a later build of the same issue (each build opens its own).
    """
    pull = event.data.get("pull_request")
    found = _repository_and_number(event.data, "pull_request")
    if found is None or not isinstance(pull, Mapping) or pull.get("merged"):
        return
    async with ctx.db.pool.acquire() as conn:
        build = await store.by_pull(conn, *found)
    if build is None or not build.active:
        return
    await stops.stop(ctx.db, build.id, stops.pull_stop)
