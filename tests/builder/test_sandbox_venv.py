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
    pip = await maker.run("pip install --no-index pytest", time_limit=300)
    assert pip.exit_code == 0, pip.stdout + pip.stderr

    result = await Toolbox(workspace, maker).run("run_tests", {"command": "pytest -q -p no:cacheprovider"})
    assert result.text.splitlines()[:2] == ["Exit code: 0", "Passed: 1, failed: 0, errors: 0, skipped: 0"]

    again = await ensure_venv(maker, venv, system_site_packages=True, pip_args=["--no-index"])
    assert again.reused
    assert workspace.pending() == {}


async def test_nothing_is_installed_when_nothing_is_declared_and_the_interpreter_has_pytest(
    tmp_path: pathlib.Path,
) -> None:
    workspace, _ = make_tree(tmp_path, {"tests/test_ok.py": PROJECT["tests/test_ok.py"]})
    venv = tmp_path / "venv"
    made = await ensure_venv(Sandbox(workspace.root, venv=venv), venv, system_site_packages=True)
    assert made.ok
    assert made.output == "pytest comes from the interpreter's own packages; nothing to install"


async def test_without_the_interpreter_packages_pip_installs_pytest_in_the_venv(
    tmp_path: pathlib.Path,
) -> None:
    workspace, _ = make_tree(tmp_path, {})
    venv = tmp_path / "venv"
    # No index and no wheels: pip must fail to find pytest, which shows it ran in the venv's own pip.
    made = await ensure_venv(Sandbox(workspace.root, venv=venv), venv, pip_args=["--no-index"])
    assert not made.ok
    assert (venv / "bin" / "pip").exists()
    assert "No matching distribution found for pytest" in made.output


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
