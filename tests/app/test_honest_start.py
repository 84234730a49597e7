"""An honest start: bound when ready, the setup URL shown, a shutdown line, errors name a variable."""

from __future__ import annotations

import asyncio
import pathlib
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import aiohttp
import pytest

from forgeguard_app import __version__, server
from forgeguard_app.settings import Settings
from tests.app.test_processes import free_port, process_env, start

ROOT = pathlib.Path(__file__).resolve().parents[2]


def forgeguard(tmp_path: pathlib.Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "forgeguard_app", *args],
        cwd=tmp_path,
        env=process_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_version_prints_the_version(tmp_path: pathlib.Path) -> None:
    result = forgeguard(tmp_path, "--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"forgeguard {__version__}")


@pytest.mark.parametrize("url", ["notaurl", "ftp://x/y", "http://"])
def test_replay_with_a_wrong_url_is_one_line_without_a_traceback(tmp_path: pathlib.Path, url: str) -> None:
    payload = tmp_path / "push.json"
    payload.write_text("{}")
    result = forgeguard(
        tmp_path, "replay", str(payload), "--event", "push", "--url", url, GITHUB_WEBHOOK_SECRET="s"
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"forgeguard: --url must be an http(s) URL such as http://127.0.0.1:3000/webhooks, got {url!r}"
    ]


def test_an_unreachable_database_url_is_named(tmp_path: pathlib.Path) -> None:
    port = free_port()
    result = forgeguard(
        tmp_path, "serve", "--workers", "0", DATABASE_URL=f"postgresql://fg:hunter2@127.0.0.1:{port}/fg"
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    where = f"postgresql://fg:***@127.0.0.1:{port}/fg"
    assert lines[-1] == f"forgeguard: DATABASE_URL: cannot connect to {where}: Connection refused"
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr + result.stdout


def test_a_busy_port_suggests_another_with_port(tmp_path: pathlib.Path, database_url: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = forgeguard(
            tmp_path, "serve", "--workers", "0", "--port", str(port), DATABASE_URL=database_url
        )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert f"port {port} on 127.0.0.1 is already in use" in last and "--port" in last
    assert "Traceback" not in result.stderr


async def test_serve_prints_the_setup_url_answers_once_listening_and_says_when_it_stopped(
    tmp_path: pathlib.Path, database_url: str
) -> None:
    port = free_port()
    code = f"from forgeguard_app.cli import main\nraise SystemExit(main(['serve', '--port', '{port}']))\n"
    process = await start(tmp_path, code, process_env(tmp_path, DATABASE_URL=database_url))
    assert process.stdout is not None
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while not any("listening on" in line for line in lines):
            assert time.monotonic() < deadline, lines
            lines.append((await asyncio.wait_for(process.stdout.readline(), 60)).decode())
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/health") as health,
        ):
            assert health.status == 200
        lines.append((await asyncio.wait_for(process.stdout.readline(), 10)).decode())
    finally:
        process.send_signal(signal.SIGTERM)
        rest = (await asyncio.wait_for(process.stdout.read(), 60)).decode()
        await process.wait()
    output = "".join(lines) + rest
    assert f"http://127.0.0.1:{port}/setup" in output
    assert "ForgeGuard stopped" in output
    assert process.returncode == 0


async def test_the_port_is_bound_only_once_the_workers_are_ready(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: pathlib.Path
) -> None:
    port = free_port()
    seen: list[bool] = []
    real_make = server._make_worker

    def make_and_probe(state: Any, workers: int) -> Any:
        with socket.socket() as probe:
            seen.append(probe.connect_ex(("127.0.0.1", port)) == 0)
        return real_make(state, workers)

    async def stop_at_once(worker: object, stop: asyncio.Event) -> None:
        return None

    monkeypatch.setattr(server, "_make_worker", make_and_probe)
    monkeypatch.setattr(server, "run_workers", stop_at_once)
    settings = Settings(database_url=database_url, data_dir=tmp_path / "data")
    await server.serve(settings, host="127.0.0.1", port=port, workers=1)
    assert seen == [False]
