"""GET /setup and /setup/callback: registering the GitHub App from its manifest (app.yml).

The form posts the manifest to GitHub with a one-time `state`; GitHub sends the
user back with a `code`, which is exchanged for the app's credentials; those are
written to `.env` (mode 0600) and never shown or logged.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import pathlib
import re
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import aiohttp
import yaml
from aiohttp import web

from forgeguard_app.web.state import state_of
from forgeguard_app.web.templating import render

log = logging.getLogger(__name__)

MANIFEST_FILE = pathlib.Path(__file__).resolve().parents[1] / "app.yml"
STATE_LIFETIME = datetime.timedelta(hours=1)
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
ENV_KEYS = {
    "id": "GITHUB_APP_ID",
    "client_id": "GITHUB_CLIENT_ID",
    "pem": "GITHUB_PRIVATE_KEY",
    "webhook_secret": "GITHUB_WEBHOOK_SECRET",
    "slug": "GITHUB_APP_SLUG",
}


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
    return {name: str(answer[key]) for key, name in ENV_KEYS.items()}


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
    """Write the credentials into `path`, readable by its owner only."""
    existing = path.read_text() if path.is_file() else ""
    text = updated_env(existing, values)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _already_configured() -> web.Response:
    # Registering again would let whoever reaches this page replace the app's credentials.
    return render(
        "web/setup_error.html",
        status=403,
        message="ForgeGuard already has GitHub App credentials. To register a new app, remove "
        "GITHUB_APP_ID, GITHUB_PRIVATE_KEY and GITHUB_WEBHOOK_SECRET and restart.",
    )


async def setup_page(request: web.Request) -> web.Response:
    state = state_of(request)
    settings = state.settings
    if not settings.setup_mode:
        return _already_configured()
    token = secrets.token_urlsafe(24)
    async with state.db.pool.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM setup_states WHERE created_at < now() - $1::interval", STATE_LIFETIME)
        await conn.execute("INSERT INTO setup_states (state) VALUES ($1)", token)
    return render(
        "web/setup.html",
        action=f"{settings.github_url}/settings/apps/new?state={quote(token)}",
        manifest=json.dumps(manifest(settings.public_url)),
        public_url=settings.public_url,
    )


async def _use_state(request: web.Request, token: str) -> bool:
    """True once for a state this server issued within the last hour."""
    found = await state_of(request).db.pool.fetchval(
        """
        UPDATE setup_states SET used_at = now()
        WHERE state = $1 AND used_at IS NULL AND created_at > now() - $2::interval
        RETURNING true
        """,
        token,
        STATE_LIFETIME,
    )
    return bool(found)


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
    state = state_of(request)
    if not state.settings.setup_mode:
        return _already_configured()
    code = request.query.get("code", "")
    token = request.query.get("state", "")
    if not CODE_PATTERN.match(code):
        return render("web/setup_error.html", status=400, message="The link has no valid code from GitHub.")
    if not token or not await _use_state(request, token):
        return render(
            "web/setup_error.html",
            status=400,
            message="This registration link is unknown, expired or already used. Start again at /setup.",
        )
    try:
        answer = await exchange_code(state.settings.api_url, code)
        values = credentials_from_conversion(answer)
    except ConversionFailed as exc:
        log.warning("manifest conversion refused: status %d", exc.status)
        return render(
            "web/setup_error.html",
            status=502,
            message=f"GitHub did not accept the code (status {exc.status}); codes expire after an hour.",
        )
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        log.warning("manifest conversion failed: %s", type(exc).__name__)
        return render("web/setup_error.html", status=502, message="GitHub's answer could not be used.")
    env_path = state.settings.env_file or pathlib.Path(".env")
    write_env(env_path, values)
    log.info(
        "registered GitHub App %s (id %s); credentials written to %s",
        values["GITHUB_APP_SLUG"],
        values["GITHUB_APP_ID"],
        env_path,
    )
    html_url = str(answer.get("html_url") or f"{state.settings.github_url}/apps/{values['GITHUB_APP_SLUG']}")
    return render(
        "web/setup_done.html",
        slug=values["GITHUB_APP_SLUG"],
        app_id=values["GITHUB_APP_ID"],
        env_path=str(env_path),
        install_url=f"{html_url.rstrip('/')}/installations/new",
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/setup", setup_page)
    app.router.add_get("/setup/callback", setup_callback)
