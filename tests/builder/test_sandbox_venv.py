"""The build's virtual environment: really made with pip inside the sandbox, pytest run in it, reused."""

from __future__ import annotations

import pathlib

from forgeguard_app.builder.sandbox import Sandbox
from forgeguard_app.builder.tools import Toolbox
from forgeguard_app.builder.venv import declared_requirements, ensure_venv
from tests.builder.sandbox_support import make_tree

PROJECT = {
    "requirements.txt": "pytest\n",
    "tests/test_ok.py": "import sys\n\n\ndef test_in_the_build_venv():\n    assert 'venv' in sys.prefix\n",
}


async def test_a_venv_is_made_with_pip_and_runs_the_project_tests(tmp_path: pathlib.Path) -> None:
    workspace, _ = make_tree(tmp_path, PROJECT)
    venv = tmp_path / "venv"
    maker = Sandbox(workspace.root, venv=venv, cache_dir=tmp_path / "cache")
    # Offline: pytest comes from the interpreter's own packages, pip only checks it is there.
    made = await ensure_venv(maker, venv, system_site_packages=True, pip_args=["--no-index"])
    assert made.ok, made.output
    assert not made.reused
    assert made.requirements == ("-r", "requirements.txt")
    assert (venv / "bin" / "pip").exists()

    result = await Toolbox(workspace, maker).run("run_tests", {"command": "pytest -q -p no:cacheprovider"})
    assert result.text.splitlines()[:2] == ["Exit code: 0", "Passed: 1, failed: 0, errors: 0, skipped: 0"]

    again = await ensure_venv(maker, venv, system_site_packages=True, pip_args=["--no-index"])
    assert again.reused
    assert workspace.pending() == {}


async def test_a_failed_install_says_why(tmp_path: pathlib.Path) -> None:
    workspace, _ = make_tree(tmp_path, {"requirements.txt": "surely-not-a-real-package-4242\n"})
    venv = tmp_path / "venv"
    made = await ensure_venv(
        Sandbox(workspace.root, venv=venv), venv, system_site_packages=True, pip_args=["--no-index"]
    )
    assert not made.ok
    assert "surely-not-a-real-package-4242" in made.output


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
