"""The builder's sandbox: path rules, the command grammar and allowlist, and running a command.

- `resolve_path` / `Sandbox.path`: paths relative to the working tree; absolute paths, `..`,
  and symbolic links whose real path leaves the tree are refused; `.git/`, the build's
  virtual environment and `.github/workflows/` are not writable.
- `parse_command`: no shell; the text is split with shell quoting rules and refused when it
  holds a metacharacter anywhere; only the allowlisted programs run.
- `Sandbox.run` / `run_argv`: a scrubbed environment, `resource.setrlimit` limits in the child,
  a new session whose whole process group is killed on time-out and at the end, output read
  in bounded memory, cut and decoded safely. Isolation is bubblewrap when it works on the
  machine (own network, pid, ipc and uts namespaces; the system read-only; only the tree,
  and during installs the venv and the caches, writable); otherwise `unshare -n` for the
  network, otherwise the rules alone (`isolation_mode()`, shown on /health and at start).
- Installs get the worker's proxy and pip variables (an index mirror; a wheelhouse in
  `PIP_FIND_LINKS`, readable inside bubblewrap, with `PIP_NO_INDEX` for no index at all).
- When the worker runs as root, commands run as an unprivileged user (`SANDBOX_UID`): root
  ignores the process limit, and root could write anywhere. Where they still run as root
  (no bubblewrap, and an interpreter that user cannot reach), a pids cgroup of their own caps
  their processes when the machine lets one be made (`pids_cgroup`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ctypes
import enum
import functools
import logging
import os
import re
import resource
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from forgeguard_app.builder.pids_cgroup import PidsCgroup, pids_base

log = logging.getLogger(__name__)

TIMEOUT_RUN_TESTS = 120.0
TIMEOUT_CHECK_SYNTAX = 30.0
TIMEOUT_RUN_COMMAND = 60.0
MAX_TIMEOUT = 600.0
"""A `timeout` input is capped here (and at least 1 s)."""

STDOUT_CAP = 50_000
STDERR_CAP = 10_000

SANDBOX_UID = 65534
"""`nobody`: the user commands run as when the worker is root."""
SANDBOX_GID = 65534

BWRAP = "/usr/bin/bwrap"
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
HOME_DIR = ".forge-home"
"""The commands' HOME, inside the working tree (never pending)."""

METACHARACTERS = frozenset(";|&$`<>\n\r\0")
FILE_UTILITIES = frozenset({"ls", "cat", "head", "tail", "wc", "find"})
FIND_ACTIONS = frozenset(
    {"-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprint0", "-fprintf", "-fls"}
)
PR_SET_CHILD_SUBREAPER = 36
FOLLOWING = frozenset({"-L", "-H", "-follow", "--dereference", "--dereference-command-line"})
RUN_MARKER = "FORGEGUARD_SANDBOX_RUN"
"""Set to a fresh token in every command's environment: how `_sweep` finds what escaped the group."""
SANDBOX_TMP = "/tmp"  # noqa: S108 (a fresh tmpfs inside bubblewrap)
_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")

# Variables copied from the worker: where the CA certificates are (never a secret); and,
# for installs only, how to reach the package index or a wheelhouse (dropped when a URL
# carries userinfo).
_CA_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "PIP_CERT", "NODE_EXTRA_CA_CERTS")
_INSTALL_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_TRUSTED_HOST",
    "PIP_DEFAULT_TIMEOUT",
    "PIP_FIND_LINKS",
    "PIP_NO_INDEX",
    "NPM_CONFIG_REGISTRY",
)
_USERINFO = re.compile(r"://[^/@\s]*@")

# What bubblewrap shows of the system, read-only.
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC_ENTRIES = (
    "passwd",
    "group",
    "nsswitch.conf",
    "hosts",
    "resolv.conf",
    "host.conf",
    "ssl",
    "ca-certificates",
    "ca-certificates.conf",
    "pki",
    "localtime",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "alternatives",
    "mime.types",
    "pip.conf",
    "npmrc",
)

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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

    address_space: int = 8 << 30
    """Node reserves several GB of address space at start; 8 GB still stops a runaway."""
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


# -- paths


def _is_git_dir(part: str) -> bool:
    # git itself treats `.GIT` and `.git.` (NTFS, HFS+) as `.git`.
    return part.lower().rstrip(". ") == ".git"


def resolve_path(root: Path, path: str, *, write: bool = False, protected: Sequence[Path] = ()) -> Path:
    """The real path of `path` inside `root`, or `Refused`.

    Refused: empty, absolute, `..` anywhere, a NUL byte, a path whose real path (symbolic
    links resolved) leaves `root`; for `write`, also `.git/` (anywhere in the tree),
    `protected` folders (the build's virtual environment) and `.github/workflows/` (the app has
    no workflows permission: GitHub would reject the commit).
    """
    if not isinstance(path, str) or not path.strip():
        raise Refused("a path is required (relative to the working tree, `.` for its root)")
    if "\0" in path:
        raise Refused("the path holds a NUL byte")
    pure = PurePosixPath(path)
    if pure.is_absolute() or path.startswith("~"):
        raise Refused(f"`{path}` is absolute: paths are relative to the working tree")
    if ".." in pure.parts:
        raise Refused(f"`{path}` uses `..`: paths stay inside the working tree")
    top = root.resolve()
    real = (top / pure).resolve()
    if real != top and top not in real.parents:
        raise Refused(f"`{path}` leads outside the working tree (a symbolic link)")
    if not write:
        return real
    rel = real.relative_to(top)
    if real == top:
        raise Refused("the root of the working tree is not a file")
    if any(_is_git_dir(part) for part in (*pure.parts, *rel.parts)):
        raise Refused(f"`{path}` is inside `.git`, which is not yours to write")
    for folder in protected:
        shielded = folder.resolve()
        if real == shielded or shielded in real.parents:
            raise Refused(f"`{path}` is inside the build's virtual environment, which is not yours to write")
    for parts in (pure.parts, rel.parts):
        if parts[:2] == (".github", "workflows"):
            raise Refused(
                f"`{path}`: files under `.github/workflows/` cannot be written: the app has no "
                "workflows permission, so GitHub would reject the commit"
            )
    return real


# -- commands


def _check_argument(arg: str) -> None:
    value = arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg
    for piece in value.split("::"):
        pure = PurePosixPath(piece)
        if pure.is_absolute() or piece.startswith("~"):
            raise Refused(f"`{arg}`: absolute paths are refused; paths are relative to the working tree")
        if ".." in pure.parts:
            raise Refused(f"`{arg}`: `..` is refused; paths stay inside the working tree")


def parse_command(command: str) -> list[str]:
    """The argument list of a command the model may run, or `Refused` (with the reason).

    Split with shell quoting rules (`shlex`); refused when the text holds a shell
    metacharacter (`;`, `|`, `&`, `$`, backticks, `>`, `<`, newline) anywhere, or the program is
    off the allowlist: `pytest`, `python -m <module>`, `pip install …`, `npm test`, `npm
    install`, `npx vitest`, `npx tsc`, `ls`, `cat`, `head`, `tail`, `wc`, `find` (no `-exec`,
    `-execdir`, `-delete`, `-ok`, `-okdir`, `-fprint*`, `-fls`). Arguments follow the path
    rules (no absolute paths, no `..`).
    """
    if not isinstance(command, str):
        raise Refused("a command is required")
    found = sorted({c for c in command if c in METACHARACTERS})
    if found:
        shown = ", ".join("newline" if c == "\n" else repr(c) for c in found)
        raise Refused(f"shell metacharacters are not allowed ({shown}): commands run without a shell")
    if not command.strip():
        raise Refused("a command is required")
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise Refused(f"the command does not parse: {exc}") from None
    if not argv:
        raise Refused("a command is required")
    program, rest = argv[0], argv[1:]
    if "/" in program:
        raise Refused(f"`{program}`: name an allowed program, not a path")
    if program == "pytest":
        pass
    elif program in ("python", "python3"):
        if len(rest) < 2 or rest[0] != "-m" or not _MODULE.match(rest[1]):
            raise Refused("`python` runs only as `python -m <module> …`")
        if rest[1] == "pip" and rest[2:3] != ["install"]:
            raise Refused("`python -m pip` runs only as `python -m pip install …`")
    elif program in ("pip", "pip3"):
        if rest[:1] != ["install"]:
            raise Refused("`pip` runs only as `pip install …`")
    elif program == "npm":
        if rest[:1] not in (["test"], ["install"]):
            raise Refused("`npm` runs only as `npm test` or `npm install`")
    elif program == "npx":
        if rest[:1] not in (["vitest"], ["tsc"]):
            raise Refused("`npx` runs only as `npx vitest` or `npx tsc`")
    elif program == "find":
        actions = sorted(FIND_ACTIONS.intersection(rest))
        if actions:
            raise Refused(f"`find` with {', '.join(actions)} is not allowed")
    elif program not in FILE_UTILITIES:
        raise Refused(
            f"`{program}` is not an allowed program (pytest, python -m <module>, pip install, npm test, "
            "npm install, npx vitest, npx tsc, ls, cat, head, tail, wc, find)"
        )
    if program in FILE_UTILITIES:
        following = sorted(FOLLOWING.intersection(rest)) + [a for a in rest if a.startswith("--files0-from")]
        if following:
            raise Refused(
                f"`{program}` with {', '.join(following)} is not allowed (it would follow links out)"
            )
    for arg in rest:
        _check_argument(arg)
    return argv


PYTHON_PROGRAMS = frozenset({"pytest", "python", "python3", "pip", "pip3"})


def runs_python(command: object) -> bool:
    """True when a command the model may run needs the build's virtual environment (`pytest`,
    `python -m …`, `pip install …`); `npm test`, `ls` and a refused command do not."""
    try:
        argv = parse_command(command)  # type: ignore[arg-type]
    except Refused:
        return False
    return argv[0] in PYTHON_PROGRAMS


def needs_network(argv: Sequence[str]) -> bool:
    """Installs (`pip install`, `npm install`) may reach the package index; nothing else."""
    words = list(argv)
    if words[:1] in (["pip"], ["pip3"]) or words[:3] in (["python", "-m", "pip"], ["python3", "-m", "pip"]):
        return "install" in words[1:4]
    return words[:2] == ["npm", "install"]


# -- isolation


def _run_as() -> tuple[int, int] | None:
    return (SANDBOX_UID, SANDBOX_GID) if os.geteuid() == 0 else None


def file_owner() -> tuple[int, int] | None:
    """The owner the tree's files need so that commands can write them (None: the worker's own)."""
    return _run_as()


def _open_to_others(path: Path) -> bool:
    """Every folder from / down to `path` can be traversed by any user."""
    current = path.resolve()
    for folder in (current, *current.parents):
        try:
            if not os.stat(folder).st_mode & 0o001:
                return False
        except OSError:
            return False
    return True


def _python_prefix() -> Path:
    return Path(sys.base_prefix)


def find_links_folders() -> list[Path]:
    """The local folders the worker's `PIP_FIND_LINKS` names (a wheelhouse): installs read them."""
    folders = []
    for entry in os.environ.get("PIP_FIND_LINKS", "").split():
        local = entry.removeprefix("file://")
        if "://" not in local and os.path.isabs(local) and os.path.isdir(local):
            folders.append(Path(local))
    return folders


def _bwrap_args(
    root: Path, *, venv: Path | None, network: bool, writable: Sequence[Path], readable: Sequence[Path]
) -> list[str]:
    args = [BWRAP, "--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
    args.append("--unshare-cgroup-try")
    if not network:
        args.append("--unshare-net")
    made: set[str] = {"/", "/usr", SANDBOX_TMP}

    def folders_to(target: str) -> None:
        # bwrap started as root makes missing folders 0700: the unprivileged user could not
        # pass them. Make each one 0755 first.
        for parent in reversed(PurePosixPath(target).parents):
            if str(parent) not in made:
                made.add(str(parent))
                args.extend(["--perms", "0755", "--dir", str(parent)])

    def bind(kind: str, source: str) -> None:
        folders_to(source)
        made.add(source)
        args.extend([kind, source, source])

    for system in _SYSTEM_DIRS:
        if os.path.islink(system):
            args.extend(["--symlink", os.readlink(system), system])
        elif os.path.isdir(system):
            bind("--ro-bind", system)
    for entry in _ETC_ENTRIES:
        if os.path.lexists(f"/etc/{entry}"):
            bind("--ro-bind-try", f"/etc/{entry}")
    # The command's own /tmp, writable by the unprivileged user too (else Python's tempfile,
    # pip's among them, falls back to the working tree).
    args.extend(["--proc", "/proc", "--dev", "/dev", "--perms", "01777", "--tmpfs", SANDBOX_TMP])
    # After the tmpfs: a folder under /tmp (a wheelhouse, say) would be hidden by it.
    for extra in (_python_prefix(), *readable):
        resolved = str(extra.resolve())
        if resolved not in made and not resolved.startswith("/usr/") and os.path.isdir(resolved):
            bind("--ro-bind", resolved)
    top = str(root.resolve())
    bind("--bind", top)
    if venv is not None:
        bind("--bind-try" if venv in writable else "--ro-bind-try", str(venv.resolve()))
    for folder in writable:
        if folder != venv:
            bind("--bind-try", str(folder.resolve()))
    args.extend(["--chdir", top, "--"])
    return args


def _unshare_args(*, privileged: bool) -> list[str]:
    """`unshare -n`; an unprivileged user needs its own user namespace for it."""
    unshare = shutil.which("unshare", path=SYSTEM_PATH) or "unshare"
    return [unshare, "--net", "--"] if privileged else [unshare, "--map-root-user", "--net", "--"]


def _probe(argv: list[str], user: tuple[int, int] | None) -> bool:
    try:
        done = subprocess.run(
            argv,
            cwd="/",
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=15,
            user=user[0] if user else None,
            group=user[1] if user else None,
            extra_groups=[] if user else None,
            env={"PATH": SYSTEM_PATH},
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.info("sandbox probe %s: %s", argv[0], exc)
        return False
    if done.returncode != 0:
        log.info("sandbox probe %s failed: %s", argv[0], done.stderr.decode("utf-8", "replace").strip()[:300])
    return done.returncode == 0


def _drop_to(user: tuple[int, int]) -> list[str]:
    """Inside bubblewrap started as root: become the unprivileged user, with no capabilities."""
    setpriv = shutil.which("setpriv", path=SYSTEM_PATH) or "setpriv"
    return [
        setpriv,
        f"--reuid={user[0]}",
        f"--regid={user[1]}",
        "--clear-groups",
        "--no-new-privs",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--",
    ]


@functools.cache
def isolation_mode() -> IsolationMode:
    """The isolation this machine allows, probed once per process (bwrap can fail in containers).

    `FORGEGUARD_SANDBOX=rules-only` (or `unshare`) makes it weaker on purpose; never stronger.
    """
    wanted = os.environ.get("FORGEGUARD_SANDBOX", "").strip()
    user = _run_as()
    true = shutil.which("true", path=SYSTEM_PATH) or "/bin/true"
    with tempfile.TemporaryDirectory(prefix="forgeguard-probe-") as folder:
        if wanted not in (IsolationMode.UNSHARE, IsolationMode.RULES) and os.path.exists(BWRAP):
            argv = _bwrap_args(Path(folder), venv=None, network=False, writable=(), readable=())
            if _probe([*argv, *(_drop_to(user) if user else []), true], None):
                return IsolationMode.BWRAP
        if wanted != IsolationMode.RULES and _probe(
            [*_unshare_args(privileged=user is not None), true], None
        ):
            return IsolationMode.UNSHARE
    return IsolationMode.RULES


def isolation_line() -> str:
    """One line for /health and the startup log, e.g. `bubblewrap (no network, read-only system)`."""
    mode = isolation_mode()
    who = f", commands as uid {SANDBOX_UID}" if _run_as() else ""
    if _run_as() and mode is not IsolationMode.BWRAP and not _open_to_others(_python_prefix()):
        # Without bwrap, uid 65534 needs the real path to the interpreter: where it cannot reach it,
        # commands run as root, which no process limit binds.
        unreachable = f"uid {SANDBOX_UID} cannot reach the interpreter at {_python_prefix()}"
        if pids_base() is not None:
            who = f", commands as root ({unreachable}), their processes capped by a pids cgroup"
        else:
            who = (
                f", commands as root: {unreachable};"
                " the process limit does not bind root and no pids cgroup can be made, install bubblewrap"
            )
    if mode is IsolationMode.BWRAP:
        return f"bubblewrap (no network except installs, read-only system, own pid namespace{who})"
    if mode is IsolationMode.UNSHARE:
        return f"unshare -n (no network except installs; path rules, limits and scrubbed environment{who})"
    return (
        f"rules only (no bubblewrap or network namespace here: path rules, limits, scrubbed environment{who})"
    )


def sandbox_status() -> dict[str, str]:
    """What /health shows: the isolation mode and its one-line description."""
    return {"isolation": isolation_mode().value, "detail": isolation_line()}


# -- running


def _pids_of(uid: int) -> Iterator[str]:
    """Pids of the processes running as `uid` (the owner of `/proc/<pid>`: one stat each)."""
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    yield entry.name
            except OSError:
                continue


def _tasks_of(uid: int) -> int:
    """Threads of every process of `uid` (what RLIMIT_NPROC counts)."""
    total = 0
    for pid in _pids_of(uid):
        with contextlib.suppress(OSError):
            total += len(os.listdir(f"/proc/{pid}/task"))
    return total


def _limits_in_child(
    limits: Limits, cpu: int, processes: int, user: tuple[int, int] | None, cgroup: PidsCgroup | None
) -> Callable[[], None]:
    """What the child does before it runs the command: enter its pids cgroup (a command run as
    root), become `user` (as subprocess's `user=` would: uvloop, which `forgeguard worker` runs on,
    refuses those arguments), then take on the limits."""

    def apply() -> None:
        if cgroup is not None:
            cgroup.join()
        if user is not None:
            os.setgroups([])
            os.setgid(user[1])
            os.setuid(user[0])
        resource.setrlimit(resource.RLIMIT_AS, (limits.address_space, limits.address_space))
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size, limits.file_size))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


class _Capture:
    """The first and last bytes of a stream, in bounded memory; how many were dropped between."""

    def __init__(self, cap: int) -> None:
        self.head_cap = cap * 2 // 5
        self.tail_cap = cap - self.head_cap
        self.head = bytearray()
        self.tail: collections.deque[bytes] = collections.deque()
        self.tail_size = 0
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.head_cap - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if not chunk:
            return
        self.tail.append(chunk)
        self.tail_size += len(chunk)
        while self.tail_size - len(self.tail[0]) >= self.tail_cap:
            self.tail_size -= len(self.tail.popleft())

    def result(self) -> tuple[str, int]:
        tail = b"".join(self.tail)[-self.tail_cap :] if self.tail else b""
        cut = self.total - len(self.head) - len(tail)
        if cut <= 0:
            return decode_output(bytes(self.head) + tail), 0
        middle = f"\n[… {cut} bytes of output cut …]\n"
        return decode_output(bytes(self.head)) + middle + decode_output(tail), cut


def decode_output(data: bytes) -> str:
    """Text for the model: UTF-8 with bad bytes replaced, terminal escapes and control bytes removed."""
    text = data.decode("utf-8", errors="replace")
    return _CONTROL.sub("\ufffd", _ANSI.sub("", text))


async def _drain(stream: asyncio.StreamReader | None, capture: _Capture) -> None:
    if stream is None:
        return
    while chunk := await stream.read(65536):
        capture.add(chunk)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


@functools.cache
def _become_subreaper() -> None:
    """Orphans of a command (bwrap's inner init, say) are reparented to this process, which
    reaps them at once (`_group_gone`), instead of lingering until the system's init does."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        log.info("sandbox: cannot become a child subreaper (errno %d)", ctypes.get_errno())


def _reap(pgid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-pgid, os.WNOHANG)[0] > 0:
            pass


async def _exited(proc: asyncio.subprocess.Process) -> None:
    """The command's own process has exited. (`Process.wait()` also waits for its pipes to
    close, which a child it left behind keeps open.)"""
    delay = 0.002
    while proc.returncode is None:
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.05)


def _sweep(marker: str, uid: int) -> int:
    """Kills what is left of a run outside its process group (a child that called setsid):
    every process of `uid` whose environment holds the run's marker. Bubblewrap's pid
    namespace makes this unnecessary; without it, this is what finds them. The count killed."""
    needle = f"{RUN_MARKER}={marker}".encode()
    killed = 0
    for pid in _pids_of(uid):
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                environ = handle.read()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(pid), signal.SIGKILL)
                killed += 1
            with contextlib.suppress(ChildProcessError):
                os.waitpid(int(pid), os.WNOHANG)
    return killed


async def _group_gone(pgid: int, wait: float = 5.0) -> bool:
    """Kills and reaps the group until nothing of it is left (False after `wait` seconds)."""
    deadline = time.monotonic() + wait
    while True:
        _reap(pgid)
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass
        if time.monotonic() > deadline:
            return False
        _kill_group(pgid)
        await asyncio.sleep(0.02)


class Sandbox:
    """Runs commands in one build's working tree.

    `root` is the working tree, `venv` the build's virtual environment (not writable by the
    model; `python`, `pytest` and `pip` resolve to it), `mode` the isolation (default:
    `isolation_mode()`), `cache_dir` pip's and npm's caches (writable by installs only).
    """

    def __init__(
        self,
        root: Path,
        *,
        venv: Path | None = None,
        mode: IsolationMode | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.root = root
        self.venv = venv
        self.mode = mode
        self.cache_dir = cache_dir

    def __repr__(self) -> str:
        return f"Sandbox({self.root}, mode={self.isolation})"

    @property
    def isolation(self) -> IsolationMode:
        return self.mode if self.mode is not None else isolation_mode()

    def path(self, path: str, *, write: bool = False) -> Path:
        """`resolve_path` in this tree, the virtual environment protected."""
        return resolve_path(self.root, path, write=write, protected=(self.venv,) if self.venv else ())

    def environment(self, *, network: bool = False) -> dict[str, str]:
        """The child's whole environment: PATH (venv first), HOME in the tree, locale; no secret."""
        home = self.root.resolve() / HOME_DIR
        path = SYSTEM_PATH if self.venv is None else f"{self.venv.resolve() / 'bin'}:{SYSTEM_PATH}"
        env = {
            "PATH": path,
            "HOME": str(home),
            "TMPDIR": SANDBOX_TMP if self.isolation is IsolationMode.BWRAP else str(home / "tmp"),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1",
            "PIP_PROGRESS_BAR": "off",
            "CI": "1",
            "NO_COLOR": "1",
            "npm_config_update_notifier": "false",
            "npm_config_fund": "false",
            "npm_config_audit": "false",
        }
        if self.venv is not None:
            env["VIRTUAL_ENV"] = str(self.venv.resolve())
        if self.cache_dir is not None:
            env["PIP_CACHE_DIR"] = str(self.cache_dir.resolve() / "pip")
            env["npm_config_cache"] = str(self.cache_dir.resolve() / "npm")
        for name in _CA_VARIABLES + (_INSTALL_VARIABLES if network else ()):
            value = os.environ.get(name)
            if value and not _USERINFO.search(value):
                env[name] = value
        return env

    def _program(self, argv: list[str]) -> list[str]:
        """The executable the allowlisted name stands for: the venv's python for Python tools."""
        program, rest = argv[0], argv[1:]
        if program in ("pytest", "python", "python3", "pip", "pip3"):
            if self.venv is None or not (self.venv / "bin" / "python").exists():
                raise Refused("the build's virtual environment is not ready")
            python = str(self.venv.resolve() / "bin" / "python")
            if program == "pytest":
                return [python, "-m", "pytest", *rest]
            if program in ("pip", "pip3"):
                return [python, "-m", "pip", *rest]
            return [python, *rest]
        found = shutil.which(program, path=SYSTEM_PATH)
        if found is None:
            raise Refused(f"`{program}` is not installed on this worker")
        return [found, *rest]

    async def run(self, command: str, *, time_limit: float, limits: Limits | None = None) -> CommandResult:
        """A command of the model (`parse_command`), `Refused` when it is not allowed."""
        argv = parse_command(command)
        if argv[0] in FILE_UTILITIES:
            # cat and friends follow symbolic links: every word that may be a path must stay
            # inside the tree once resolved (option values such as `5` resolve inside too).
            for arg in argv[1:]:
                if not arg.startswith("-"):
                    self.path(arg)
        network = needs_network(argv)
        writable = [p for p in (self.venv, self.cache_dir) if p is not None] if network else []
        return await self.run_argv(
            self._program(argv), time_limit=time_limit, network=network, writable=writable, limits=limits
        )

    def _readable(self, *, network: bool) -> list[Path]:
        # Programs outside /usr (node from nvm, say) and their installation folder; for an
        # install, the wheelhouse it may be told to use.
        extra: list[Path] = find_links_folders() if network else []
        for name in ("node", "npm", "npx"):
            found = shutil.which(name, path=SYSTEM_PATH)
            if found:
                extra.append(Path(found).resolve().parent.parent)
        return extra

    def command_user(self) -> tuple[int, int] | None:
        """Who commands run as (None: the worker itself): the unprivileged user when the worker is
        root; without bwrap, only when that user can reach the tree, the interpreter and the venv
        (it sees the real file system)."""
        user = _run_as()
        if user is None or self.isolation is IsolationMode.BWRAP:
            return user
        folders = [self.root, _python_prefix(), *([self.venv] if self.venv else [])]
        return user if all(_open_to_others(f) for f in folders) else None

    def _launch(
        self, argv: Sequence[str], *, network: bool, writable: Sequence[Path]
    ) -> tuple[list[str], tuple[int, int] | None]:
        """The full argument list, and the user to start it as (None: the worker's own)."""
        user = _run_as()
        mode = self.isolation
        if mode is IsolationMode.BWRAP:
            # Started as the worker (bwrap needs root's view of the file system when the
            # worker is root); the command itself runs as the unprivileged user.
            readable = self._readable(network=network)
            prefix = _bwrap_args(
                self.root, venv=self.venv, network=network, writable=writable, readable=readable
            )
            return [*prefix, *(_drop_to(user) if user else []), *argv], None
        if user is not None and self.command_user() is None:
            log.info("sandbox: %s is not reachable by uid %d; running as the worker", self.root, user[0])
            user = None
        if mode is IsolationMode.UNSHARE and not network:
            return [*_unshare_args(privileged=user is None and os.geteuid() == 0), *argv], user
        return list(argv), user

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
        limits = limits or Limits()
        time_limit = max(1.0, min(float(time_limit), MAX_TIMEOUT))
        cpu = limits.cpu_seconds or int(time_limit) + 5
        _become_subreaper()
        full, user = self._launch(argv, network=network, writable=writable)
        runs_as = _run_as() if self.isolation is IsolationMode.BWRAP else user
        uid = runs_as[0] if runs_as else os.getuid()
        # Root is not held by RLIMIT_NPROC, so its count would only cost time: a pids cgroup
        # holds a command run as root instead, where the machine has one to give.
        processes = (_tasks_of(uid) if uid != 0 else 0) + limits.processes
        home = self.root / HOME_DIR
        (home / "tmp").mkdir(parents=True, exist_ok=True)
        owner = file_owner()
        if owner is not None:
            for folder in (home, home / "tmp"):
                os.chown(folder, *owner)
        started = time.monotonic()
        marker = secrets.token_hex(8)
        cgroup = PidsCgroup.make(limits.processes) if uid == 0 else None
        try:
            proc = await asyncio.create_subprocess_exec(
                *full,
                cwd=self.root,
                env={**self.environment(network=network), RUN_MARKER: marker},
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
                preexec_fn=_limits_in_child(limits, cpu, processes, user, cgroup),
            )
        except BaseException:
            if cgroup is not None:
                cgroup.remove()
            raise
        pgid = proc.pid
        out, err = _Capture(STDOUT_CAP), _Capture(STDERR_CAP)
        readers = asyncio.gather(_drain(proc.stdout, out), _drain(proc.stderr, err))
        timed_out = False
        try:
            async with asyncio.timeout(time_limit):
                await _exited(proc)
                # Output still open after the exit means a child lives on: give it a moment.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(readers), 1.0)
        except TimeoutError:
            timed_out = True
        finally:
            _kill_group(pgid)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            escaped = 0 if self.isolation is IsolationMode.BWRAP else _sweep(marker, uid)
            if cgroup is not None:
                escaped += cgroup.remove()
            if escaped:
                log.info("sandbox: %d processes of %s had left the process group; killed", escaped, argv[0])
            try:
                await asyncio.wait_for(readers, 5.0)
            except TimeoutError:
                log.warning("sandbox: output of %s still open after the kill", argv[0])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 5.0)
            if not await _group_gone(pgid):
                log.warning("sandbox: process group %d survived SIGKILL", pgid)
        stdout, stdout_cut = out.result()
        stderr, stderr_cut = err.result()
        return CommandResult(
            argv=tuple(argv),
            exit_code=None if timed_out else proc.returncode,
            stdout=stdout,
            stderr=stderr,
            timed_out=timed_out,
            duration=time.monotonic() - started,
            stdout_cut=stdout_cut,
            stderr_cut=stderr_cut,
            pgid=pgid,
        )
