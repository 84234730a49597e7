"""Commands in the sandbox, adversarially: secrets, floods of output, fork bombs, sleepers, binary
output, the network, file size limits; in every isolation mode this machine offers."""

from __future__ import annotations

import asyncio
import os
import pathlib
import resource
import socket

import pytest
import uvloop

from forgeguard_app.builder import sandbox as sandbox_module
from forgeguard_app.builder.pids_cgroup import PREFIX, pids_base
from forgeguard_app.builder.sandbox import (
    STDERR_CAP,
    STDOUT_CAP,
    IsolationMode,
    Limits,
    Refused,
    isolation_mode,
)
from tests.builder.sandbox_support import make_tree, processes_with, sandbox_venv

__all__ = ["sandbox_venv"]

SECRETS = {
    "GITHUB_TOKEN": "ghs_fakeinstallationtoken0123456789",
    "GITHUB_PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY-----fake-key-material",
    "GITHUB_WEBHOOK_SECRET": "whsec-fake-webhook-secret-42",
    "ANTHROPIC_API_KEY": "sk-ant-fake-key-0123456789",
    "DATABASE_URL": "postgresql://forge:fake-db-password@db/forge",
    "AWS_SECRET_ACCESS_KEY": "fake-aws-secret-access-key",
    "HTTPS_PROXY": "http://proxyuser:fake-proxy-password@proxy:3128",
}

ENV_TEST = """
import os

def test_prints_the_environment():
    print(dict(os.environ))
"""


def available_modes() -> list[IsolationMode]:
    """The active mode and every weaker one (a weaker one always works where a stronger does)."""
    order = [IsolationMode.BWRAP, IsolationMode.UNSHARE, IsolationMode.RULES]
    return order[order.index(isolation_mode()) :]


@pytest.fixture
def secrets_in_worker(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    return SECRETS


@pytest.mark.parametrize("mode", available_modes())
async def test_a_test_printing_os_environ_sees_no_secret_of_the_worker(
    tmp_path: pathlib.Path, sandbox_venv: pathlib.Path, secrets_in_worker: dict[str, str], mode: IsolationMode
) -> None:
    _, sandbox = make_tree(tmp_path, {"tests/test_env.py": ENV_TEST}, venv=sandbox_venv, mode=mode)
    result = await sandbox.run("pytest -q -s -p no:cacheprovider tests/test_env.py", time_limit=120)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "'HOME':" in result.stdout
    output = result.stdout + result.stderr
    for name, value in secrets_in_worker.items():
        assert value not in output, name
        assert f"'{name}'" not in output, name


async def test_an_install_gets_the_proxy_only_without_credentials(
    tmp_path: pathlib.Path, sandbox_venv: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, sandbox = make_tree(tmp_path, {}, venv=sandbox_venv)
    monkeypatch.setenv("HTTPS_PROXY", "http://user:pw@proxy:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy:3128")
    env = sandbox.environment(network=True)
    assert env["HTTP_PROXY"] == "http://proxy:3128"
    assert "HTTPS_PROXY" not in env
    assert "HTTP_PROXY" not in sandbox.environment(network=False)


async def test_an_install_gets_the_operators_wheelhouse_and_no_index_setting(
    tmp_path: pathlib.Path, sandbox_venv: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, sandbox = make_tree(tmp_path, {}, venv=sandbox_venv)
    monkeypatch.setenv("PIP_FIND_LINKS", "/srv/wheels")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    env = sandbox.environment(network=True)
    assert (env["PIP_FIND_LINKS"], env["PIP_NO_INDEX"]) == ("/srv/wheels", "1")
    assert "PIP_FIND_LINKS" not in sandbox.environment(network=False)


async def test_home_and_path_point_into_the_tree_and_the_venv(
    tmp_path: pathlib.Path, sandbox_venv: pathlib.Path
) -> None:
    workspace, sandbox = make_tree(tmp_path, {}, venv=sandbox_venv)
    env = sandbox.environment()
    assert env["HOME"].startswith(str(workspace.root.resolve()))
    assert env["PATH"].split(":")[0] == str(sandbox_venv.resolve() / "bin")
    assert env["VIRTUAL_ENV"] == str(sandbox_venv.resolve())


async def test_python_runs_from_the_build_venv(tmp_path: pathlib.Path, sandbox_venv: pathlib.Path) -> None:
    _, sandbox = make_tree(tmp_path, {"where.py": "import sys\nprint(sys.prefix)\n"}, venv=sandbox_venv)
    result = await sandbox.run("python -m where", time_limit=60)
    assert result.stdout.strip() == str(sandbox_venv.resolve())


async def test_python_is_refused_when_the_venv_is_not_ready(tmp_path: pathlib.Path) -> None:
    _, sandbox = make_tree(tmp_path, {}, venv=tmp_path / "missing-venv")
    with pytest.raises(Refused, match="virtual environment is not ready"):
        await sandbox.run("pytest -q", time_limit=10)


FLOOD = """
import sys
chunk = b"x" * 1_000_000 + b"\\n"
for _ in range(100):
    sys.stdout.buffer.write(chunk)
sys.stdout.buffer.write(b"THE END\\n")
sys.stderr.write("e" * 2_000_000)
"""


async def test_100_mb_of_output_is_cut_and_read_in_bounded_memory(
    tmp_path: pathlib.Path, sandbox_venv: pathlib.Path
) -> None:
    _, sandbox = make_tree(tmp_path, {"flood.py": FLOOD}, venv=sandbox_venv)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = await sandbox.run("python -m flood", time_limit=120)
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert result.exit_code == 0
    assert len(result.stdout) < STDOUT_CAP + 200
    assert len(result.stderr) < STDERR_CAP + 200
    assert result.stdout_cut > 100_000_000 - STDOUT_CAP - 1000
    assert result.stdout.rstrip().endswith("THE END")
    assert "bytes of output cut" in result.stdout
    assert grown_kb < 40_000


FORK_BOMB = """
import os, time
made = 0
for _ in range(3000):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(600)
        os._exit(0)
    made += 1
print("forked", made, flush=True)
time.sleep(600)
"""


async def test_a_fork_bomb_hits_the_process_limit_and_is_killed_whole(
    tmp_path: pathlib.Path, sandbox_venv: pathlib.Path
) -> None:
    _, sandbox = make_tree(tmp_path, {"bomb.py": FORK_BOMB}, venv=sandbox_venv)
    result = await sandbox.run("python -m bomb", time_limit=15, limits=Limits(processes=64))
    assert result.timed_out
    forked = int(result.stdout.split()[1])
    # 64 more than the user had when the command started (others may have ended since).
    assert forked < 100
    with pytest.raises(ProcessLookupError):
        os.killpg(result.pgid, 0)


@pytest.mark.skipif(pids_base() is None, reason="needs root and a pids cgroup it can make")
async def test_a_fork_bomb_run_as_root_is_capped_by_a_pids_cgroup(
    tmp_path: pathlib.Path, sandbox_venv: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # no bubblewrap, and an interpreter uid 65534 cannot reach: commands run as root
    monkeypatch.setattr(sandbox_module, "_open_to_others", lambda path: False)
    _, sandbox = make_tree(tmp_path, {"bomb.py": FORK_BOMB}, venv=sandbox_venv, mode=IsolationMode.RULES)
    assert sandbox.command_user() is None
    result = await sandbox.run("python -m bomb", time_limit=8, limits=Limits(processes=64))
    assert result.timed_out
    assert int(result.stdout.split()[1]) < 64
    with pytest.raises(ProcessLookupError):
        os.killpg(result.pgid, 0)
    base = pids_base()
    assert base is not None
    assert [p.name for p in base.iterdir() if p.name.startswith(PREFIX)] == []


SLEEPER = """
import subprocess, time

def test_sleeps_past_its_limit():
    subprocess.Popen(["sleep", "4242.5"])
    time.sleep(600)
"""


async def test_a_test_sleeping_past_its_limit_is_killed_with_its_whole_process_group(
    tmp_path: pathlib.Path, sandbox_venv: pathlib.Path
) -> None:
    _, sandbox = make_tree(tmp_path, {"tests/test_sleep.py": SLEEPER}, venv=sandbox_venv)
    result = await sandbox.run("pytest -q -p no:cacheprovider tests/test_sleep.py", time_limit=5)
    assert result.timed_out
    assert result.exit_code is None
    assert result.duration < 15
    with pytest.raises(ProcessLookupError):
        os.killpg(result.pgid, 0)
    assert processes_with("4242.5") == []


ESCAPER = """
import subprocess
subprocess.Popen(["sleep", "4343.5"], start_new_session=True)
print("left a child in its own session")
"""


@pytest.mark.parametrize("mode", available_modes())
async def test_a_child_in_its_own_session_dies_with_the_command(
    tmp_path: pathlib.Path, sandbox_venv: pathlib.Path, mode: IsolationMode
) -> None:
    _, sandbox = make_tree(tmp_path, {"escape.py": ESCAPER}, venv=sandbox_venv, mode=mode)
    result = await sandbox.run("python -m escape", time_limit=30)
    assert result.exit_code == 0
    assert processes_with("4343.5") == []


BINARY = """
import sys
sys.stdout.buffer.write(bytes(range(256)) * 4 + b"\\x1b[31mred\\x1b[0m\\n")
sys.stderr.buffer.write(b"\\xff\\xfe\\x00bad")
"""


async def test_binary_output_is_decoded_without_failing(
    tmp_path: pathlib.Path, sandbox_venv: pathlib.Path
) -> None:
    _, sandbox = make_tree(tmp_path, {"binary.py": BINARY}, venv=sandbox_venv)
    result = await sandbox.run("python -m binary", time_limit=60)
    assert result.exit_code == 0
    assert "\ufffd" in result.stdout and "\ufffd" in result.stderr
    assert "\x00" not in result.stdout + result.stderr
    assert "\x1b" not in result.stdout
    assert "red" in result.stdout


CONNECT = """
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3).close()
    print("connected")
except OSError as exc:
    print("no network:", exc)
"""


@pytest.mark.parametrize("mode", [m for m in available_modes() if m is not IsolationMode.RULES])
async def test_commands_have_no_network_where_a_namespace_can_be_made(
    tmp_path: pathlib.Path, sandbox_venv: pathlib.Path, mode: IsolationMode
) -> None:
    _, sandbox = make_tree(tmp_path, {"connect.py": CONNECT}, venv=sandbox_venv, mode=mode)
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        port = listener.getsockname()[1]
        python = str(sandbox_venv / "bin" / "python")
        result = await sandbox.run_argv([python, "-m", "connect", str(port)], time_limit=30)
        installing = await sandbox.run_argv([python, "-m", "connect", str(port)], time_limit=30, network=True)
    finally:
        listener.close()
    assert result.stdout.startswith("no network"), result.stdout + result.stderr
    assert installing.stdout.startswith("connected"), installing.stdout + installing.stderr


BIG_FILE = """
try:
    with open("big.bin", "wb") as handle:
        handle.write(b"0" * 3_000_000)
    print("wrote")
except OSError as exc:
    print("refused:", exc.strerror)
"""


async def test_a_file_past_the_size_limit_cannot_be_written(
    tmp_path: pathlib.Path, sandbox_venv: pathlib.Path
) -> None:
    _, sandbox = make_tree(tmp_path, {"big.py": BIG_FILE}, venv=sandbox_venv)
    result = await sandbox.run("python -m big", time_limit=60, limits=Limits(file_size=1_000_000))
    assert result.stdout.strip() == "refused: File too large"


MEMORY = """
try:
    hog = bytearray(3 * 1024 * 1024 * 1024)
    print("allocated")
except MemoryError:
    print("memory refused")
"""


async def test_memory_past_the_address_space_limit_is_refused(
    tmp_path: pathlib.Path, sandbox_venv: pathlib.Path
) -> None:
    _, sandbox = make_tree(tmp_path, {"hog.py": MEMORY}, venv=sandbox_venv)
    result = await sandbox.run("python -m hog", time_limit=60, limits=Limits(address_space=1 << 30))
    assert result.stdout.strip() == "memory refused"


WRITER = """
from pathlib import Path
Path("out.txt").write_text("written by the command")
Path("src/app.py").write_text("changed by the command")
"""


@pytest.mark.parametrize("mode", available_modes())
async def test_commands_write_in_the_tree_in_every_mode(
    tmp_path: pathlib.Path, sandbox_venv: pathlib.Path, mode: IsolationMode
) -> None:
    workspace, sandbox = make_tree(
        tmp_path, {"writer.py": WRITER, "src/app.py": "x = 1\n"}, venv=sandbox_venv, mode=mode
    )
    workspace.write("src/app.py", b"written by the model\n")
    result = await sandbox.run("python -m writer", time_limit=60)
    assert result.exit_code == 0, result.stderr
    assert workspace.pending() == {
        "out.txt": b"written by the command",
        "src/app.py": b"changed by the command",
    }


SYSTEM_WRITER = """
import sys
try:
    open(sys.argv[1], "w").write("x")
    print("wrote")
except OSError as exc:
    print("refused:", exc.strerror)
"""


@pytest.mark.skipif(isolation_mode() is not IsolationMode.BWRAP, reason="needs bubblewrap")
async def test_under_bubblewrap_the_venv_and_the_system_are_read_only(
    tmp_path: pathlib.Path, sandbox_venv: pathlib.Path
) -> None:
    _, sandbox = make_tree(tmp_path, {"system_writer.py": SYSTEM_WRITER}, venv=sandbox_venv)
    python = str(sandbox_venv / "bin" / "python")
    for target in (str(sandbox_venv / "planted.txt"), "/usr/planted.txt", "/etc/planted.txt"):
        result = await sandbox.run_argv([python, "-m", "system_writer", target], time_limit=30)
        assert result.stdout.startswith("refused"), (target, result.stdout, result.stderr)
    assert not (sandbox_venv / "planted.txt").exists()


@pytest.mark.skipif(isolation_mode() is not IsolationMode.BWRAP, reason="needs bubblewrap")
async def test_under_bubblewrap_the_worker_files_are_out_of_sight(
    tmp_path: pathlib.Path, sandbox_venv: pathlib.Path
) -> None:
    secret = tmp_path / "worker-data" / "private-key.pem"
    secret.parent.mkdir()
    secret.write_text("fake key")
    _, sandbox = make_tree(tmp_path, {}, venv=sandbox_venv)
    cat = await sandbox.run_argv(["/bin/cat", str(secret)], time_limit=30)
    assert cat.exit_code != 0
    assert "fake key" not in cat.stdout


@pytest.mark.skipif(isolation_mode() is not IsolationMode.BWRAP, reason="needs bubblewrap")
async def test_under_bubblewrap_temporary_files_go_to_the_commands_own_tmp(
    tmp_path: pathlib.Path, sandbox_venv: pathlib.Path
) -> None:
    files = {"where.py": "import tempfile\nprint(tempfile.gettempdir())\n"}
    _, sandbox = make_tree(tmp_path, files, venv=sandbox_venv)
    python = str(sandbox_venv / "bin" / "python")
    result = await sandbox.run_argv([python, "-m", "where"], time_limit=30, network=True)
    assert result.stdout == "/tmp\n", result.stderr


@pytest.mark.skipif(isolation_mode() is not IsolationMode.BWRAP, reason="needs bubblewrap")
async def test_under_bubblewrap_only_an_install_sees_the_operators_wheelhouse(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir(mode=0o755)
    (wheels / "shelf_helper-1.0-py3-none-any.whl").write_bytes(b"a wheel")
    monkeypatch.setenv("PIP_FIND_LINKS", f"file://{wheels}")
    _, sandbox = make_tree(tmp_path, {})
    install = await sandbox.run_argv(["/bin/ls", str(wheels)], time_limit=30, network=True)
    other = await sandbox.run_argv(["/bin/ls", str(wheels)], time_limit=30)
    assert install.stdout.split() == ["shelf_helper-1.0-py3-none-any.whl"], install.stderr
    assert other.exit_code != 0 and other.stdout == ""


async def test_commands_run_side_by_side(tmp_path: pathlib.Path) -> None:
    _, sandbox = make_tree(tmp_path, {"a.txt": "hello\n"})
    results = await asyncio.gather(*(sandbox.run("cat a.txt", time_limit=30) for _ in range(3)))
    assert [r.stdout for r in results] == ["hello\n"] * 3


@pytest.mark.parametrize("mode", available_modes())
def test_a_command_runs_on_uvloop_as_forgeguard_worker_runs_it(
    tmp_path: pathlib.Path, sandbox_venv: pathlib.Path, mode: IsolationMode
) -> None:
    _, sandbox = make_tree(tmp_path, {"a.txt": "seen under uvloop\n"}, venv=sandbox_venv, mode=mode)
    result = uvloop.run(sandbox.run("cat a.txt", time_limit=30))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout == "seen under uvloop\n"
