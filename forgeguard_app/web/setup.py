"""GET /setup and /setup/callback: registering the GitHub App from its manifest (app.yml).

The page first asks for the public URL GitHub will send webhooks to (prefilled
from FORGEGUARD_PUBLIC_URL; it is fixed at registration) and whether the app
belongs to an organization; then its form posts the manifest to GitHub with a
one-time `state` (at most `MAX_OPEN_STATES` kept). GitHub sends the user back
with a `code`, exchanged for the app's credentials, which are written to `.env`
(mode 0600, through a new temporary file in the same folder) and never shown
or logged. Registration happens once: after it, setup is closed for good (the
`setup_registration` row) and the page, the console and `/` ask for a restart.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import logging
import os
import pathlib
import re
import secrets
import tempfile
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
import yaml
from aiohttp import web

from forgeguard_app.web.state import state_of
from forgeguard_app.web.templating import render

log = logging.getLogger(__name__)

MANIFEST_FILE = pathlib.Path(__file__).resolve().parents[1] / "app.yml"
STATE_LIFETIME = datetime.timedelta(hours=1)
MAX_OPEN_STATES = 50
"""Unused states kept at once: anyone may ask for the page, so the oldest give way."""
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
STATE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
ORGANIZATION_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
ENV_KEYS = {
    "id": "GITHUB_APP_ID",
    "client_id": "GITHUB_CLIENT_ID",
    "client_secret": "GITHUB_CLIENT_SECRET",
    "pem": "GITHUB_PRIVATE_KEY",
    "webhook_secret": "GITHUB_WEBHOOK_SECRET",
    "slug": "GITHUB_APP_SLUG",
}
RESTART_NEEDED = web.AppKey("forgeguard_restart_needed", list)
"""The slug of an app registered by this process, which still runs without its credentials."""
TUNNEL_NOTE = (
    "GitHub must reach this URL from the internet. For local development, expose this server "
    "through a tunnel (for example `cloudflared tunnel --url http://127.0.0.1:3000` or "
    "`ngrok http 3000`) and enter the tunnel's https address."
)


def manifest(public_url: str, text: str | None = None) -> dict[str, Any]:
    """app.yml with this server's URLs filled in."""
    data: dict[str, Any] = yaml.safe_load(MANIFEST_FILE.read_text() if text is None else text)
    base = public_url.rstrip("/")
    data["url"] = base
    data["hook_attributes"] = {**(data.get("hook_attributes") or {}), "url": f"{base}/webhooks"}
    data["redirect_url"] = f"{base}/setup/callback"
    data["setup_url"] = f"{base}/"
    data["callback_urls"] = [f"{base}/signin/callback"]
    return data


def _env_quote(value: str) -> str:
    """A double-quoted .env value on one line (newlines as \\n, which the settings reader accepts)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "\\n")
    return f'"{escaped}"'


def credentials_from_conversion(answer: Mapping[str, Any]) -> dict[str, str]:
    """The .env variables from GitHub's manifest conversion answer."""
    missing = [key for key in ENV_KEYS if not answer.get(key)]
    if missing:
        raise ValueError(f"GitHub's answer lacks {', '.join(missing)}")
    values = {name: str(answer[key]) for key, name in ENV_KEYS.items()}
    if not SLUG_PATTERN.match(values["GITHUB_APP_SLUG"]) or not values["GITHUB_APP_ID"].isdigit():
        raise ValueError("GitHub's answer has a malformed slug or id")
    return values


def install_url(answer: Mapping[str, Any], github_url: str, slug: str) -> str:
    """Where to install the new app: GitHub's `html_url` only when it is https on the GitHub host."""
    fallback = f"{github_url.rstrip('/')}/apps/{slug}"
    link = str(answer.get("html_url") or "")
    parts = urlsplit(link)
    if parts.scheme != "https" or parts.netloc.lower() != urlsplit(github_url).netloc.lower():
        link = fallback
    return f"{link.rstrip('/')}/installations/new"


def check_public_url(value: str) -> tuple[str | None, str | None]:
    """(the URL without a trailing slash, None) or (None, what is wrong with it)."""
    if not value.isascii() or not value.strip().isprintable() or " " in value.strip():
        return None, "The public URL must be written in plain ASCII, without spaces."
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None, "The public URL must start with https:// (or http://) and name a host."
    if parts.query or parts.fragment or parts.username or parts.password:
        return None, "The public URL must not carry a query, a fragment or a user name."
    return value.strip().rstrip("/"), None


def looks_unreachable(url: str) -> bool:
    """A URL GitHub cannot deliver to: localhost, a private or loopback address, or plain http."""
    host = urlsplit(url).hostname or ""
    if urlsplit(url).scheme != "https" or host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." not in host
    return address.is_private or address.is_loopback or address.is_link_local or address.is_unspecified


def updated_env(existing: str, values: Mapping[str, str]) -> str:
    """`existing` .env text with `values` set: matching lines replaced, the rest appended."""
    lines = existing.splitlines()
    done: set[str] = set()
    out = []
    for line in lines:
        name = line.split("=", 1)[0].strip().removeprefix("export ").strip()
        if "=" in line and name in values:
            if name not in done:
                out.append(f"{name}={_env_quote(values[name])}")
                done.add(name)
            continue
        out.append(line)
    out += [f"{name}={_env_quote(value)}" for name, value in values.items() if name not in done]
    return "\n".join(out) + "\n"


def write_env(path: pathlib.Path, values: Mapping[str, str]) -> None:
    """Write the credentials into `path`, readable by its owner only.

    The new text goes to a new file in the same folder, created exclusively
    and never through a symbolic link (mkstemp: O_CREAT | O_EXCL | O_NOFOLLOW,
    mode 0600), then replaces `path` in one rename.
    """
    existing = path.read_text() if path.is_file() else ""
    text = updated_env(existing, values)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _already_configured() -> web.Response:
    # Registering again would let whoever reaches this page replace the app's credentials.
    return render(
        "web/setup_closed.html",
        status=403,
        restart=False,
        message="ForgeGuard already has GitHub App credentials, so setup is closed. To register a "
        "new app, remove GITHUB_APP_ID, GITHUB_PRIVATE_KEY and GITHUB_WEBHOOK_SECRET and restart.",
    )


def _registered(slug: str | None) -> web.Response:
    return render(
        "web/setup_closed.html",
        status=403,
        restart=True,
        message=f"The GitHub App {slug or ''} is registered and its credentials are written, so setup "
        "is closed. Restart ForgeGuard now so that it uses them.",
    )


async def registration(request: web.Request) -> tuple[str, str | None] | None:
    """(status, app slug) once a registration was claimed or made, in any process; else None."""
    row = await state_of(request).db.pool.fetchrow("SELECT status, app_slug FROM setup_registration")
    return None if row is None else (row["status"], row["app_slug"])


async def closed(request: web.Request) -> web.Response | None:
    """The answer when setup is closed (credentials configured, or written since start)."""
    if not state_of(request).settings.setup_mode:
        return _already_configured()
    done = await registration(request)
    if done is not None and done[0] == "registered":
        return _registered(done[1])
    return None


async def restart_needed(app: web.Application, pool: Any) -> str | None:
    """The slug of an app registered while this process runs in setup mode (it must restart); else None."""
    if app.get(RESTART_NEEDED):
        return str(app[RESTART_NEEDED][0])
    row = await pool.fetchrow("SELECT app_slug FROM setup_registration WHERE status = 'registered'")
    return None if row is None else str(row["app_slug"])


def _ask(*, public_url: str, organization: str, error: str | None, status: int = 200) -> web.Response:
    return render(
        "web/setup.html",
        status=status,
        step="ask",
        public_url=public_url,
        organization=organization,
        error=error,
        tunnel_note=TUNNEL_NOTE,
        unreachable=looks_unreachable(public_url),
    )


async def setup_page(request: web.Request) -> web.Response:
    answer = await closed(request)
    if answer is not None:
        return answer
    state = state_of(request)
    settings = state.settings
    query = request.query
    organization = query.get("organization", "").strip() if query.get("owner") == "organization" else ""
    if "public_url" not in query:
        return _ask(public_url=settings.public_url, organization="", error=None)
    public_url, problem = check_public_url(query.get("public_url", ""))
    if (
        problem is None
        and query.get("owner") == "organization"
        and not ORGANIZATION_PATTERN.match(organization)
    ):
        problem = "An organization name has letters, digits and single hyphens (at most 39)."
    if public_url is None or problem is not None:
        return _ask(
            public_url=query.get("public_url", "")[:500],
            organization=organization[:100],
            error=problem,
            status=400,
        )
    token = secrets.token_urlsafe(24)
    async with state.db.pool.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM setup_states WHERE created_at < now() - $1::interval", STATE_LIFETIME)
        await conn.execute(
            "INSERT INTO setup_states (state, public_url, organization) VALUES ($1, $2, $3)",
            token,
            public_url,
            organization or None,
        )
        # Bounded: anyone may load this page, so only the newest unused states are kept.
        await conn.execute(
            """DELETE FROM setup_states WHERE used_at IS NULL AND state NOT IN (
                   SELECT state FROM setup_states WHERE used_at IS NULL
                   ORDER BY created_at DESC LIMIT $1)""",
            MAX_OPEN_STATES,
        )
    base = settings.github_url.rstrip("/")
    where = f"/organizations/{quote(organization)}" if organization else ""
    return render(
        "web/setup.html",
        step="create",
        action=f"{base}{where}/settings/apps/new?state={quote(token)}",
        manifest=json.dumps(manifest(public_url)),
        public_url=public_url,
        organization=organization,
        unreachable=looks_unreachable(public_url),
        tunnel_note=TUNNEL_NOTE,
    )


async def _use_state(request: web.Request, token: str) -> tuple[bool, str | None]:
    """(True, the public URL chosen) once for a state this server issued within the last hour."""
    row = await state_of(request).db.pool.fetchrow(
        """
        UPDATE setup_states SET used_at = now()
        WHERE state = $1 AND used_at IS NULL AND created_at > now() - $2::interval
        RETURNING public_url
        """,
        token,
        STATE_LIFETIME,
    )
    return (row is not None, None if row is None else row["public_url"])


async def _claim(request: web.Request) -> bool:
    """The one registration: True for the callback that may exchange its code (a stale claim expires)."""
    return bool(
        await state_of(request).db.pool.fetchval(
            """INSERT INTO setup_registration (status) VALUES ('exchanging')
               ON CONFLICT (only_one) DO UPDATE SET claimed_at = now()
               WHERE setup_registration.status = 'exchanging'
                 AND setup_registration.claimed_at < now() - interval '5 minutes'
               RETURNING true"""
        )
    )


async def exchange_code(api_url: str, code: str) -> dict[str, Any]:
    """POST /app-manifests/{code}/conversions; GitHub answers 201 with the new app's credentials."""
    url = f"{api_url.rstrip('/')}/app-manifests/{code}/conversions"
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session,
        session.post(url, headers=headers) as response,
    ):
        if response.status != 201:
            raise ConversionFailed(response.status)
        answer: dict[str, Any] = await response.json(content_type=None)
        return answer


class ConversionFailed(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"GitHub answered {status}")
        self.status = status


async def setup_callback(request: web.Request) -> web.Response:
    answer_closed = await closed(request)
    if answer_closed is not None:
        return answer_closed
    state = state_of(request)
    code = request.query.get("code", "")
    token = request.query.get("state", "")
    if not CODE_PATTERN.match(code):
        return render("web/setup_error.html", status=400, message="The link has no valid code from GitHub.")
    valid, public_url = (False, None) if not STATE_PATTERN.match(token) else await _use_state(request, token)
    if not valid:
        return render(
            "web/setup_error.html",
            status=400,
            message="This registration link is unknown, expired or already used. Start again at /setup.",
        )
    if not await _claim(request):
        done = await registration(request)
        return _registered(done[1] if done else None)
    try:
        answer = await exchange_code(state.settings.api_url, code)
        values = credentials_from_conversion(answer)
    except (ConversionFailed, aiohttp.ClientError, TimeoutError, ValueError) as exc:
        await state.db.pool.execute("DELETE FROM setup_registration WHERE status = 'exchanging'")
        if isinstance(exc, ConversionFailed):
            log.warning("manifest conversion refused: status %d", exc.status)
            message = f"GitHub did not accept the code (status {exc.status}); codes expire after an hour."
        else:
            log.warning("manifest conversion failed: %s", type(exc).__name__)
            message = "GitHub's answer could not be used."
        return render("web/setup_error.html", status=502, message=message)
    if public_url:
        values["FORGEGUARD_PUBLIC_URL"] = public_url
    env_path = state.settings.env_file or pathlib.Path(".env")
    try:
        write_env(env_path, values)
    except OSError as exc:
        await state.db.pool.execute("DELETE FROM setup_registration WHERE status = 'exchanging'")
        log.error("the credentials could not be written to %s: %s", env_path, exc.strerror)
        return render("web/setup_error.html", status=500, message=f"{env_path} could not be written.")
    slug = values["GITHUB_APP_SLUG"]
    await state.db.pool.execute(
        "UPDATE setup_registration SET status = 'registered', app_slug = $1, registered_at = now()", slug
    )
    request.app[RESTART_NEEDED].append(slug)
    log.warning(
        "registered GitHub App %s (id %s); credentials written to %s. Restart ForgeGuard now to use them.",
        slug,
        values["GITHUB_APP_ID"],
        env_path,
    )
    return render(
        "web/setup_done.html",
        slug=slug,
        app_id=values["GITHUB_APP_ID"],
        env_path=str(env_path),
        install_url=install_url(answer, state.settings.github_url, slug),
    )


def add_routes(app: web.Application) -> None:
    app[RESTART_NEEDED] = []
    app.router.add_get("/setup", setup_page)
    app.router.add_get("/setup/callback", setup_callback)
