"""The aiohttp application and the long-running processes: serve (web + workers) and worker."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from forgeguard_app import webhooks, wiring
from forgeguard_app.builder import jobs as builder_jobs
from forgeguard_app.builder import page as build_page
from forgeguard_app.builder.sandbox import isolation_line, sandbox_status
from forgeguard_app.checkruns import page as audit_page
from forgeguard_app.checkruns.jobs import watchdog
from forgeguard_app.db import Database
from forgeguard_app.embedded import embedded_database_url
from forgeguard_app.jobs import Worker
from forgeguard_app.settings import Settings
from forgeguard_app.web import health, setup, status
from forgeguard_app.web.state import APP_STATE, AppState

if TYPE_CHECKING:
    from forgeguard_app.llm import LLM

log = logging.getLogger(__name__)


def create_app(state: AppState) -> web.Application:
    """The web application: webhooks, health, status page, audit pages, setup."""
    app = web.Application(client_max_size=webhooks.MAX_BODY_BYTES)
    app[APP_STATE] = state
    webhooks.add_routes(app)
    health.add_routes(app)
    app[health.SANDBOX_STATUS] = sandbox_status
    status.add_routes(app)
    audit_page.add_routes(app)
    build_page.add_routes(app)
    setup.add_routes(app)
    return app


def database_url(settings: Settings) -> str:
    """DATABASE_URL, or the embedded server under the data folder."""
    return settings.database_url or embedded_database_url(settings.data_dir)


async def open_database(settings: Settings, *, max_size: int) -> Database:
    """The pool, with the migrations applied (under the lock, so processes may start together)."""
    db = await Database.connect(database_url(settings), min_size=2, max_size=max_size)
    try:
        await db.migrate()
    except BaseException:
        await db.close()
        raise
    return db


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
            yield AppState(settings=settings, db=db, github=github, llm=llm)
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
    # Audits whose worker vanished are completed (never left in progress), and builds whose
    # steps stopped get a final state, by whichever worker process is alive: at start, then
    # every few minutes.
    sweepers = []
    if worker.github is not None:
        sweepers.append(asyncio.create_task(watchdog(worker.db, worker.github, worker.settings)))
        sweepers.append(asyncio.create_task(builder_jobs.watchdog(worker.db, worker.github)))
    await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    worker.stop()
    stopper.cancel()
    for sweeper in sweepers:
        sweeper.cancel()
    await task


async def serve(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Web server and, when `workers` > 0, that many concurrent jobs in this process."""
    stop = stop_event()
    db = await open_database(settings, max_size=20 + 2 * workers)
    try:
        async with clients(settings, db) as state:
            app = create_app(state)
            runner = web.AppRunner(app, access_log=None, handle_signals=False)
            await runner.setup()
            site = web.TCPSite(runner, host, port, backlog=1024)
            await site.start()
            # Everything loaded so far lives as long as the process: keep it out of
            # the collector's passes, and collect less often (each delivery's JSON
            # makes thousands of short-lived objects); both were the p99 tail in
            # bench/ingest.py.
            gc.freeze()
            gc.set_threshold(20_000, 50, 100)
            mode = " (setup mode: open /setup)" if settings.setup_mode else ""
            log.info("listening on http://%s:%d with %d workers%s", host, port, workers, mode)
            worker = None
            if workers > 0:
                log.info("builder sandbox: %s", await asyncio.to_thread(isolation_line))
                worker = _make_worker(state, workers)
            try:
                await run_workers(worker, stop)
            finally:
                await runner.cleanup()
    finally:
        await db.close()


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
    finally:
        await db.close()
