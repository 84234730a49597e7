"""`/signin`, `/signin/callback`, `/signout`, and who is looking at a page (`visit(request)`)."""

from __future__ import annotations

import datetime
import hmac
import logging
import re
from dataclasses import dataclass

from aiohttp import web

from forgeguard_app.web import access, oauth, sessions
from forgeguard_app.web.sessions import Viewer
from forgeguard_app.web.state import state_of
from forgeguard_app.web.store import access as access_store
from forgeguard_app.web.store import sessions as session_store
from forgeguard_app.web.templating import redirect, render

log = logging.getLogger(__name__)

CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
AGAIN = "Start again from the sign-in button."


@dataclass(frozen=True)
class Visit:
    """Who is looking, and whether what they may see is confirmed by GitHub right now."""

    viewer: Viewer | None
    access_confirmed: bool = False
    signed_out: bool = False
    """Their session ended here (token refused): the cookie is cleared on the answer."""


VISIT = web.RequestKey("forgeguard_visit", Visit)


def sign_in_configured(request: web.Request) -> bool:
    settings = state_of(request).settings
    return not settings.setup_mode and bool(settings.client_id and settings.client_secret)


async def visit(request: web.Request) -> Visit:
    """The viewer behind the request's cookie, with their access refreshed when it is stale."""
    if VISIT in request:
        return request[VISIT]
    result = await _visit(request)
    request[VISIT] = result
    return result


async def _visit(request: web.Request) -> Visit:
    cookie = request.cookies.get(sessions.COOKIE)
    if not cookie or not sign_in_configured(request):
        return Visit(None)
    state = state_of(request)
    viewer = await sessions.load(state.db.pool, state.settings, cookie)
    if viewer is None:
        return Visit(None, signed_out=True)
    try:
        confirmed = await access.ensure_fresh(
            state.db.pool, request.app[oauth.HTTP], state.settings, viewer.user_id, viewer.login, viewer.token
        )
    except oauth.TokenRefused:
        await session_store.delete(state.db.pool, viewer.session_hash)
        return Visit(None, signed_out=True)
    return Visit(viewer, access_confirmed=confirmed)


def forget_cookie(response: web.StreamResponse, request: web.Request) -> None:
    response.del_cookie(sessions.COOKIE, path="/")


def _not_configured(request: web.Request) -> web.Response:
    settings = state_of(request).settings
    return render(
        "web/signin_error.html",
        status=503,
        message="Signing in is not configured on this server.",
        hint=(
            "Set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET (the app's settings page on GitHub shows the "
            "client id and makes client secrets), and add this callback URL to the app's "
            f"“Callback URL” list: {oauth.callback_url(settings)}"
        ),
    )


async def signin(request: web.Request) -> web.StreamResponse:
    if not sign_in_configured(request):
        return _not_configured(request)
    state = state_of(request)
    token = await sessions.new_state(state.db.pool, sessions.safe_next(request.query.get("next")))
    if token is None:
        return render(
            "web/signin_error.html",
            status=503,
            message="Too many sign-ins at once.",
            hint="Try again in a few minutes.",
        )
    response = redirect(oauth.authorize_url(state.settings, token))
    response.set_cookie(
        sessions.SIGNIN_COOKIE,
        token,
        max_age=int(sessions.STATE_LIFETIME.total_seconds()),
        **sessions.cookie_flags(state.settings),  # type: ignore[arg-type]
    )
    return response


async def signin_callback(request: web.Request) -> web.StreamResponse:
    if not sign_in_configured(request):
        return _not_configured(request)
    state = state_of(request)
    settings = state.settings
    error = request.query.get("error")
    if error:
        hint = AGAIN
        if error == "redirect_uri_mismatch":
            hint = (
                f"Add {oauth.callback_url(settings)} to the GitHub App's “Callback URL” list, "
                "then sign in again."
            )
        return render("web/signin_error.html", status=400, message="GitHub did not sign you in.", hint=hint)
    code = request.query.get("code", "")
    token = request.query.get("state", "")
    cookie = request.cookies.get(sessions.SIGNIN_COOKIE, "")
    if not CODE_PATTERN.match(code) or not token or not hmac.compare_digest(token.encode(), cookie.encode()):
        return render(
            "web/signin_error.html",
            status=400,
            message="This sign-in link is not valid here.",
            hint=AGAIN,
        )
    next_path = await sessions.use_state(state.db.pool, token)
    if next_path is None:
        return render(
            "web/signin_error.html",
            status=400,
            message="This sign-in link expired or was already used.",
            hint=AGAIN,
        )
    http = request.app[oauth.HTTP]
    try:
        user_token = await oauth.exchange_code(http, settings, code)
        user = await oauth.user(http, settings, user_token.token)
        found = await oauth.installations(http, settings, user_token.token)
    except oauth.SignInRefused as exc:
        log.info("sign-in refused by GitHub: %s", exc.reason)
        return render(
            "web/signin_error.html",
            status=400,
            message="GitHub refused the sign-in.",
            hint=AGAIN,
        )
    except (oauth.GitHubUnavailable, oauth.TokenRefused) as exc:
        log.warning("sign-in: GitHub could not be asked: %s", exc)
        return render(
            "web/signin_error.html",
            status=502,
            message="GitHub could not be reached.",
            hint="Try again in a moment.",
        )
    lifetime = sessions.LIFETIME
    if user_token.expires_in is not None:
        lifetime = min(lifetime, datetime.timedelta(seconds=user_token.expires_in))
    async with state.db.pool.acquire() as conn, conn.transaction():
        await access_store.save(conn, user.id, user.login, found)
        await session_store.delete_expired(conn)
        value = await sessions.create(conn, settings, user.id, user.login, user_token.token, lifetime)
    log.info("signed in: %s", user.login)
    response = redirect(next_path)
    response.set_cookie(
        sessions.COOKIE,
        value,
        max_age=int(lifetime.total_seconds()),
        **sessions.cookie_flags(settings),  # type: ignore[arg-type]
    )
    response.del_cookie(sessions.SIGNIN_COOKIE, path="/")
    return response


async def signout(request: web.Request) -> web.StreamResponse:
    current = await visit(request)
    form = await request.post()
    sent = form.get("csrf")
    if current.viewer is None:
        return redirect("/", 303)
    if not sessions.csrf_ok(current.viewer, sent if isinstance(sent, str) else None):
        return web.Response(status=403, text="The form is out of date; reload the page and try again.")
    await session_store.delete(state_of(request).db.pool, current.viewer.session_hash)
    response = redirect("/", 303)
    forget_cookie(response, request)
    return response


def add_routes(app: web.Application) -> None:
    app.cleanup_ctx.append(oauth.http_session)
    app.router.add_get("/signin", signin)
    app.router.add_get("/signin/callback", signin_callback)
    app.router.add_post("/signout", signout)
