"""The status site's pages (`/`, `/repos/{owner}/{repo}`, `/builds/{id}`, full audit reports) and streams.

Each handler finds the viewer (`signin.visit`), applies `access.may_see` to the
repository a row belongs to, and renders a template from plain data. A request
with `X-Live: 1` gets only the page's live part (what `static/live.js` swaps in
when an event arrives). Anything a viewer may not see answers exactly like
something that does not exist.
"""

from __future__ import annotations

import logging
import pathlib
from typing import Any
from urllib.parse import urlencode

import asyncpg
from aiohttp import web

from forgeguard_app.db import parse_id
from forgeguard_app.web import access, live, setup, signin, status
from forgeguard_app.web.oauth import HTTP, callback_url
from forgeguard_app.web.state import APP_STATE, state_of
from forgeguard_app.web.store import access as access_store
from forgeguard_app.web.store import audits, health
from forgeguard_app.web.store import sessions as session_store
from forgeguard_app.web.templating import redirect, render, render_block

log = logging.getLogger(__name__)

LIVE_HEADER = "X-Live"
STATIC = pathlib.Path(__file__).with_name("static")


def _page(request: web.Request, template: str, *, status_code: int = 200, **context: Any) -> web.Response:
    """The whole page, or only its live block when the page's script asks for it."""
    if request.headers.get(LIVE_HEADER) == "1" and status_code == 200:
        response = render_block(template, "live", **context)
    else:
        response = render(template, status=status_code, **context)
    response.headers["Cache-Control"] = "no-store"
    return response


async def _health(request: web.Request, *, full: bool) -> tuple[status.Health, health.Counts | None]:
    """The health line, and with `full` the public counts (signed-in pages skip those: they scan tables)."""
    state = state_of(request)
    counts: health.Counts | None = None
    try:
        async with state.db.pool.acquire() as conn:
            counts = await (health.gather_counts(conn) if full else health.gather_health(conn))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        log.warning("status page: database unreachable: %s", type(exc).__name__)
    github = (
        await status.probe_github(state, request.app[HTTP], request.app[status.PROBE])
        if counts is not None
        else None
    )
    verdict = status.judge(
        setup_mode=state.settings.setup_mode,
        missing=state.settings.missing_credentials,
        counts=counts,
        github=github,
    )
    return verdict, counts


async def _restart_for(request: web.Request) -> str | None:
    """The app registered while this process ran in setup mode (so it must restart), if any."""
    try:
        return await setup.restart_needed(request.app, state_of(request).db.pool)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return None


async def home(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    current = await signin.visit(request)
    verdict, counts = await _health(request, full=current.viewer is None)
    common: dict[str, Any] = {
        "version": state.version,
        "health": verdict,
        "setup_mode": state.settings.setup_mode,
        "missing": state.settings.missing_credentials,
        "signin_available": signin.sign_in_configured(request),
        "callback_url": callback_url(state.settings),
        "viewer": current.viewer,
        "restart_for": await _restart_for(request) if state.settings.setup_mode else None,
    }
    if current.viewer is None or counts is None:
        response: web.StreamResponse = render(
            "web/status.html", status=200 if counts is not None else 503, counts=counts, **common
        )
        if current.signed_out:
            signin.forget_cookie(response, request)
        return response
    if not current.access_confirmed:
        return _page(request, "web/home.html", confirmed=False, **common)
    pool = state.db.pool
    user_id = current.viewer.user_id
    repositories = await audits.repositories(pool, user_id)
    builds = []
    if state.builds is not None:
        keys = [(r.installation_id, r.owner, r.repo) for r in repositories]
        builds = await state.builds.active_builds(pool, keys)
    return _page(
        request,
        "web/home.html",
        confirmed=True,
        installations=await access_store.installations(pool, user_id),
        repositories=repositories,
        recent=await audits.recent_audits(pool, user_id),
        intakes=await audits.active_intakes(pool, user_id),
        builds=builds,
        install_url=f"{state.settings.github_url.rstrip('/')}/apps/{state.settings.app_slug}/installations/new",
        **common,
    )


def _to_signin(request: web.Request) -> web.Response:
    return redirect("/signin?" + urlencode({"next": request.path_qs}))


def _not_found(request: web.Request, what: str) -> web.Response:
    viewer = request[signin.VISIT].viewer if signin.VISIT in request else None
    return render("web/not_found.html", status=404, what=what, viewer=viewer)


async def _visible_repository(request: web.Request) -> access_store.VisibleRepository | web.StreamResponse:
    current = await signin.visit(request)
    if current.viewer is None:
        return _to_signin(request)
    owner, repo = request.match_info["owner"], request.match_info["repo"]
    if not current.access_confirmed:
        return _not_found(request, "this repository (GitHub cannot be asked who may see it)")
    found = await access_store.repository(state_of(request).db.pool, current.viewer.user_id, owner, repo)
    if found is None:
        return _not_found(request, "this repository")
    return found


async def repository_page(request: web.Request) -> web.StreamResponse:
    found = await _visible_repository(request)
    if isinstance(found, web.StreamResponse):
        return found
    before = parse_id(request.query.get("before"))
    lines, next_before = await audits.timeline(
        state_of(request).db.pool, found.installation_id, found.owner, found.repo, before
    )
    current = await signin.visit(request)
    return _page(
        request,
        "web/repository.html",
        repository=found,
        audits=lines,
        next_before=next_before,
        first_page=before is None,
        viewer=current.viewer,
        github_url=state_of(request).settings.github_url,
    )


async def _allowed_later(request: web.Request, installation_id: int, owner: str, repo: str) -> bool:
    """For open streams: the session still exists and the access still lists the repository."""
    current = await signin.visit(request)
    if current.viewer is None:
        return False
    pool = state_of(request).db.pool
    still = await session_store.alive(pool, current.viewer.session_hash)
    return still and await access.may_see(pool, current.viewer.user_id, installation_id, owner, repo)


async def repository_events(request: web.Request) -> web.StreamResponse:
    found = await _visible_repository(request)
    if isinstance(found, web.StreamResponse):
        return found if found.status == 404 else web.Response(status=401, text="Sign in first.")
    keys = [live.repo_key(found.installation_id, found.owner, found.repo)]

    async def still_allowed() -> bool:
        return await _allowed_later(request, found.installation_id, found.owner, found.repo)

    return await live.stream(request, keys, still_allowed, access.ACCESS_TTL.total_seconds())


async def home_events(request: web.Request) -> web.StreamResponse:
    current = await signin.visit(request)
    if current.viewer is None or not current.access_confirmed:
        return web.Response(status=401, text="Sign in first.")
    viewer = current.viewer
    pool = state_of(request).db.pool
    visible = await access_store.repositories(pool, viewer.user_id)
    keys = [live.repo_key(r.installation_id, r.owner, r.repo) for r in visible]

    async def still_allowed() -> bool:
        return await session_store.alive(pool, viewer.session_hash)

    # Each event is only a signal to reload: the page's reload applies the access rule again.
    return await live.stream(request, keys, still_allowed, access.ACCESS_TTL.total_seconds())


async def full_audit_report(request: web.Request, audit_id: int) -> web.StreamResponse | None:
    """The full report of an audit for a viewer who may see its repository; None for everyone else
    (the caller, `checkruns.page`, then shows the audit's state only, as behind a Details link)."""
    state = state_of(request)
    pool = state.db.pool
    owner = await audits.audit_owner(pool, audit_id)
    if owner is None:
        return None
    current = await signin.visit(request)
    if current.viewer is None or not current.access_confirmed:
        return None
    if not await access.may_see(pool, current.viewer.user_id, *owner):
        return None
    detail = await audits.audit_detail(pool, state.settings.github_url, audit_id)
    if detail is None:
        return None
    return _page(request, "web/audit.html", audit=detail, viewer=current.viewer)


async def build_page(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    build_id = parse_id(request.match_info["id"])
    current = await signin.visit(request)
    if current.viewer is None:
        return _to_signin(request)
    if build_id is None or state.builds is None or not current.access_confirmed:
        return _not_found(request, "this build")
    view = await state.builds.build_view(state.db.pool, build_id)
    if view is None or not await access.may_see(
        state.db.pool, current.viewer.user_id, view.installation_id, view.owner, view.repo
    ):
        return _not_found(request, "this build")
    return _page(request, "web/build.html", build=view, viewer=current.viewer)


async def build_events(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    build_id = parse_id(request.match_info["id"])
    current = await signin.visit(request)
    if current.viewer is None:
        return web.Response(status=401, text="Sign in first.")
    if build_id is None or state.builds is None or not current.access_confirmed:
        return web.Response(status=404, text="Not found.")
    view = await state.builds.build_view(state.db.pool, build_id)
    if view is None or not await access.may_see(
        state.db.pool, current.viewer.user_id, view.installation_id, view.owner, view.repo
    ):
        return web.Response(status=404, text="Not found.")

    async def still_allowed() -> bool:
        return await _allowed_later(request, view.installation_id, view.owner, view.repo)

    keys = [live.build_key(build_id)]
    return await live.stream(request, keys, still_allowed, access.ACCESS_TTL.total_seconds())


def add_routes(app: web.Application) -> None:
    app.cleanup_ctx.append(live.hub_context(lambda a: a[APP_STATE].db.url))
    app.router.add_static("/static", STATIC, append_version=False)
    app[status.PROBE] = status.Probe()
    app.router.add_get("/", home)
    app.router.add_get("/events", home_events)
    app.router.add_get("/repos/{owner}/{repo}", repository_page)
    app.router.add_get("/repos/{owner}/{repo}/events", repository_events)
    app.router.add_get(r"/builds/{id:\d+}", build_page)
    app.router.add_get(r"/builds/{id:\d+}/events", build_events)
