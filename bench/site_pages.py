"""Status site pages: `/` and `/repos/{owner}/{repo}` for a person with 50 repositories and 20,000 audits.

Goal (issue 11): p99 under 50 ms on this machine. A real `forgeguard serve
--workers 0` on a fresh database (the person's 20,000 audits plus 20,000 in
repositories they cannot see), one signed-in session, requests one after the
other over a keep-alive connection. The baseline, measured in the same run on
the same connection, is `GET /health` (one small query): the ratio says what the
pages cost beyond the server's floor.

Run: .venv/bin/python bench/site_pages.py [--requests 1000]
     (TEST_DATABASE_URL or DATABASE_URL picks the PostgreSQL server; else an embedded one)
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import aiohttp
from site_common import Bench, backend_pids, cpu_load, cpu_seconds, percentile, running

from forgeguard_app.web import sessions


async def timed(session: aiohttp.ClientSession, url: str, n: int) -> list[float]:
    latencies = []
    for i in range(n):
        t0 = time.perf_counter()
        async with session.get(url.format(i=i)) as response:
            body = await response.read()
            assert response.status == 200, (response.status, body[:300])
        latencies.append((time.perf_counter() - t0) * 1000)
    return latencies


async def measured(
    bench: Bench, session: aiohttp.ClientSession, urls: list[str], n: int
) -> tuple[list[float], float, float]:
    """Latencies (ms) of `n` requests over `urls` in turn, and the CPU ms per request of the web
    process and of its PostgreSQL backends (load-independent, unlike the wall clock on a shared machine)."""
    pids = await backend_pids(bench.database_url)
    web0, pg0 = cpu_seconds([bench.pid]), cpu_seconds(pids)
    latencies: list[float] = []
    for i in range(n):
        latencies += await timed(session, urls[i % len(urls)], 1)
    web_ms = (cpu_seconds([bench.pid]) - web0) * 1000 / n
    pg_ms = (cpu_seconds(pids) - pg0) * 1000 / n
    return latencies, web_ms, pg_ms


def line(name: str, result: tuple[list[float], float, float], baseline: float | None = None) -> str:
    values, web_ms, pg_ms = result
    p50, p99 = statistics.median(values), percentile(values, 99)
    ratio = f"  p99/baseline {p99 / baseline:4.1f}" if baseline else ""
    return (
        f"{name:<28} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  max {max(values):6.2f} ms"
        f"  CPU/request web {web_ms:5.2f} ms + PostgreSQL {pg_ms:5.2f} ms{ratio}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    async with running() as bench:
        cookie = {"Cookie": f"{sessions.COOKIE}={bench.cookie}"}
        async with aiohttp.ClientSession(headers=cookie) as session:
            home = await (await session.get(bench.url + "/")).text()
            assert 'id="login">mona<' in home and home.count('class="repository"') == 50, home[-3000:]
            repo_urls = [f"{bench.url}/repos/octo-org/{name}" for name in bench.repos]
            # warm up: statement caches, templates
            for warm in (bench.url + "/health", bench.url + "/", repo_urls[0]):
                await timed(session, warm, 50)
            health = await measured(bench, session, [bench.url + "/health"], args.requests)
            dashboard = await measured(bench, session, [bench.url + "/"], args.requests)
            timeline = await measured(bench, session, repo_urls, args.requests)
            older = await measured(bench, session, [u + "?before=15000" for u in repo_urls], args.requests)
        base = percentile(health[0], 99)
        print(f"load average {cpu_load()}; {args.requests} requests each, one after the other")
        print(line("baseline GET /health", health))
        print(line("GET / (50 repositories)", dashboard, base))
        print(line("GET /repos/{o}/{r}", timeline, base))
        print(line("GET /repos/{o}/{r}?before=", older, base))


if __name__ == "__main__":
    asyncio.run(main())
