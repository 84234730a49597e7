"""A virtual environment per build: pytest and the project's declared dependencies, never the app's.

- `declared_requirements(root) -> list[str]`: the requirement files (`requirements*.txt` at the
  root, given to pip as `-r`, so pip reads their options and includes itself) and the
  `pyproject.toml` `[project] dependencies` plus its `test`/`tests`/`dev` extras.
- `await ensure_venv(sandbox, path, *, time_limit=600) -> VenvResult`: an isolated
  venv (`python -m venv --without-pip` on the worker's base interpreter: none of the
  interpreter's or the app's packages are visible), then one `pip install <pip> pytest
  <declared>` run from the pip wheel Python bundles for `ensurepip` (the venv gets its own pip
  for the model's `pip install`, the project's own pin when its requirements name pip;
  `python -m ensurepip` when no wheel is found). Both run inside
  the sandbox; only the install may use the network, with the operator's pip variables (an index
  mirror, a wheelhouse: `sandbox`). pip's cache is the sandbox's `cache_dir`, shared between
  builds. Reused as long as the declared dependencies and the interpreter are the same (a
  marker file holds them). A failed install is a `VenvResult` that is not `ok`, with pip's
  output cut and a one-line `reason` for people.

The project itself is not installed: `pytest` runs as `python -m pytest` from the root of the
tree, which puts the root on `sys.path`.
"""

from __future__ import annotations

import asyncio
import ensurepip
import functools
import hashlib
import json
import logging
import os
import shutil
import sys
import sysconfig
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from checks import manifests
from forgeguard_app.builder.sandbox import CommandResult, Sandbox

log = logging.getLogger(__name__)

VENV_TIMEOUT = 600.0
MARKER = ".forge-venv.json"
EXTRAS = ("test", "tests", "testing", "dev")
OUTPUT_CUT = 4000
REASON_CUT = 600
LAYOUT = "isolated"
"""In the fingerprint: a venv made before the build's venvs were isolated is made again."""


@dataclass(frozen=True)
class VenvResult:
    """The environment, and whether it is usable (the install's output cut and why when it is not)."""

    path: Path
    ok: bool
    reused: bool
    requirements: tuple[str, ...]
    output: str
    reason: str = ""
    """One line for the progress comment when not `ok`: what failed and pip's errors."""


def requirement_files(root: Path) -> list[str]:
    """`requirements*.txt` at the root of the tree, sorted (paths relative to the root)."""
    return sorted(p.name for p in root.glob("requirements*.txt") if p.is_file() and not p.is_symlink())


def pyproject_requirements(root: Path) -> list[str]:
    """`[project] dependencies` and the test/dev extras of `pyproject.toml` (empty when unreadable)."""
    path = root / "pyproject.toml"
    if not path.is_file() or path.is_symlink():
        return []
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        log.info("venv: pyproject.toml unreadable: %s", exc)
        return []
    project = data.get("project")
    if not isinstance(project, dict):
        return []
    found: list[str] = []
    deps = project.get("dependencies")
    if isinstance(deps, list):
        found += [d for d in deps if isinstance(d, str)]
    extras = project.get("optional-dependencies")
    if isinstance(extras, dict):
        for name in EXTRAS:
            group = extras.get(name)
            if isinstance(group, list):
                found += [d for d in group if isinstance(d, str) and d not in found]
    return found


def declared_requirements(root: Path) -> list[str]:
    """The project's declared Python dependencies as pip arguments (`-r file` or a requirement)."""
    args: list[str] = []
    for name in requirement_files(root):
        args += ["-r", name]
    for requirement in pyproject_requirements(root):
        # A requirement string is one argument (no shell); a leading dash would be an option.
        if not requirement.startswith("-"):
            args.append(requirement)
    return args


def declares_pip(root: Path, args: Sequence[str]) -> bool:
    """True when the declared requirements name pip itself (a requirements file, its `-r`
    includes, or `pyproject.toml`): then the project's pin gives the venv its pip, since Python's
    bundled pip wheel and a pin it does not satisfy cannot be installed together."""
    names: set[str | None] = set()
    items = iter(args)
    for arg in items:
        if arg == "-r":
            found = manifests.parse_requirements(next(items, ""), functools.partial(_read_inside, root))
            names |= found.names | found.test_names
        else:
            names.add(manifests.requirement_name(arg))
    return any(name is not None and manifests.normalize(name) == "pip" for name in names)


def _read_inside(root: Path, path: str) -> bytes | None:
    """A file of the tree (`-r` includes may name any path: nothing outside the tree, no symlink)."""
    target = root / path
    try:
        if target.is_symlink() or not target.resolve().is_relative_to(root.resolve()):
            return None
        return target.read_bytes() if target.is_file() else None
    except OSError:
        return None


def _fingerprint(root: Path, args: Sequence[str]) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([sys.version, LAYOUT, list(args)]).encode())
    for name in requirement_files(root):
        digest.update((root / name).read_bytes())
    return digest.hexdigest()


def _cut(text: str) -> str:
    return text if len(text) <= OUTPUT_CUT else "…" + text[-OUTPUT_CUT:]


def failure_reason(what: str, result: CommandResult, time_limit: float) -> str:
    """`what` failed, in one line: its time limit, or pip's `ERROR:` lines (else its last lines), cut."""
    if result.timed_out:
        return f"{what} ran past its {time_limit:g} s."
    lines = [line.strip() for line in (result.stdout + "\n" + result.stderr).splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:")] or lines[-3:]
    said = " ".join(errors)
    if len(said) > REASON_CUT:
        said = "…" + said[-REASON_CUT:]
    failed = f"{what} failed (exit {result.exit_code})"
    return f"{failed}: {said}" if said else f"{failed}."


def base_python() -> Path:
    """The interpreter the app runs on, outside any virtual environment."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for name in (version, "python3"):
        candidate = Path(sys.base_prefix) / "bin" / name
        if candidate.exists():
            return candidate
    return Path(sys.base_prefix) / "bin" / "python3"


def bundled_pip() -> Path | None:
    """The pip wheel `ensurepip` would install (Python's own copy, or the distribution's), if any."""
    folders = [Path(ensurepip.__file__).parent / "_bundled"]
    packaged = sysconfig.get_config_var("WHEEL_PKG_DIR")
    if packaged:
        folders.append(Path(packaged))
    for folder in folders:
        wheels = sorted(folder.glob("pip-*.whl")) if folder.is_dir() else []
        if wheels:
            return wheels[-1]
    return None


def _reusable(path: Path, fingerprint: str) -> bool:
    marker = path / MARKER
    if not (path / "bin" / "python").exists() or not marker.exists():
        return False
    try:
        recorded = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(recorded, dict) and recorded.get("fingerprint") == fingerprint


def _fresh_folders(path: Path, cache_dir: Path | None, owner: tuple[int, int] | None) -> None:
    """An empty folder for the venv and the caches, owned by the user commands run as (`owner`;
    pip run as root ignores a cache root does not own)."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    folders = [path]
    if cache_dir is not None:
        for sub in ("", "pip", "npm"):
            (cache_dir / sub).mkdir(parents=True, exist_ok=True)
            folders.append(cache_dir / sub)
    if os.geteuid() == 0:
        # Also back to root when commands run as root again (a cache made for another owner).
        uid, gid = owner if owner is not None else (os.geteuid(), os.getegid())
        for folder in folders:
            os.chown(folder, uid, gid)


async def ensure_venv(sandbox: Sandbox, path: Path, *, time_limit: float = VENV_TIMEOUT) -> VenvResult:
    """The build's environment at `path`, made or reused (see the module docstring)."""
    args = declared_requirements(sandbox.root)
    fingerprint = _fingerprint(sandbox.root, args)

    def failed(what: str, result: CommandResult) -> VenvResult:
        output = _cut(result.stdout + result.stderr)
        reason = failure_reason(what, result, time_limit)
        log.warning("venv at %s: %s", path, reason)
        return VenvResult(path, False, False, tuple(args), output, reason)

    if await asyncio.to_thread(_reusable, path, fingerprint):
        return VenvResult(path, ok=True, reused=True, requirements=tuple(args), output="")
    await asyncio.to_thread(_fresh_folders, path, sandbox.cache_dir, sandbox.command_user())
    python = str(path / "bin" / "python")
    made = await sandbox.run_argv(
        [str(base_python()), "-m", "venv", "--without-pip", str(path)], time_limit=time_limit, writable=[path]
    )
    if not made.ok:
        return failed("python -m venv", made)
    # One pip run from Python's own pip wheel installs pip itself with the rest: about half
    # the time of `ensurepip` (which unpacks setuptools too) followed by a second pip run.
    wheel = bundled_pip()
    if wheel is None:
        pip = await sandbox.run_argv([python, "-m", "ensurepip"], time_limit=time_limit, writable=[path])
        if not pip.ok:
            return failed("python -m ensurepip", pip)
    installer = [python, "-m", "pip"] if wheel is None else [python, str(wheel / "pip")]
    writable = [path, *([sandbox.cache_dir] if sandbox.cache_dir is not None else [])]
    install = await sandbox.run_argv(
        [
            *installer,
            "install",
            "--disable-pip-version-check",
            *([str(wheel)] if wheel is not None and not declares_pip(sandbox.root, args) else []),
            "pytest",
            *args,
        ],
        time_limit=time_limit,
        network=True,
        writable=writable,
    )
    if not install.ok:
        what = " ".join(["pip install pytest", *args])
        return failed(what if len(what) <= 200 else what[:199] + "…", install)
    (path / MARKER).write_text(json.dumps({"fingerprint": fingerprint, "requirements": args}))
    output = _cut(install.stdout + install.stderr)
    return VenvResult(path, ok=True, reused=False, requirements=tuple(args), output=output)
