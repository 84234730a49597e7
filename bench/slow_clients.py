"""Slow clients and big unsigned bodies against `POST /webhooks` (issue 10, item 10).

Runs the app's web server in a child process (`forgeguard serve --workers 0`
against DATABASE_URL, default the local server) twice: as configured, and as a
baseline with the old limits patched in (aiohttp's hour-long keep-alive, no
body budget, no body timeout). For each it reports

- how many of N slowloris connections (headers sent one line every 2 s) are
  still open after T seconds;
- the server's resident memory before and at the peak while 16 clients each
  send a 24 MiB unsigned body.

    .venv/bin/python bench/slow_clients.py [--connections 300] [--hold 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time

from site_common import free_port

BASELINE = (
    "import forgeguard_app.server as s, forgeguard_app.webhooks as w; "
    "s.HEADER_TIMEOUT = 3630; w.UNVERIFIED_BYTES = 1 << 40; w.BODY_TIMEOUT = 3600; "
)
BODY = b"x" * (24 * 1024 * 1024)


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def wait_ready(port: int) -> None:
    for _ in range(300):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise SystemExit("the server did not start")


async def slowloris(port: int, connections: int, hold: float) -> int:
    async def one() -> bool:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"POST /webhooks HTTP/1.1\r\nHost: x\r\n")
            deadline = time.monotonic() + hold
            while time.monotonic() < deadline:
                writer.write(b"X-Slow: 1\r\n")
                await writer.drain()
                try:
                    if await asyncio.wait_for(reader.read(1), 2.0) == b"":
                        return False
                except TimeoutError:
                    pass
            writer.close()
            return True
        except OSError:
            return False

    return sum(await asyncio.gather(*(one() for _ in range(connections))))


async def big_bodies(port: int, pid: int, clients: int) -> tuple[float, float, dict[int, int]]:
    before = rss_mib(pid)
    peak = before
    statuses: dict[int, int] = {}

    async def one() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        head = (
            b"POST /webhooks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"X-GitHub-Event: push\r\nX-GitHub-Delivery: d\r\n"
            b"X-Hub-Signature-256: sha256=" + b"0" * 64 + b"\r\n"
        )
        writer.write(head + b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n")
        try:
            writer.write(BODY)
            await writer.drain()
        except OSError:
            pass
        line = await reader.readline()
        status = int(line.split()[1]) if line else 0
        statuses[status] = statuses.get(status, 0) + 1
        writer.close()

    task = asyncio.gather(*(one() for _ in range(clients)))
    while not task.done():
        peak = max(peak, rss_mib(pid))
        await asyncio.sleep(0.02)
    await task
    return before, peak, statuses


async def measure(baseline: bool, connections: int, hold: float) -> None:
    port = free_port()
    env = dict(os.environ, GITHUB_WEBHOOK_SECRET="bench", GITHUB_APP_ID="1", LOG_LEVEL="warning")
    env.setdefault("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    env.setdefault("GITHUB_PRIVATE_KEY", _key())
    patch = BASELINE if baseline else ""
    serve = f"['serve', '--workers', '0', '--port', '{port}']"
    command = f"{patch}from forgeguard_app.cli import main; main({serve})"
    proc = subprocess.Popen([sys.executable, "-c", command], env=env)
    try:
        await wait_ready(port)
        before, peak, statuses = await big_bodies(port, proc.pid, 16)
        still_open = await slowloris(port, connections, hold)
        label = "baseline (old settings)" if baseline else "hardened"
        print(
            f"{label}: 16 x 24 MiB unsigned bodies: RSS {before:.0f} -> peak {peak:.0f} MiB "
            f"(+{peak - before:.0f}), answers {statuses}; "
            f"slowloris: {still_open} of {connections} connections open after {hold:.0f} s"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=300)
    parser.add_argument("--hold", type=float, default=30.0)
    args = parser.parse_args()
    asyncio.run(measure(True, args.connections, args.hold))
    asyncio.run(measure(False, args.connections, args.hold))


if __name__ == "__main__":
    main()
