"""The `forgeguard` console script: serve, worker, migrate, audit, replay."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import pathlib
import sys
import uuid
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from forgeguard_app import __version__

if TYPE_CHECKING:
    from forgeguard_app.settings import Settings

DEFAULT_WORKERS = 4
APP_EXTRA = "pip install 'forgeguard[app]'"
"""`forgeguard audit` needs only the engine; the other commands need the app's extra."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="forgeguard", description="ForgeGuard, the GitHub App.")
    parser.add_argument("--version", action="version", version=f"forgeguard {__version__}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="{serve,worker,migrate,audit,replay}"
    )

    serve = commands.add_parser("serve", help="web server and background workers")
    serve.add_argument("--host", help="address to listen on (default: HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: PORT or 3000)")
    serve.add_argument(
        "--workers", type=int, default=DEFAULT_WORKERS, help="jobs run at once here; 0: web only"
    )

    worker = commands.add_parser("worker", help="background workers only")
    worker.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="jobs run at once")

    commands.add_parser("migrate", help="apply database migrations and exit")
    commands.add_parser("audit", help="audit a local repository (see forgeguard audit --help)")

    replay = commands.add_parser("replay", help="sign a webhook payload and deliver it to a running app")
    replay.add_argument("file", type=pathlib.Path, help="the JSON payload")
    replay.add_argument("--event", required=True, help="the X-GitHub-Event name, e.g. push")
    replay.add_argument("--url", help="where to post (default: http://HOST:PORT/webhooks)")
    replay.add_argument("--delivery", help="the X-GitHub-Delivery id (default: a new UUID)")
    return parser


def _fail(message: str, code: int = 2) -> int:
    print(f"forgeguard: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "audit":
        from checks.cli import main as audit_main

        return audit_main(args[1:])
    options = _parser().parse_args(args)
    try:
        from forgeguard_app import server  # imports every dependency of the app
        from forgeguard_app.settings import Settings, SettingsError
    except ModuleNotFoundError as exc:
        return _fail(
            f"`forgeguard {options.command}` needs the app's dependencies ({exc.name} is not installed): "
            f"{APP_EXTRA}"
        )

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        for problem in exc.problems:
            print(f"forgeguard: {problem}", file=sys.stderr)
        return 2
    if getattr(options, "workers", 0) < 0:
        return _fail("--workers must be 0 or more")

    from forgeguard_app import logs

    logs.configure(settings.log_level, settings.log_format)

    if options.command == "replay":
        return replay(settings, options.file, options.event, options.url, options.delivery)
    if options.command == "migrate":
        return _run(_migrate(settings))

    if options.command == "serve":
        return _run(
            server.serve(
                settings,
                host=options.host or settings.host,
                port=options.port or settings.port,
                workers=options.workers,
            )
        )
    if options.workers < 1:
        return _fail("a worker needs --workers 1 or more")
    return _run(server.work(settings, workers=options.workers))


def _run(coro: Coroutine[Any, Any, None]) -> int:
    """Run the coroutine; a failure to start (database, port) is one line, exit 1."""
    import logging

    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    from forgeguard_app.server import StartupError

    try:
        runner(coro)
    except KeyboardInterrupt:
        return 130
    except StartupError as exc:
        return _fail(str(exc), 1)
    except OSError as exc:
        return _fail(f"cannot start: {exc}", 1)
    except Exception as exc:
        if type(exc).__module__.startswith("asyncpg"):
            return _fail(f"database error: {exc}", 1)
        logging.getLogger("forgeguard").exception("stopped by an error")
        return 1
    return 0


async def _migrate(settings: Settings) -> None:
    from forgeguard_app.db import Database
    from forgeguard_app.server import database_url

    db = await Database.connect(database_url(settings), min_size=1, max_size=2)
    try:
        applied = await db.migrate()
    finally:
        await db.close()
    print(f"applied {', '.join(applied)}" if applied else "the database is up to date")


def sign(body: bytes, secret: str) -> str:
    """The X-Hub-Signature-256 value GitHub would send."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def replay(settings: Settings, file: pathlib.Path, event: str, url: str | None, delivery: str | None) -> int:
    """Post `file` signed as GitHub would; print the status and the answer."""
    if not settings.webhook_secret:
        return _fail("GITHUB_WEBHOOK_SECRET is not set: replay signs with it")
    try:
        body = file.read_bytes()
    except OSError as exc:
        return _fail(f"cannot read {file}: {exc.strerror}")
    try:
        json.loads(body)
    except ValueError:
        return _fail(f"{file} is not JSON")
    target = url or f"http://{settings.host}:{settings.port}/webhooks"
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return _fail(f"--url must be an http(s) URL such as http://127.0.0.1:3000/webhooks, got {target!r}")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/forgeguard-replay",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(body, settings.webhook_secret),
    }
    import aiohttp

    try:
        status, text = asyncio.run(_post(target, body, headers))
    except (OSError, aiohttp.ClientError, ValueError) as exc:
        return _fail(f"cannot reach {target}: {exc or type(exc).__name__}", 1)
    print(f"{status} {text}")
    return 0 if 200 <= status < 300 else 1


async def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    import aiohttp

    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session,
        session.post(url, data=body, headers=headers) as response,
    ):
        return response.status, (await response.text()).strip()


if __name__ == "__main__":  # pragma: no cover - python -m forgeguard_app.cli
    raise SystemExit(main())
