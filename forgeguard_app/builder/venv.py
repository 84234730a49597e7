"""A virtual environment per build: pytest and the project's declared dependencies, never the app's.

- `declared_requirements(root) -> list[str]`: the requirement files (`requirements*.txt` at the
  root, given to pip as `-r`, so pip reads their options and includes itself) and the
  `pyproject.toml` `[project] dependencies` plus its `test`/`tests`/`dev` extras.
- `await ensure_venv(sandbox, path, *, pip_args=(), system_site_packages=False, time_limit=600)
  -> VenvResult`: `python -m venv` (the worker's base interpreter) then `pip install pytest
  <declared>`, both inside the sandbox; only the install may use the network. Reused as long
  as the declared dependencies and the interpreter are the same (a marker file holds them);
  pip's cache is the sandbox's `cache_dir`, shared between builds. With
  `system_site_packages`, the venv is made without its own pip (the interpreter's serves it)
  and nothing is installed when nothing is declared and the interpreter has pytest.

The project itself is not installed: `pytest` runs as `python -m pytest` from the root of the
tree, which puts the root on `sys.path`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import shutil
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from forgeguard_app.builder.sandbox import Sandbox, file_owner

log = logging.getLogger(__name__)

VENV_TIMEOUT = 600.0
MARKER = ".forge-venv.json"
EXTRAS = ("test", "tests", "testing", "dev")
OUTPUT_CUT = 4000
_FIND_TOOLS = "import importlib.util as u; print(bool(u.find_spec('pip')), bool(u.find_spec('pytest')))"


@dataclass(frozen=True)
class VenvResult:
    """The environment, and whether it is usable (the install's output cut when it is not)."""

    path: Path
    ok: bool
    reused: bool
    requirements: tuple[str, ...]
    output: str


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


def _fingerprint(
    root: Path, args: Sequence[str], *, system_site_packages: bool, pip_args: Sequence[str]
) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([sys.version, list(args), system_site_packages, list(pip_args)]).encode())
    for name in requirement_files(root):
        digest.update((root / name).read_bytes())
    return digest.hexdigest()


def _cut(text: str) -> str:
    return text if len(text) <= OUTPUT_CUT else "…" + text[-OUTPUT_CUT:]


def base_python() -> Path:
    """The interpreter the app runs on, outside any virtual environment."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for name in (version, "python3"):
        candidate = Path(sys.base_prefix) / "bin" / name
        if candidate.exists():
            return candidate
    return Path(sys.base_prefix) / "bin" / "python3"


def _reusable(path: Path, fingerprint: str) -> bool:
    marker = path / MARKER
    if not (path / "bin" / "python").exists() or not marker.exists():
        return False
    try:
        recorded = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(recorded, dict) and recorded.get("fingerprint") == fingerprint


def _fresh_folders(path: Path, cache_dir: Path | None) -> None:
    """An empty folder for the venv and the caches, owned by the user commands run as."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    folders = [path]
    if cache_dir is not None:
        for sub in ("", "pip", "npm"):
            (cache_dir / sub).mkdir(parents=True, exist_ok=True)
            folders.append(cache_dir / sub)
    owner = file_owner()
    if owner is not None:
        for folder in folders:
            os.chown(folder, *owner)


async def ensure_venv(
    sandbox: Sandbox,
    path: Path,
    *,
    pip_args: Sequence[str] = (),
    system_site_packages: bool = False,
    time_limit: float = VENV_TIMEOUT,
) -> VenvResult:
    """The build's environment at `path`, made or reused (see the module docstring)."""
    args = declared_requirements(sandbox.root)
    fingerprint = _fingerprint(
        sandbox.root, args, system_site_packages=system_site_packages, pip_args=pip_args
    )
    if await asyncio.to_thread(_reusable, path, fingerprint):
        return VenvResult(path, ok=True, reused=True, requirements=tuple(args), output="")
    await asyncio.to_thread(_fresh_folders, path, sandbox.cache_dir)
    python = path / "bin" / "python"
    # With the interpreter's own packages visible, its pip serves the venv too (it installs
    # into the running prefix): no bundled pip to unpack, which was most of the time taken.
    made = await sandbox.run_argv(
        [
            str(base_python()),
            "-m",
            "venv",
            *(["--system-site-packages", "--without-pip"] if system_site_packages else []),
            str(path),
        ],
        time_limit=time_limit,
        writable=[path],
    )
    if not made.ok:
        output = _cut(made.stdout + made.stderr)
        log.warning("venv: python -m venv failed at %s: %s", path, output[-500:])
        return VenvResult(path, ok=False, reused=False, requirements=tuple(args), output=output)
    writable = [path, *([sandbox.cache_dir] if sandbox.cache_dir is not None else [])]
    output = ""
    if system_site_packages:
        found = await sandbox.run_argv([str(python), "-c", _FIND_TOOLS], time_limit=time_limit)
        has_pip, has_pytest = [*found.stdout.split(), "False", "False"][:2]
        if has_pytest == "True" and not args:
            output = "pytest comes from the interpreter's own packages; nothing to install"
            (path / MARKER).write_text(json.dumps({"fingerprint": fingerprint, "requirements": args}))
            return VenvResult(path, ok=True, reused=False, requirements=tuple(args), output=output)
        if has_pip != "True":
            pip = await sandbox.run_argv(
                [str(python), "-m", "ensurepip"], time_limit=time_limit, writable=[path]
            )
            if not pip.ok:
                output = _cut(pip.stdout + pip.stderr)
                return VenvResult(path, ok=False, reused=False, requirements=tuple(args), output=output)
    install = await sandbox.run_argv(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", *pip_args, "pytest", *args],
        time_limit=time_limit,
        network=True,
        writable=writable,
    )
    output = _cut(install.stdout + install.stderr)
    if not install.ok:
        log.warning("venv: pip install failed at %s: %s", path, output[-500:])
        return VenvResult(path, ok=False, reused=False, requirements=tuple(args), output=output)
    (path / MARKER).write_text(json.dumps({"fingerprint": fingerprint, "requirements": args}))
    return VenvResult(path, ok=True, reused=False, requirements=tuple(args), output=output)
