"""Live events: 200 open event streams on one web process; how fast a NOTIFY reaches all of them.

Goal (issue 11): an event reaches all 200 streams within 250 ms (p99); memory reported.
A real `forgeguard serve --workers 0`; 200 SSE streams of one signed-in person on
one repository; EVENTS notifications sent from this process with `pg_notify` (as a
worker's commit would), spaced out; each stream notes when each event arrives.
Latency = arrival at the client - the moment `pg_notify` was committed. Baseline in
the same run: the same notifications heard by a plain asyncpg LISTEN in this process
(PostgreSQL's own delivery, the floor). Memory: the web process's resident set before
and with the streams open.

Run: .venv/bin/python bench/site_events.py [--streams 200] [--events 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import aiohttp
import asyncpg
from site_common import INSTALLATION, OWNER, cpu_load, percentile, rss_mib, running

from forgeguard_app.web import live, sessions


async def stream(
    session: aiohttp.ClientSession,
    url: str,
    arrivals: dict[int, list[float]],
    ready: asyncio.Event,
    count: list[int],
) -> None:
    async with session.get(url) as response:
        assert response.status == 200, response.status
        await response.content.readline()  # retry:
        count[0] += 1
        if count[0] == count[1]:
            ready.set()
        async for raw in response.content:
            line = raw.decode()
            if line.startswith("data: "):
                arrivals.setdefault(json.loads(line[6:])["id"], []).append(time.perf_counter())


def summary(name: str, values: list[float], baseline: float | None = None) -> str:
    ratio = f"  p99/baseline p99 {percentile(values, 99) / baseline:.1f}" if baseline else ""
    return (
        f"{name:<34} n={len(values):<6} p50 {statistics.median(values):7.2f} ms  "
        f"p99 {percentile(values, 99):7.2f} ms  max {max(values):7.2f} ms{ratio}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--spacing", type=float, default=0.2, help="seconds between events")
    args = parser.parse_args()
    async with running(repos=50, audits=1000, others=0) as bench:
        rss_before = rss_mib(bench.pid)
        url = f"{bench.url}/repos/{OWNER}/{bench.repos[0]}/events"
        connector = aiohttp.TCPConnector(limit=0)
        headers = {"Cookie": f"{sessions.COOKIE}={bench.cookie}"}
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        arrivals: dict[int, list[float]] = {}
        heard: dict[int, float] = {}
        sent: dict[int, float] = {}
        ready = asyncio.Event()
        count = [0, args.streams]
        async with aiohttp.ClientSession(connector=connector, headers=headers, timeout=timeout) as session:
            tasks = [
                asyncio.create_task(stream(session, url, arrivals, ready, count)) for _ in range(args.streams)
            ]
            await asyncio.wait_for(ready.wait(), 120)
            await asyncio.sleep(1.0)
            rss_open = rss_mib(bench.pid)

            listener = await asyncpg.connect(bench.database_url)
            await listener.add_listener(
                live.CHANNEL,
                lambda _c, _p, _ch, payload: heard.setdefault(json.loads(payload)["id"], time.perf_counter()),
            )
            sender = await asyncpg.connect(bench.database_url)
            for i in range(1, args.events + 1):
                event = live.Event("audit", i, INSTALLATION, OWNER, bench.repos[0])
                sent[i] = time.perf_counter()
                await sender.execute("SELECT pg_notify($1, $2)", live.CHANNEL, event.to_json())
                await asyncio.sleep(args.spacing)
            await asyncio.sleep(2.0)
            rss_after = rss_mib(bench.pid)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await sender.close()
            await listener.close()

        latencies = [(t - sent[i]) * 1000 for i, times in arrivals.items() for t in times]
        per_event_last = [(max(times) - sent[i]) * 1000 for i, times in arrivals.items()]
        baseline = [(heard[i] - sent[i]) * 1000 for i in sent if i in heard]
        delivered = sum(len(t) for t in arrivals.values())
        print(
            f"load average {cpu_load()}; {args.streams} streams, {args.events} events {args.spacing} s apart"
        )
        print(f"delivered {delivered} of {args.streams * args.events} (stream, event) pairs")
        print(summary("baseline: asyncpg LISTEN here", baseline))
        print(summary("event -> each stream", latencies, percentile(baseline, 99)))
        print(summary("event -> the last of the streams", per_event_last))
        print(
            f"web process resident set: {rss_before:.1f} MiB before, {rss_open:.1f} MiB with the streams "
            f"open (+{(rss_open - rss_before) * 1024 / args.streams:.0f} KiB a stream), "
            f"{rss_after:.1f} MiB after the events"
        )


if __name__ == "__main__":
    asyncio.run(main())
