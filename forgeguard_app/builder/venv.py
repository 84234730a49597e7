"""A virtual environment per build: pytest and the project's declared dependencies, never the app's.

API (bodies land in the next commits):

- `declared_requirements(root) -> list[str]`: `requirements*.txt` lines and `pyproject.toml`
  `[project] dependencies` (plus its `test`/`dev` extras).
- `await ensure_venv(sandbox, path, *, pip_args=(), system_site_packages=False, time_limit=600)
  -> VenvResult`: `python -m venv` then `pip install pytest <declared>` inside the sandbox
  (the install may use the network); reused as long as the declared dependencies are the
  same (a marker file holds their hash). pip's wheel cache is shared between builds
  (`PIP_CACHE_DIR` beside the venvs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from forgeguard_app.builder.sandbox import Sandbox

VENV_TIMEOUT = 600.0


@dataclass(frozen=True)
class VenvResult:
    """The environment, and whether it is usable (the install's output cut when it is not)."""

    path: Path
    ok: bool
    reused: bool
    requirements: tuple[str, ...]
    output: str


def declared_requirements(root: Path) -> list[str]:
    """The project's declared Python dependencies (requirement strings, in file order)."""
    raise NotImplementedError


async def ensure_venv(
    sandbox: Sandbox,
    path: Path,
    *,
    pip_args: Sequence[str] = (),
    system_site_packages: bool = False,
    time_limit: float = VENV_TIMEOUT,
) -> VenvResult:
    """The build's environment at `path`, made or reused (see the module docstring)."""
    raise NotImplementedError
