"""The builder's sandbox: path rules, the command grammar and allowlist, and running a command.

API (the core helper codes against this; bodies land in the next commits):

- `Refused(reason)`: a path or command the sandbox will not touch; `str()` is for the model.
- `resolve_path(root, path, *, write=False, protected=()) -> Path`.
- `parse_command(command) -> list[str]`: shell quoting, metacharacters refused, allowlist.
- `isolation_mode() -> IsolationMode` (probed once), `isolation_line() -> str` (/health, log).
- `Sandbox(root, *, venv=None, mode=None)`: `.path(p, write=)`, `.environment()`,
  `await .run(command, *, time_limit)` for the model's commands, `await .run_argv(argv, *,
  time_limit, network=False, writable=())` for the app's own (venv setup, the sign-off's tests).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

TIMEOUT_RUN_TESTS = 120.0
TIMEOUT_CHECK_SYNTAX = 30.0
TIMEOUT_RUN_COMMAND = 60.0
MAX_TIMEOUT = 600.0
"""A `timeout` input is capped here (and at least 1 s)."""

STDOUT_CAP = 50_000
STDERR_CAP = 10_000


class Refused(Exception):
    """A path or a command the sandbox refuses; the message says why, for the model."""


class IsolationMode(enum.StrEnum):
    BWRAP = "bubblewrap"
    """bwrap: own network (none), pid, ipc and uts namespaces; system read-only; only the tree writable."""
    UNSHARE = "unshare"
    """No bwrap: the rules, limits and scrubbed environment, plus `unshare -n` (no network)."""
    RULES = "rules-only"
    """Neither works here: the rules, limits and scrubbed environment only."""


@dataclass(frozen=True)
class Limits:
    """Resource limits set in the child with `resource.setrlimit` (before exec)."""

    address_space: int = 4 << 30
    processes: int = 256
    """Processes (tasks) the child's user may add to those it already has."""
    file_size: int = 256 << 20
    cpu_seconds: int | None = None
    """Defaults to the time limit plus 5 s."""


@dataclass(frozen=True)
class CommandResult:
    """What a command did: exit code (None when killed for its time), output cut and decoded."""

    argv: tuple[str, ...]
    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool
    duration: float
    stdout_cut: int
    """Bytes of stdout left out (0 when nothing was cut)."""
    stderr_cut: int
    pgid: int
    """The process group the command ran in (gone when `run` returns)."""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


def resolve_path(root: Path, path: str, *, write: bool = False, protected: Sequence[Path] = ()) -> Path:
    """The real path of `path` inside `root`, or `Refused`.

    Refused: empty, absolute, `..` anywhere, a NUL byte, a path whose real path (symbolic
    links resolved) leaves `root`; for `write`, also `.git/` (anywhere in the tree),
    `protected` folders (the build's virtual environment) and `.github/workflows/` (the app has
    no workflows permission: GitHub would reject the commit).
    """
    raise NotImplementedError


def parse_command(command: str) -> list[str]:
    """The argument list of a command the model may run, or `Refused` (with the reason).

    Split with shell quoting rules (`shlex`); refused when the text holds a shell
    metacharacter (`;`, `|`, `&`, `$`, backticks, `>`, `<`, newline) anywhere, or the program is
    off the allowlist: `pytest`, `python -m <module>`, `pip install …`, `npm test`, `npm
    install`, `npx vitest`, `npx tsc`, `ls`, `cat`, `head`, `tail`, `wc`, `find` (no `-exec`,
    `-execdir`, `-delete`, `-ok`, `-okdir`, `-fprint*`, `-fls`). Path arguments of the file
    utilities follow the path rules (no absolute paths, no `..`).
    """
    raise NotImplementedError


def needs_network(argv: Sequence[str]) -> bool:
    """Installs (`pip install`, `npm install`) may reach the package index; nothing else."""
    raise NotImplementedError


def isolation_mode() -> IsolationMode:
    """The isolation this machine allows, probed once per process (bwrap can fail in containers)."""
    raise NotImplementedError


def isolation_line() -> str:
    """One line for /health and the startup log, e.g. `bubblewrap (no network, read-only system)`."""
    raise NotImplementedError


class Sandbox:
    """Runs commands in one build's working tree.

    `root` is the working tree, `venv` the build's virtual environment (not writable by the
    model; `python`, `pytest` and `pip` resolve to it), `mode` the isolation (default:
    `isolation_mode()`).
    """

    def __init__(self, root: Path, *, venv: Path | None = None, mode: IsolationMode | None = None) -> None:
        self.root = root
        self.venv = venv
        self.mode = mode

    def path(self, path: str, *, write: bool = False) -> Path:
        """`resolve_path` in this tree, the virtual environment protected."""
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        """The child's whole environment: PATH (venv first), HOME in the tree, locale; no secret."""
        raise NotImplementedError

    async def run(self, command: str, *, time_limit: float, limits: Limits | None = None) -> CommandResult:
        """A command of the model (`parse_command`), `Refused` when it is not allowed."""
        raise NotImplementedError

    async def run_argv(
        self,
        argv: Sequence[str],
        *,
        time_limit: float,
        network: bool = False,
        writable: Sequence[Path] = (),
        limits: Limits | None = None,
    ) -> CommandResult:
        """A command the app itself chose (no allowlist), with the same isolation and limits.

        `writable`: folders besides the tree the command may write (the venv while it is made).
        """
        raise NotImplementedError
