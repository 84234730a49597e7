"""The aiohttp application and the long-running processes: serve (web + workers) and worker."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import logging
import os
import signal
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg
from aiohttp import web

from forgeguard_app import redeliver, retention, webhooks, wiring
from forgeguard_app.builder import jobs as builder_jobs
from forgeguard_app.builder.sandbox import isolation_line, sandbox_status
from forgeguard_app.builder.site import BuilderSource
from forgeguard_app.checkruns import page as audit_page
from forgeguard_app.checkruns.jobs import watchdog
from forgeguard_app.db import Database
from forgeguard_app.embedded import embedded_database_url
from forgeguard_app.jobs import Worker
from forgeguard_app.settings import Settings
from forgeguard_app.web import headers, health, pages, setup, signin
from forgeguard_app.web.state import APP_STATE, AppState

if TYPE_CHECKING:
    from forgeguard_app.llm import LLM

log = logging.getLogger(__name__)

HEADER_TIMEOUT = 15.0
"""Seconds a connection may stay without a complete request (its headers), before or between requests."""


def create_app(state: AppState) -> web.Application:
    """The web application: webhooks, health, the status site (pages, sign-in, live events), setup."""
    app = web.Application(client_max_size=webhooks.MAX_BODY_BYTES)
    app[APP_STATE] = state
    webhooks.add_routes(app)
    health.add_routes(app)
    app[health.SANDBOX_STATUS] = sandbox_status
    audit_page.add_routes(app)
    setup.add_routes(app)
    signin.add_routes(app)
    pages.add_routes(app)
    headers.install(app)
    return app


def make_runner(app: web.Application, header_timeout: float | None = None) -> web.AppRunner:
    """The runner `serve` binds: slow clients (headers dribbled in, idle keep-alives) cut off.

    aiohttp closes a connection whose request has not fully arrived when its
    keep-alive timer fires (its default is an hour); bodies have their own
    timeout in `webhooks`.
    """
    timeout = HEADER_TIMEOUT if header_timeout is None else header_timeout
    return web.AppRunner(app, access_log=None, handle_signals=False, keepalive_timeout=timeout)


def database_url(settings: Settings) -> str:
    """DATABASE_URL, or the embedded server under the data folder."""
    return settings.database_url or embedded_database_url(settings.data_dir)


class StartupError(Exception):
    """A reason the process cannot start, as one line naming the variable or option to change."""


def _safe_url(url: str) -> str:
    """A database URL without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


async def open_database(settings: Settings, *, max_size: int) -> Database:
    """The pool, with the migrations applied (under the lock, so processes may start together)."""
    url = database_url(settings)
    try:
        db = await Database.connect(url, min_size=2, max_size=max_size)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        reason = os.strerror(exc.errno) if isinstance(exc, OSError) and exc.errno else str(exc)
        if settings.database_url:
            raise StartupError(f"DATABASE_URL: cannot connect to {_safe_url(url)}: {reason}") from None
        raise StartupError(
            f"the embedded PostgreSQL under FORGEGUARD_DATA_DIR ({settings.data_dir}) cannot be reached "
            f"(set DATABASE_URL to use another server): {reason}"
        ) from None
    try:
        await db.migrate()
    except BaseException:
        await db.close()
        raise
    return db


async def bind(runner: web.AppRunner, host: str, port: int) -> None:
    """Listen on host:port; a busy or forbidden port is a StartupError that says what to change."""
    site = web.TCPSite(runner, host, port, backlog=1024)
    try:
        await site.start()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(
                f"port {port} on {host} is already in use: stop the other process or choose another "
                "port with --port (or PORT)"
            ) from None
        if exc.errno == errno.EACCES:
            raise StartupError(
                f"port {port} needs privileges: choose a port above 1023 with --port (or PORT)"
            ) from None
        raise StartupError(
            f"cannot listen on {host}:{port} (HOST, --host / PORT, --port): {exc.strerror}"
        ) from None


def local_url(host: str, port: int, path: str = "") -> str:
    """The address to open in a browser on this machine."""
    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else (f"[{host}]" if ":" in host else host)  # noqa: S104
    return f"http://{shown}:{port}{path}"


@contextlib.asynccontextmanager
async def clients(settings: Settings, db: Database) -> AsyncIterator[AppState]:
    """The shared GitHub client (none in setup mode) and LLM (none without a key)."""
    async with aiohttp.ClientSession() as session:
        github = None
        if not settings.setup_mode:
            from forgeguard_app.github.client import GitHubApp

            github = GitHubApp(settings, session)
        llm = _llm_for(settings, db)
        try:
            yield AppState(
                settings=settings, db=db, github=github, llm=llm, builds=BuilderSource(settings.github_url)
            )
        finally:
            if llm is not None:
                await llm.close()


def _llm_for(settings: Settings, db: Database) -> LLM | None:
    if not settings.anthropic_api_key:
        return None
    from forgeguard_app.llm import LLM

    return LLM(settings, db)


def stop_event() -> asyncio.Event:
    """Set on SIGTERM or SIGINT."""
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, event.set)
    return event


async def run_workers(worker: Worker | None, stop: asyncio.Event) -> None:
    if worker is None:
        await stop.wait()
        return
    task = asyncio.create_task(worker.run())
    stopper = asyncio.create_task(stop.wait())
    # Audits whose worker vanished are completed (never left in progress) by
    # whichever worker process is alive: at start, then every few minutes.
    sweepers = []
    if worker.github is not None:
        sweepers.append(asyncio.create_task(watchdog(worker.db, worker.github, worker.settings)))
        # builds whose steps stopped get a final state too
        sweepers.append(asyncio.create_task(builder_jobs.watchdog(worker.db, worker.github)))
    pruner = asyncio.create_task(retention.keep_pruning(worker.db, worker.settings.retention_days))
    await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    worker.stop()
    stopper.cancel()
    pruner.cancel()
    for sweeper in sweepers:
        sweeper.cancel()
    await task


async def serve(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Web server and, when `workers` > 0, that many concurrent jobs in this process.

    Everything is loaded before the port is bound, so "listening" means answering.
    """
    stop = stop_event()
    db = await open_database(settings, max_size=20 + 2 * workers)
    try:
        async with clients(settings, db) as state:
            app = create_app(state)
            worker = None
            if workers > 0:
                log.info("builder sandbox: %s", await asyncio.to_thread(isolation_line))
                worker = _make_worker(state, workers)
            runner = make_runner(app)
            await runner.setup()
            try:
                await bind(runner, host, port)
                # Everything loaded so far lives as long as the process: keep it out of
                # the collector's passes, and collect less often (each delivery's JSON
                # makes thousands of short-lived objects); both were the p99 tail in
                # bench/ingest.py.
                gc.freeze()
                gc.set_threshold(20_000, 50, 100)
                log.info("listening on %s with %d workers", local_url(host, port), workers)
                if settings.setup_mode:
                    log.info(
                        "setup mode: open %s to register the GitHub App", local_url(host, port, "/setup")
                    )
                # Deliveries refused while the database was down are asked for again (at start, then
                # whenever it comes back): GitHub does not redeliver them by itself.
                watch = None
                if state.github is not None:
                    watch = asyncio.create_task(redeliver.keep_watch(db, state.github, app[webhooks.MISSED]))
                try:
                    await run_workers(worker, stop)
                finally:
                    if watch is not None:
                        watch.cancel()
                    log.info("stopping: no new requests; finishing the jobs in progress")
            finally:
                await runner.cleanup()
    finally:
        await db.close()
    log.info("ForgeGuard stopped")


def _make_worker(state: AppState, workers: int) -> Worker:
    return Worker(
        state.db,
        state.settings,
        concurrency=workers,
        github=state.github,
        llm=state.llm,
        registry=wiring.job_registry(),
    )


async def work(settings: Settings, *, workers: int) -> None:
    """Workers only."""
    stop = stop_event()
    db = await open_database(settings, max_size=4 + 2 * workers)
    try:
        async with clients(settings, db) as state:
            log.info("worker started with %d workers", workers)
            log.info("builder sandbox: %s", await asyncio.to_thread(isolation_line))
            await run_workers(_make_worker(state, workers), stop)
            log.info("stopping: finishing the jobs in progress")
    finally:
        await db.close()
    log.info("ForgeGuard worker stopped")
