"""What the status-site benchmarks share: a fresh database, a person with repositories and audits,
a signed-in session, and a real `forgeguard serve --workers 0` to measure."""

from __future__ import annotations

import asyncio
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
import asyncpg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from forgeguard_app.db import Database  # noqa: E402
from forgeguard_app.settings import Settings  # noqa: E402
from forgeguard_app.web import sessions  # noqa: E402
from tests.fixtures.db import with_database  # noqa: E402

USER_ID = 1001
INSTALLATION = 77
OWNER = "octo-org"


def server_url(folder: str = "site-pg") -> str:
    """TEST_DATABASE_URL / DATABASE_URL, else an embedded PostgreSQL under bench/.work/<folder>."""
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if url:
        return url
    from forgeguard_app.embedded import embedded_database_url

    return embedded_database_url(HERE / ".work" / folder)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@dataclass
class Bench:
    url: str
    database_url: str
    settings: Settings
    cookie: str
    pid: int
    repos: list[str]


async def seed(
    db: Database, settings: Settings, repos: int, audits: int, others: int
) -> tuple[str, list[str]]:
    """`repos` repositories the person sees with `audits` audits among them, `others` audits of
    repositories they do not see; a session for them. Returns (cookie, repository names)."""
    names = [f"repo-{i:02d}" for i in range(repos)]
    async with db.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO web_access_refreshed (user_id, login, refreshed_at)"
            " VALUES ($1, 'mona', now() + interval '1 day')",
            USER_ID,
        )
        await conn.execute(
            "INSERT INTO web_access_installations VALUES ($1, $2, $3)", USER_ID, INSTALLATION, OWNER
        )
        await conn.executemany(
            "INSERT INTO web_access_repositories VALUES ($1, $2, $3, $4, $5, 'main', true)",
            [(USER_ID, INSTALLATION, 5000 + i, OWNER, name) for i, name in enumerate(names)],
        )
        # The person's audits spread over their repositories (pushes to main, other branches, pull
        # requests), then as many again in repositories they cannot see.
        await conn.execute(
            """INSERT INTO audit_runs (installation_id, owner, repo, head_sha, base, pull_number, branch,
                   default_branch, reason, status, conclusion, title, created_at, completed_at)
               SELECT $1, $2, 'repo-' || lpad((g % $3)::text, 2, '0'), md5(g::text) || '00000000',
                      'main', CASE WHEN g % 5 = 0 THEN g % 300 + 1 END,
                      CASE WHEN g % 5 = 0 THEN NULL WHEN g % 7 = 0 THEN 'feature' ELSE 'main' END,
                      'main', 'push', 'completed',
                      (ARRAY['success', 'success', 'failure', 'neutral'])[g % 4 + 1],
                      CASE WHEN g % 4 = 2 THEN '1 of 12 checks failed: A1' ELSE 'All checks passed' END,
                      now() - (g || ' seconds')::interval, now() - (g || ' seconds')::interval
               FROM generate_series(1, $4) g""",
            INSTALLATION,
            OWNER,
            repos,
            audits,
        )
        await conn.execute(
            """INSERT INTO audit_runs (installation_id, owner, repo, head_sha, branch, default_branch, reason,
                   status, conclusion, title)
               SELECT 900 + g % 40, 'other-' || (g % 40), 'private-' || (g % 97), md5(g::text), 'main',
                      'main', 'push', 'completed', 'success', 'All checks passed'
               FROM generate_series(1, $1) g""",
            others,
        )
        cookie = await sessions.create(conn, settings, USER_ID, "mona", "ghu_" + "x" * 36, sessions.LIFETIME)
    await db.pool.execute("ANALYZE")
    return cookie, names


@asynccontextmanager
async def running(repos: int = 50, audits: int = 20_000, others: int = 20_000) -> AsyncIterator[Bench]:
    """A fresh database seeded as above and `forgeguard serve --workers 0` on it."""
    admin = server_url()
    name = f"fg_site_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = with_database(admin, name)
    port = free_port()
    settings = Settings(
        app_id="1",
        client_id="Iv1.bench",
        client_secret="bench-client-secret",
        private_key=private_key(),
        webhook_secret="bench-secret",
        public_url=f"http://127.0.0.1:{port}",
    )
    db = await Database.connect(url, min_size=1, max_size=4)
    process = None
    try:
        await db.migrate()
        cookie, names = await seed(db, settings, repos, audits, others)
        work = HERE / ".work"
        work.mkdir(exist_ok=True)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "GITHUB_APP_ID": "1",
            "GITHUB_CLIENT_ID": "Iv1.bench",
            "GITHUB_CLIENT_SECRET": "bench-client-secret",
            "GITHUB_PRIVATE_KEY": settings.private_key or "",
            "GITHUB_WEBHOOK_SECRET": "bench-secret",
            # nothing listens there: the status line's GitHub probe fails fast and is cached a minute
            "GITHUB_API_URL": f"http://127.0.0.1:{free_port()}",
            "FORGEGUARD_PUBLIC_URL": settings.public_url,
            "LOG_LEVEL": "warning",
        }
        process = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "forgeguard"), "serve", "--workers", "0", "--port", str(port)],
            cwd=work,
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 60
            while True:
                try:
                    async with session.get(f"{base}/health") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("serve did not become healthy")
                await asyncio.sleep(0.2)
        yield Bench(base, url, settings, cookie, process.pid, names)
    finally:
        if process is not None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        await db.close()
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


def rss_mib(pid: int) -> float:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def cpu_load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of the processes, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:13])
    return total / ticks


async def backend_pids(database_url: str) -> list[int]:
    """The PostgreSQL server processes serving the bench's database (the app's pool), not this query's."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [int(r["pid"]) for r in rows]
    finally:
        await conn.close()
