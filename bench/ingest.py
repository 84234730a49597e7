"""Webhook ingest: deliveries accepted per second and acknowledgement latency.

Starts a real `forgeguard serve --workers 0` on loopback against a fresh
database, then posts signed corpus deliveries (handled events with an
installation, so each one is stored and its job queued) over CONCURRENCY
keep-alive connections for DURATION seconds, each with a new delivery id.
Reports accepted deliveries per second and latency percentiles, and checks that
every 202 left exactly one stored delivery and one queued job.

Run: .venv/bin/python bench/ingest.py [--duration 10] [--concurrency 32]
     (TEST_DATABASE_URL or DATABASE_URL picks the PostgreSQL server; else an
     embedded one under bench/.work/ingest-pg)
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import pathlib
import signal
import statistics
import subprocess
import sys
import time
import uuid

import aiohttp
import asyncpg
import uvloop
from site_common import free_port, private_key, server_url

from tests.fixtures.db import with_database

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = ROOT.parent / "shared" / "github-corpus"
SECRET = "bench-secret"
HANDLED = {"push", "pull_request", "check_suite", "check_run", "issue_comment", "installation"}


def payloads() -> list[tuple[str, bytes, str]]:
    """(event, body, signature) for every handled corpus example with an installation."""
    rows = json.loads((CORPUS / "webhooks" / "index.json").read_text())
    out = []
    for row in rows:
        if row["event"] in HANDLED and row["has_installation"]:
            body = (CORPUS / row["file"]).read_bytes()
            signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            out.append((row["event"], body, signature))
    return out


async def wait_healthy(session: aiohttp.ClientSession, base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            async with session.get(f"{base}/health") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.2)
    raise SystemExit("serve did not become healthy")


class Connection:
    """A keep-alive HTTP/1.1 connection on asyncio streams.

    The load generator shares the two cores with the server and PostgreSQL, so
    it sends pre-built requests and parses only the status line and
    Content-Length of the answers (aiohttp, the server under test, always sends
    Content-Length for these JSON answers).
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def post(self, head: bytes, body: bytes) -> int:
        self.writer.write(head.replace(b"{delivery}", str(uuid.uuid4()).encode()) + body)
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length = 0
        while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


def request_head(port: int, event: str, body: bytes, signature: str) -> bytes:
    """The request line and headers; `{delivery}` is replaced by a new id per request."""
    return (
        f"POST /webhooks HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nX-GitHub-Event: {event}\r\n"
        "X-GitHub-Delivery: {delivery}\r\n"
        f"X-Hub-Signature-256: {signature}\r\nUser-Agent: forgeguard-bench\r\n\r\n"
    ).encode()


async def load(base: str, duration: float, concurrency: int) -> tuple[list[float], dict[int, int], float]:
    port = int(base.rsplit(":", 1)[1])
    requests = [(request_head(port, event, body, signature), body) for event, body, signature in payloads()]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    async with aiohttp.ClientSession() as session:
        await wait_healthy(session, base)
    connections = [await Connection.open("127.0.0.1", port) for _ in range(concurrency)]
    # Warm up the connections and the server's statement cache.
    for connection, (head, body) in zip(connections, requests, strict=False):
        await connection.post(head, body)
    counter = 0
    started = time.perf_counter()
    deadline = started + duration

    async def client(connection: Connection) -> None:
        nonlocal counter
        while time.perf_counter() < deadline:
            head, body = requests[counter % len(requests)]
            counter += 1
            t0 = time.perf_counter()
            status = await connection.post(head, body)
            latencies.append(time.perf_counter() - t0)
            statuses[status] = statuses.get(status, 0) + 1

    await asyncio.gather(*(client(connection) for connection in connections))
    elapsed = time.perf_counter() - started
    for connection in connections:
        connection.close()
    return latencies, statuses, elapsed


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of the processes (and their waited-for children), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])
    return total / ticks


async def backend_pids(url: str, database: str) -> list[int]:
    """The server processes serving `database` (the app's pool), not this query's own."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", database
        )
        return [int(r["pid"]) for r in rows]
    finally:
        await conn.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def counts(url: str) -> tuple[int, int]:
    conn = await asyncpg.connect(url)
    try:
        deliveries = await conn.fetchval("SELECT count(*) FROM deliveries WHERE status = 'queued'")
        jobs = await conn.fetchval("SELECT count(*) FROM jobs WHERE kind = 'delivery'")
        return int(deliveries), int(jobs)
    finally:
        await conn.close()


async def admin(url: str, statement: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    options = parser.parse_args()

    admin_url = server_url("ingest-pg")
    name = f"forgeguard_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(admin(admin_url, f'CREATE DATABASE "{name}"'))
    url = with_database(admin_url, name)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "DATABASE_", "FORGEGUARD_"))}
    env.update(
        DATABASE_URL=url,
        GITHUB_APP_ID="1",
        GITHUB_PRIVATE_KEY=private_key().replace("\n", "\\n"),
        GITHUB_WEBHOOK_SECRET=SECRET,
        PORT=str(port),
        LOG_LEVEL="warning",
    )
    command = [sys.executable, "-m", "forgeguard_app", "serve", "--workers", "0"]
    server = subprocess.Popen(command, cwd=HERE, env=env)
    try:
        cpu_before = cpu_seconds([server.pid]), time.process_time()
        latencies, statuses, elapsed = uvloop.run(
            load(f"http://127.0.0.1:{port}", options.duration, options.concurrency)
        )
        cpu_after = cpu_seconds([server.pid]), time.process_time()
        # Lifetime CPU of the app's backends: they were opened for this run (start-up included).
        postgres_cpu = cpu_seconds(asyncio.run(backend_pids(url, name)))
        stored, queued = asyncio.run(counts(url))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        asyncio.run(admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    accepted = statuses.get(202, 0)
    rate = accepted / elapsed
    p50, p95, p99 = (percentile(latencies, q) * 1000 for q in (0.50, 0.95, 0.99))
    print("command: .venv/bin/python bench/ingest.py " + " ".join(sys.argv[1:]))
    print(f"server: forgeguard serve --workers 0 on 127.0.0.1:{port}, {os.cpu_count()} cores")
    print(
        f"requests: {len(latencies)} in {elapsed:.1f}s at concurrency {options.concurrency};"
        f" statuses {statuses}"
    )
    print(f"accepted: {rate:.0f} deliveries/s")
    print(f"ack latency ms: p50 {p50:.1f}  p95 {p95:.1f}  p99 {p99:.1f}  max {max(latencies) * 1000:.1f}")
    print(f"mean {statistics.fmean(latencies) * 1000:.1f} ms")
    server_cpu, client_cpu = (after - before for after, before in zip(cpu_after, cpu_before, strict=True))
    per = 1000 / max(1, len(latencies))
    print(
        f"CPU per request: server {server_cpu * per:.2f} ms, postgres {postgres_cpu * per:.2f} ms,"
        f" load client {client_cpu * per:.2f} ms; load average {os.getloadavg()[0]:.1f}"
    )
    # The warm-up requests are stored and queued too.
    print(f"stored as queued: {stored}, delivery jobs: {queued}")
    ok = rate >= 1000 and p99 < 50 and stored == queued and accepted == len(latencies)
    print("target (>= 1000/s, p99 < 50 ms):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
