"""A pids cgroup for one sandboxed command: the process cap that binds root.

`RLIMIT_NPROC` does not hold root, so a command the sandbox has to run as root (no bubblewrap,
and an interpreter the unprivileged user cannot reach) could fork without bound. Where this
process is root and the kernel's pids controller is there to use (cgroup v1's `pids`
hierarchy, or a cgroup v2 whose subtree has `pids` enabled), such a command runs in a cgroup of
its own whose `pids.max` is its process budget; the cgroup is emptied and removed after it.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import secrets
import signal
import time
from pathlib import Path

log = logging.getLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")
PREFIX = "forgeguard-"


@functools.cache
def pids_base() -> Path | None:
    """The cgroup under which this process can make pids cgroups (probed once), or None."""
    if os.geteuid() != 0:
        return None
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for base in _candidates(lines):
        probe = PidsCgroup.make(1, base)
        if probe is not None:
            probe.remove()
            return base
    return None


def _candidates(lines: list[str]) -> list[Path]:
    """This process's cgroup in the v1 pids hierarchy, and in v2 when its subtree has pids."""
    found: list[Path] = []
    for line in lines:
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if "pids" in controllers.split(","):
            found.append(CGROUP_ROOT / "pids" / path.lstrip("/"))
        elif hierarchy == "0" and not controllers:
            base = CGROUP_ROOT / path.lstrip("/")
            with contextlib.suppress(OSError):
                if "pids" in (base / "cgroup.subtree_control").read_text().split():
                    found.append(base)
    return found


class PidsCgroup:
    """One command's cgroup: `join` in the child before it runs, `remove` after."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def make(cls, limit: int, base: Path | None = None) -> PidsCgroup | None:
        """A fresh cgroup holding at most `limit` tasks (None where none can be made)."""
        base = base if base is not None else pids_base()
        if base is None:
            return None
        path = base / f"{PREFIX}{secrets.token_hex(6)}"
        try:
            path.mkdir()
        except OSError:
            return None
        made = cls(path)
        try:
            (path / "pids.max").write_text(f"{max(1, limit)}\n")
        except OSError:
            made.remove()
            return None
        return made

    def join(self) -> None:
        """Moves the calling process (and so all it starts) into the cgroup. Raises when it cannot,
        so that a child never runs uncapped."""
        (self.path / "cgroup.procs").write_text(f"{os.getpid()}\n")

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def remove(self, wait: float = 5.0) -> int:
        """Kills whatever is still in the cgroup, then removes it; how many were killed."""
        killed: set[int] = set()
        deadline = time.monotonic() + wait
        while (pids := self.pids()) and time.monotonic() < deadline:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
                    killed.add(pid)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)  # the worker is their subreaper
            time.sleep(0.01)
        try:
            self.path.rmdir()
        except OSError as exc:
            log.warning("sandbox: pids cgroup %s not removed: %s", self.path, exc)
        return len(killed)
