"""Helpers for the sandbox, workspace and tools tests: a tree, its sandbox, a test venv."""

from __future__ import annotations

import os
import pathlib
import subprocess
from collections.abc import Mapping

import pytest

from forgeguard_app.builder.sandbox import IsolationMode, Sandbox
from forgeguard_app.builder.venv import base_python
from forgeguard_app.builder.workspace import Workspace

BASE = "ba5e" + "0" * 36


@pytest.fixture(scope="session")
def sandbox_venv(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A virtual environment without pip that sees the interpreter's own packages (pytest among
    them): fast to make, no download. `test_sandbox_venv.py` makes a real one with pip."""
    path = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run(
        [str(base_python()), "-m", "venv", "--without-pip", "--system-site-packages", str(path)], check=True
    )
    return path


def make_tree(
    tmp_path: pathlib.Path,
    files: Mapping[str, str | bytes],
    *,
    venv: pathlib.Path | None = None,
    mode: IsolationMode | None = None,
    quota_bytes: int | None = None,
) -> tuple[Workspace, Sandbox]:
    """A working tree of `files` (as the base commit) and its sandbox."""
    raw = {path: data.encode() if isinstance(data, str) else data for path, data in files.items()}
    workspace = Workspace.from_files(tmp_path / "tree", raw, base_commit=BASE, quota_bytes=quota_bytes)
    return workspace, Sandbox(workspace.root, venv=venv, mode=mode)


def processes_with(marker: str) -> list[int]:
    """Pids of live (not zombie) processes whose command line holds `marker`."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                state = handle.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state != b"Z":
            found.append(int(entry.name))
    return found
