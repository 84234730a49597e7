"""The build's virtual environment: made inside the sandbox with its own pip and none of the interpreter's
packages (offline here, from the test wheelhouse), pytest run in it, reused; a failed install says why."""

from __future__ import annotations

import os
import pathlib

import pytest

from forgeguard_app.builder import venv as build_venv
from forgeguard_app.builder.sandbox import Sandbox
from forgeguard_app.builder.tools import Toolbox
from forgeguard_app.builder.venv import declared_requirements, declares_pip, ensure_venv
from tests.builder.sandbox_support import make_tree
from tests.builder.wheelhouse import tiny_wheel

PROJECT = {
    "tests/test_ok.py": "import sys\n\n\ndef test_in_the_build_venv():\n    assert 'venv' in sys.prefix\n",
}


async def test_a_venv_is_made_with_its_own_pip_and_runs_the_project_tests(
    tmp_path: pathlib.Path, offline_installs: pathlib.Path
) -> None:
    workspace, _ = make_tree(tmp_path, PROJECT)
    venv = tmp_path / "venv"
    maker = Sandbox(workspace.root, cache_dir=tmp_path / "cache")
    made = await ensure_venv(maker, venv)
    assert made.ok, made.output
    assert not made.reused

    sandbox = Sandbox(workspace.root, venv=venv, cache_dir=tmp_path / "cache")
    pip = await sandbox.run("python -m pip install pytest", time_limit=120)
    assert pip.exit_code == 0, pip.stdout + pip.stderr
    assert f"Requirement already satisfied: pytest in {venv}" in pip.stdout
    result = await Toolbox(workspace, sandbox).run("run_tests", {"command": "pytest -q -p no:cacheprovider"})
    assert result.text.splitlines()[:2] == ["Exit code: 0", "Passed: 1, failed: 0, errors: 0, skipped: 0"]

    again = await ensure_venv(maker, venv)
    assert again.reused
    assert workspace.pending() == {}


async def test_without_pythons_pip_wheel_the_venv_gets_its_pip_from_ensurepip(
    tmp_path: pathlib.Path, offline_installs: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build_venv, "bundled_pip", lambda: None)
    workspace, _ = make_tree(tmp_path, PROJECT)
    venv = tmp_path / "venv"
    made = await ensure_venv(Sandbox(workspace.root), venv)
    assert made.ok, made.output
    result = await Toolbox(workspace, Sandbox(workspace.root, venv=venv)).run(
        "run_tests", {"command": "pytest -q -p no:cacheprovider"}
    )
    assert result.text.splitlines()[:2] == ["Exit code: 0", "Passed: 1, failed: 0, errors: 0, skipped: 0"]


async def test_pips_cache_belongs_to_the_user_commands_run_as_so_pip_uses_it(
    tmp_path: pathlib.Path, offline_installs: pathlib.Path
) -> None:
    workspace, _ = make_tree(tmp_path, {})
    maker = Sandbox(workspace.root, cache_dir=tmp_path / "cache")
    made = await ensure_venv(maker, tmp_path / "venv")
    assert made.ok, made.output
    owner = maker.command_user() or (os.geteuid(), os.getegid())
    folder = os.stat(tmp_path / "cache" / "pip")
    assert (folder.st_uid, folder.st_gid) == owner
    assert "cache has been disabled" not in made.output


async def test_a_failed_install_says_why(tmp_path: pathlib.Path, offline_installs: pathlib.Path) -> None:
    workspace, _ = make_tree(tmp_path, {"requirements.txt": "surely-not-a-real-package-4242\n"})
    made = await ensure_venv(Sandbox(workspace.root), tmp_path / "venv")
    assert not made.ok
    assert "No matching distribution found for surely-not-a-real-package-4242" in made.output
    assert made.reason == (
        "pip install pytest -r requirements.txt failed (exit 1): "
        "ERROR: Could not find a version that satisfies the requirement surely-not-a-real-package-4242 "
        "(from versions: none) "
        "ERROR: No matching distribution found for surely-not-a-real-package-4242"
    )


async def test_a_project_that_pins_pip_gets_its_pinned_pip_not_pythons_bundled_one(
    tmp_path: pathlib.Path, offline_installs: pathlib.Path
) -> None:
    tiny_wheel(offline_installs, "pip", "99.0", {"pinned_pip_marker.py": "PINNED = True\n"})
    workspace, _ = make_tree(tmp_path, {**PROJECT, "requirements.txt": "pip==99.0\n"})
    venv = tmp_path / "venv"
    made = await ensure_venv(Sandbox(workspace.root), venv)
    assert made.ok, made.output
    assert [p.name for p in venv.glob("lib/python*/site-packages/pip-*.dist-info")] == ["pip-99.0.dist-info"]


def test_pip_is_declared_by_a_requirements_file_an_include_or_pyproject(tmp_path: pathlib.Path) -> None:
    files = {
        "requirements.txt": "requests\n",
        "requirements-dev.txt": "-r requirements/base.txt\n",
        "requirements/base.txt": "PIP>=24  # the build tools need it\n",
    }
    workspace, _ = make_tree(tmp_path, files)
    assert declares_pip(workspace.root, declared_requirements(workspace.root))
    assert declares_pip(workspace.root, ["pip<25; python_version >= '3.9'"])


def test_pip_tools_pipx_and_files_outside_the_tree_do_not_declare_pip(tmp_path: pathlib.Path) -> None:
    (tmp_path / "outside.txt").write_text("pip==1.0\n")
    files = {"requirements.txt": "pip-tools\npipx\n-r ../outside.txt\n"}
    workspace, _ = make_tree(tmp_path, files)
    assert not declares_pip(workspace.root, declared_requirements(workspace.root))


def test_declared_requirements_come_from_requirement_files_and_pyproject(tmp_path: pathlib.Path) -> None:
    pyproject = """
[project]
name = "shelf"
dependencies = ["httpx>=0.27", "--index-url=http://evil"]

[project.optional-dependencies]
test = ["pytest-asyncio"]
docs = ["sphinx"]
"""
    files = {"pyproject.toml": pyproject, "requirements.txt": "a\n", "requirements-dev.txt": "b\n"}
    workspace, _ = make_tree(tmp_path, files)
    assert declared_requirements(workspace.root) == [
        "-r",
        "requirements-dev.txt",
        "-r",
        "requirements.txt",
        "httpx>=0.27",
        "pytest-asyncio",
    ]


def test_an_unreadable_pyproject_declares_nothing(tmp_path: pathlib.Path) -> None:
    workspace, _ = make_tree(tmp_path, {"pyproject.toml": "[project\n"})
    assert declared_requirements(workspace.root) == []
