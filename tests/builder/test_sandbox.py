"""The sandbox's rules, adversarially: paths out of the tree, protected folders, the command grammar."""

from __future__ import annotations

import os
import pathlib

import pytest

from forgeguard_app.builder import sandbox as sandbox_module
from forgeguard_app.builder.sandbox import (
    IsolationMode,
    Refused,
    isolation_line,
    isolation_mode,
    needs_network,
    parse_command,
    resolve_path,
    runs_python,
)


@pytest.fixture
def tree(tmp_path: pathlib.Path) -> pathlib.Path:
    root = tmp_path / "tree"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("x = 1\n")
    (root / ".git").mkdir()
    return root


# -- paths


@pytest.mark.parametrize("path", ["../secret", "src/../../secret", "src/..", "..", "./../x"])
def test_a_path_with_dotdot_is_refused(tree: pathlib.Path, path: str) -> None:
    with pytest.raises(Refused, match=r"`\.\.`"):
        resolve_path(tree, path)


@pytest.mark.parametrize("path", ["/etc/passwd", "/", "//etc/passwd", "~/x", "~root/.ssh/id_rsa"])
def test_an_absolute_path_is_refused(tree: pathlib.Path, path: str) -> None:
    with pytest.raises(Refused, match="absolute"):
        resolve_path(tree, path)


@pytest.mark.parametrize("path", ["", "   ", "src/\0app.py"])
def test_an_empty_path_or_one_with_a_nul_byte_is_refused(tree: pathlib.Path, path: str) -> None:
    with pytest.raises(Refused):
        resolve_path(tree, path)


def test_a_symlink_to_etc_passwd_is_refused_for_reading_and_writing(tree: pathlib.Path) -> None:
    os.symlink("/etc/passwd", tree / "passwd")
    for write in (False, True):
        with pytest.raises(Refused, match="outside the working tree"):
            resolve_path(tree, "passwd", write=write)


def test_a_path_through_a_symlinked_folder_that_leaves_the_tree_is_refused(
    tree: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, tree / "src" / "escape")
    with pytest.raises(Refused, match="outside the working tree"):
        resolve_path(tree, "src/escape/new.py", write=True)


def test_a_relative_symlink_climbing_out_is_refused(tree: pathlib.Path) -> None:
    os.symlink("../../..", tree / "src" / "up")
    with pytest.raises(Refused, match="outside the working tree"):
        resolve_path(tree, "src/up/etc/passwd")


def test_a_symlink_inside_the_tree_resolves_to_its_target(tree: pathlib.Path) -> None:
    os.symlink("app.py", tree / "src" / "alias.py")
    assert resolve_path(tree, "src/alias.py") == (tree / "src" / "app.py").resolve()


def test_an_ordinary_path_resolves_inside_the_tree(tree: pathlib.Path) -> None:
    assert resolve_path(tree, "src/app.py", write=True) == (tree / "src" / "app.py").resolve()
    assert resolve_path(tree, "./src/new/module.py", write=True) == (tree / "src/new/module.py").resolve()


@pytest.mark.parametrize(
    "path", [".git/config", ".git/hooks/pre-commit", "sub/.git/HEAD", ".GIT/config", ".git"]
)
def test_git_folders_are_not_writable(tree: pathlib.Path, path: str) -> None:
    with pytest.raises(Refused, match=r"\.git"):
        resolve_path(tree, path, write=True)


def test_git_folders_can_be_read(tree: pathlib.Path) -> None:
    assert resolve_path(tree, ".git") == (tree / ".git").resolve()


def test_the_virtual_environment_is_not_writable(tree: pathlib.Path) -> None:
    venv = tree / ".venv"
    venv.mkdir()
    with pytest.raises(Refused, match="virtual environment"):
        resolve_path(tree, ".venv/bin/python", write=True, protected=[venv])


@pytest.mark.parametrize("path", [".github/workflows/ci.yml", ".github/workflows/sub/x.yaml"])
def test_workflow_files_are_refused_with_the_reason(tree: pathlib.Path, path: str) -> None:
    with pytest.raises(Refused, match="workflows permission"):
        resolve_path(tree, path, write=True)


def test_other_github_files_are_writable(tree: pathlib.Path) -> None:
    assert resolve_path(tree, ".github/dependabot.yml", write=True).name == "dependabot.yml"


def test_a_symlink_into_the_workflows_folder_is_refused_for_writing(tree: pathlib.Path) -> None:
    (tree / ".github" / "workflows").mkdir(parents=True)
    os.symlink(".github/workflows", tree / "ci")
    with pytest.raises(Refused, match="workflows permission"):
        resolve_path(tree, "ci/build.yml", write=True)


# -- commands

METACHARACTERS = [";", "|", "&", "$", "`", ">", "<", "\n", "\r"]


@pytest.mark.parametrize("char", METACHARACTERS)
@pytest.mark.parametrize(
    "template",
    [
        "{c}ls",
        "ls{c}",
        "ls {c} cat x",
        "ls src{c}x",
        "cat 'a{c}b'",
        'pytest -k "x{c}y"',
        "pip install 'requests{c}'",
        "{c}",
    ],
)
def test_a_shell_metacharacter_in_any_position_is_refused(template: str, char: str) -> None:
    with pytest.raises(Refused, match="metacharacter"):
        parse_command(template.format(c=char))


@pytest.mark.parametrize(
    "command",
    [
        "bash -c ls",
        "sh -c ls",
        "rm -rf src",
        "curl https://example.com",
        "git push",
        "env",
        "node -e 1",
        "python",
        "python script.py",
        "python -c print(1)",
        "python3 -c print(1)",
        "python -m",
        "python -m 'os;'",
        "python -m pip uninstall pytest",
        "pip uninstall pytest",
        "pip",
        "npm run build",
        "npm exec evil",
        "npm",
        "npx evil-package",
        "npx",
        "/bin/ls",
        "./pytest",
        "bin/cat x",
        "sudo ls",
        "chmod 777 src",
    ],
)
def test_programs_off_the_allowlist_are_refused(command: str) -> None:
    with pytest.raises(Refused):
        parse_command(command)


@pytest.mark.parametrize("action", ["-exec", "-execdir", "-delete", "-ok", "-okdir", "-fprint", "-fls"])
def test_find_with_an_action_is_refused(action: str) -> None:
    with pytest.raises(Refused, match="find"):
        parse_command(f"find . -name '*.py' {action} rm {{}} +")


@pytest.mark.parametrize(
    "command",
    [
        "cat /etc/passwd",
        "ls ..",
        "head ../secret",
        "find / -name id_rsa",
        "pytest --rootdir=/",
        "pytest tests/../../x",
        "tail ~/.bashrc",
        "pip install --target /usr/lib/x requests",
    ],
)
def test_arguments_that_leave_the_tree_are_refused(command: str) -> None:
    with pytest.raises(Refused, match=r"absolute|\.\."):
        parse_command(command)


@pytest.mark.parametrize(
    "command", ["find -L . -name x", "find . -follow", "ls -L src", "wc --files0-from=list"]
)
def test_file_utilities_may_not_follow_links(command: str) -> None:
    with pytest.raises(Refused, match="follow links"):
        parse_command(command)


def test_unbalanced_quotes_are_refused() -> None:
    with pytest.raises(Refused, match="does not parse"):
        parse_command("cat 'src/app.py")


@pytest.mark.parametrize(
    ("command", "argv"),
    [
        ("pytest -q tests/test_items.py::test_add", ["pytest", "-q", "tests/test_items.py::test_add"]),
        ("python -m pytest -x", ["python", "-m", "pytest", "-x"]),
        ("python3 -m mypy src", ["python3", "-m", "mypy", "src"]),
        ("pip install 'requests==2.31'", ["pip", "install", "requests==2.31"]),
        (
            "python -m pip install -r requirements.txt",
            ["python", "-m", "pip", "install", "-r", "requirements.txt"],
        ),
        ("npm test", ["npm", "test"]),
        ("npm install", ["npm", "install"]),
        ("npx vitest run", ["npx", "vitest", "run"]),
        ("npx tsc --noEmit", ["npx", "tsc", "--noEmit"]),
        ("find . -name '*.py' -type f", ["find", ".", "-name", "*.py", "-type", "f"]),
        ("ls -la src", ["ls", "-la", "src"]),
        ("wc -l 'my file.txt'", ["wc", "-l", "my file.txt"]),
        ("head -n 5 src/app.py", ["head", "-n", "5", "src/app.py"]),
    ],
)
def test_allowed_commands_split_with_shell_quoting(command: str, argv: list[str]) -> None:
    assert parse_command(command) == argv


@pytest.mark.parametrize(
    ("argv", "network"),
    [
        (["pip", "install", "x"], True),
        (["python", "-m", "pip", "install", "x"], True),
        (["npm", "install"], True),
        (["npm", "test"], False),
        (["pytest"], False),
        (["python", "-m", "http.server"], False),
    ],
)
def test_only_installs_may_use_the_network(argv: list[str], network: bool) -> None:
    assert needs_network(argv) is network


def test_the_isolation_line_names_the_active_mode() -> None:
    mode = isolation_mode()
    words = {
        IsolationMode.BWRAP: "bubblewrap",
        IsolationMode.UNSHARE: "unshare",
        IsolationMode.RULES: "rules",
    }
    assert isolation_line().startswith(words[mode])


def commands_as_root(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    """No bubblewrap, a root worker, and an interpreter uid 65534 cannot reach."""
    hidden = tmp_path / "private" / "python"
    hidden.mkdir(parents=True)
    (tmp_path / "private").chmod(0o700)
    monkeypatch.setattr(sandbox_module, "isolation_mode", lambda: IsolationMode.UNSHARE)
    monkeypatch.setattr(sandbox_module, "_run_as", lambda: (65534, 65534))
    monkeypatch.setattr(sandbox_module, "_python_prefix", lambda: hidden)


def test_the_isolation_line_says_commands_run_as_root_uncapped_where_no_pids_cgroup_can_be_made(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    commands_as_root(monkeypatch, tmp_path)
    monkeypatch.setattr(sandbox_module, "pids_base", lambda: None)
    line = isolation_line()
    assert "commands as root" in line
    assert "install bubblewrap" in line


def test_the_isolation_line_says_a_pids_cgroup_caps_commands_run_as_root(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    commands_as_root(monkeypatch, tmp_path)
    monkeypatch.setattr(sandbox_module, "pids_base", lambda: pathlib.Path("/sys/fs/cgroup/pids"))
    line = isolation_line()
    assert "commands as root" in line
    assert line.endswith("their processes capped by a pids cgroup)")


def test_the_isolation_line_names_uid_65534_where_it_can_reach_python(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sandbox_module, "isolation_mode", lambda: IsolationMode.UNSHARE)
    monkeypatch.setattr(sandbox_module, "_run_as", lambda: (65534, 65534))
    monkeypatch.setattr(sandbox_module, "_python_prefix", lambda: pathlib.Path("/usr"))
    assert isolation_line().endswith("commands as uid 65534)")


@pytest.mark.parametrize(
    ("command", "python"),
    [
        ("pytest -q", True),
        ("python -m mypy shelf", True),
        ("pip install requests", True),
        ("npm test", False),
        ("npx vitest run", False),
        ("ls shelf", False),
        ("rm -rf shelf", False),
        (None, False),
    ],
)
def test_only_pythons_programs_need_the_builds_virtual_environment(command: object, python: bool) -> None:
    assert runs_python(command) is python
