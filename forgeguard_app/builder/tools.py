"""The builder's file and command tools, run in the sandbox; results for the model.

- `ToolResult(text, is_error, summary)`: `text` goes back to the model as the tool result,
  `summary` (one short line) to the tool log and the progress comment.
- `Toolbox(workspace, sandbox)`: `await toolbox.run(name, args) -> ToolResult` for the eight
  tools of `FILE_TOOLS` (`read_file`, `list_directory`, `search_code`, `write_file`,
  `delete_file`, `run_tests`, `check_syntax`, `run_command`). Never raises for bad input,
  refused paths or commands, or time-outs (an `is_error` result); raises only `DiskFull`
  (the core pauses the build with its message).
- `await run_project_tests(workspace, sandbox, *, command=None, time_limit=...) -> TestRun`:
  the sign-off's own test run (`pytest -q` for a Python project, `npm test` for a
  JavaScript one), for `Forge/evidence/test_runs_latest.md`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import tomllib
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import re2
import tree_sitter as ts
import tree_sitter_javascript as tsjs
import tree_sitter_typescript as tsts
import yaml

from forgeguard_app.builder.sandbox import (
    HOME_DIR,
    MAX_TIMEOUT,
    TIMEOUT_CHECK_SYNTAX,
    TIMEOUT_RUN_COMMAND,
    TIMEOUT_RUN_TESTS,
    CommandResult,
    Refused,
    Sandbox,
    parse_command,
)
from forgeguard_app.builder.workspace import DiskFull, Workspace

log = logging.getLogger(__name__)

FILE_TOOLS = frozenset(
    {
        "read_file",
        "list_directory",
        "search_code",
        "write_file",
        "delete_file",
        "run_tests",
        "check_syntax",
        "run_command",
    }
)
READ_CAP = 50_000
MAX_HITS = 50
MAX_WRITE = 1_000_000
"""The largest file `write_file` writes (bytes of UTF-8)."""
MAX_LISTING = 1000
SEARCH_FILE_CAP = 1_000_000
"""Files larger than this are not searched."""
SEARCH_TOTAL_CAP = 50_000_000
LINE_CAP = 300
EVIDENCE_CUT = 12_000
"""The test output kept for the evidence file (its end: the summary is there)."""
SKIPPED_FOLDERS = frozenset(
    {
        ".git",
        "node_modules",
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        HOME_DIR,
        ".venv",
        "venv",
    }
)
TEST_RUNNERS = (
    ("pytest",),
    ("python", "-m", "pytest"),
    ("python3", "-m", "pytest"),
    ("python", "-m", "unittest"),
)
TEST_RUNNERS_JS = (("npm", "test"), ("npx", "vitest"))


class BadInput(Exception):
    """An input that does not fit the tool (missing, wrong type, too large)."""


@dataclass(frozen=True)
class ToolResult:
    text: str
    is_error: bool
    summary: str


def _error(text: str, summary: str | None = None) -> ToolResult:
    return ToolResult(text, True, (summary or text).splitlines()[0][:160])


@dataclass(frozen=True)
class TestRun:
    """One test run of the project, as the evidence file reports it."""

    __test__ = False  # not a pytest class

    command: str
    exit_code: int | None
    passed: int
    failed: int
    errors: int
    skipped: int
    timed_out: bool
    duration: float
    output: str
    """stdout then stderr, cut to a readable size."""

    @property
    def status(self) -> str:
        """`PASS` when the command exited 0 within its time, else `FAIL`."""
        return "PASS" if self.exit_code == 0 and not self.timed_out else "FAIL"


def _shown(name: str) -> str:
    """A name from the disk as text the model can receive (bad bytes replaced)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


# -- inputs


def _text(args: Mapping[str, Any], name: str, *, required: bool = True, default: str = "") -> str:
    value = args.get(name)
    if value is None:
        if required:
            raise BadInput(f"`{name}` is required")
        return default
    if not isinstance(value, str):
        raise BadInput(f"`{name}` must be a string")
    return value


def _limit(args: Mapping[str, Any], default: float) -> float:
    value = args.get("timeout")
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadInput("`timeout` must be a number of seconds")
    return max(1.0, min(float(value), MAX_TIMEOUT))


# -- test output


_PYTEST_SUMMARY = re.compile(r"\b(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)\b")
_JS_SUMMARY = re.compile(r"^\s*Tests:?\s+(.*)$", re.M)
_JS_COUNT = re.compile(r"(\d+) (passed|failed|skipped|todo)")


def count_tests(output: str) -> dict[str, int]:
    """Passed, failed, errors and skipped from pytest's summary line (or vitest's / jest's)."""
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    lines = [line for line in output.splitlines() if re.search(r"\bin [\d.]+s\b", line)]
    if lines and _PYTEST_SUMMARY.search(lines[-1]):
        for number, word in _PYTEST_SUMMARY.findall(lines[-1]):
            key = {"error": "errors", "errors": "errors", "xfailed": "skipped", "xpassed": "passed"}.get(
                word, word
            )
            counts[key] += int(number)
        return counts
    js = _JS_SUMMARY.findall(output)
    if js:
        for number, word in _JS_COUNT.findall(js[-1]):
            counts["skipped" if word == "todo" else word] += int(number)
    return counts


def _command_text(result: CommandResult, time_limit: float) -> str:
    parts = []
    if result.timed_out:
        parts.append(f"Timed out after {time_limit:g} s: the command and everything it started were killed.")
    else:
        parts.append(f"Exit code: {result.exit_code}")
    if result.stdout:
        parts.append(result.stdout.rstrip("\n"))
    if result.stderr:
        parts.append("[stderr]\n" + result.stderr.rstrip("\n"))
    if result.stdout_cut or result.stderr_cut:
        parts.append(
            f"(output cut: {result.stdout_cut} bytes of stdout, {result.stderr_cut} of stderr left out)"
        )
    return "\n".join(parts)


# -- syntax


_TS_LANGUAGES: dict[str, ts.Language] = {}


def _language(suffix: str) -> ts.Language:
    kind = {".ts": "ts", ".mts": "ts", ".cts": "ts", ".tsx": "tsx"}.get(suffix, "js")
    if kind not in _TS_LANGUAGES:
        raw = {"ts": tsts.language_typescript, "tsx": tsts.language_tsx, "js": tsjs.language}[kind]()
        _TS_LANGUAGES[kind] = ts.Language(raw)
    return _TS_LANGUAGES[kind]


def _tree_errors(node: ts.Node, out: list[str]) -> None:
    if len(out) >= 20:
        return
    if node.is_missing:
        out.append(
            f"line {node.start_point.row + 1}, column {node.start_point.column + 1}: missing `{node.type}`"
        )
        return
    if node.is_error:
        out.append(f"line {node.start_point.row + 1}, column {node.start_point.column + 1}: syntax error")
        return
    if node.has_error:
        for child in node.children:
            _tree_errors(child, out)


_PY_CHECK = """
import sys
path = sys.argv[1]
try:
    compile(open(path, "rb").read(), path, "exec", dont_inherit=True)
except SyntaxError as exc:
    print(f"line {exc.lineno}, column {exc.offset}: {exc.msg}")
    sys.exit(1)
except (ValueError, MemoryError, RecursionError) as exc:
    print(f"{type(exc).__name__}: {exc}")
    sys.exit(1)
"""

JS_SUFFIXES = frozenset({".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx"})


def _structured_errors(suffix: str, data: bytes) -> list[str] | None:
    """Errors of a JSON, TOML, YAML or JavaScript/TypeScript file, or None for other kinds."""
    try:
        if suffix == ".json":
            json.loads(data)
        elif suffix == ".toml":
            tomllib.loads(data.decode("utf-8"))
        elif suffix in (".yml", ".yaml"):
            for _ in yaml.safe_load_all(data):
                pass
        elif suffix in JS_SUFFIXES:
            tree = ts.Parser(_language(suffix)).parse(data)
            found: list[str] = []
            _tree_errors(tree.root_node, found)
            return found
        else:
            return None
    except json.JSONDecodeError as exc:
        return [f"line {exc.lineno}, column {exc.colno}: {exc.msg}"]
    except tomllib.TOMLDecodeError as exc:
        return [str(exc)]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        return [f"{where}{getattr(exc, 'problem', None) or exc}"]
    except (UnicodeDecodeError, RecursionError, ValueError) as exc:
        return [f"{type(exc).__name__}: {exc}"]
    return []


# -- the toolbox


class Toolbox:
    """The file and command tools over one working tree and its sandbox."""

    def __init__(self, workspace: Workspace, sandbox: Sandbox) -> None:
        self.workspace = workspace
        self.sandbox = sandbox
        self._tools: dict[str, Callable[[Mapping[str, Any]], Awaitable[ToolResult]]] = {
            "read_file": self.read_file,
            "list_directory": self.list_directory,
            "search_code": self.search_code,
            "write_file": self.write_file,
            "delete_file": self.delete_file,
            "run_tests": self.run_tests,
            "check_syntax": self.check_syntax,
            "run_command": self.run_command,
        }

    async def run(self, name: str, args: Mapping[str, Any]) -> ToolResult:
        """Runs one tool of `FILE_TOOLS` (an unknown name or bad input is an error result)."""
        tool = self._tools.get(name)
        if tool is None:
            return _error(f"unknown tool `{name}`")
        if not isinstance(args, Mapping):
            return _error(f"`{name}` takes an object of inputs")
        try:
            return await tool(args)
        except Refused as exc:
            return _error(f"Refused: {exc}")
        except BadInput as exc:
            return _error(f"Bad input for {name}: {exc}")
        except FileNotFoundError:
            return _error(f"`{args.get('path')}` does not exist")
        except IsADirectoryError:
            return _error(f"`{args.get('path')}` is a folder")
        except NotADirectoryError:
            return _error(f"`{args.get('path')}` is not a folder")
        except DiskFull:
            raise
        except OSError as exc:
            # The message without the worker's absolute path.
            return _error(f"{name} failed: {exc.strerror or type(exc).__name__}")

    # -- files

    async def read_file(self, args: Mapping[str, Any]) -> ToolResult:
        path = _text(args, "path")
        data = self.workspace.read(path)
        if b"\0" in data[:8000]:
            return ToolResult(f"`{path}` is a binary file of {len(data)} bytes.", False, f"{path}: binary")
        text = data[:READ_CAP].decode("utf-8", errors="replace")
        if len(data) > READ_CAP:
            # A character cut in two at the end is dropped rather than shown as garbage.
            text = data[:READ_CAP].decode("utf-8", errors="ignore")
            text += f"\n[… cut: the first {READ_CAP} of {len(data)} bytes are shown]"
        return ToolResult(text, False, f"{path}: {len(data)} bytes")

    async def list_directory(self, args: Mapping[str, Any]) -> ToolResult:
        path = _text(args, "path", required=False, default=".") or "."
        real = self.sandbox.path(path)
        if not real.is_dir():
            raise NotADirectoryError(path)
        names = []
        with os.scandir(real) as entries:
            for entry in entries:
                if entry.name == HOME_DIR or entry.name.startswith(".forge-write-"):
                    continue
                name = _shown(entry.name)
                names.append(name + "/" if entry.is_dir() else name)
        names.sort()
        shown = names[:MAX_LISTING]
        text = "\n".join(shown) if shown else "(empty)"
        if len(names) > MAX_LISTING:
            text += f"\n[… {len(names) - MAX_LISTING} more entries]"
        return ToolResult(text, False, f"{path}: {len(names)} entries")

    def _files_under(self, start: Path) -> Iterator[Path]:
        if start.is_file():
            yield start
            return
        top = self.workspace.root.resolve()
        for folder, dirs, files in os.walk(start):
            dirs[:] = sorted(d for d in dirs if d not in SKIPPED_FOLDERS)
            for name in sorted(files):
                candidate = Path(folder) / name
                # A link is searched only when it leads to a file inside the tree.
                if candidate.is_symlink():
                    target = candidate.resolve()
                    if top not in target.parents or not target.is_file():
                        continue
                yield candidate

    async def search_code(self, args: Mapping[str, Any]) -> ToolResult:
        pattern = _text(args, "pattern")
        path = _text(args, "path", required=False, default=".") or "."
        start = self.sandbox.path(path)
        if not start.exists():
            raise FileNotFoundError(path)
        options = re2.Options()
        options.log_errors = False
        try:
            regex = re2.compile(pattern, options)
        except re2.error as exc:
            detail = (
                exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else exc
            )
            return _error(f"Bad regular expression (RE2 syntax: no lookaround or backreferences): {detail}")
        top = self.workspace.root.resolve()
        hits: list[str] = []
        scanned = 0
        for file in self._files_under(start):
            try:
                size = file.stat().st_size
                if size > SEARCH_FILE_CAP or scanned > SEARCH_TOTAL_CAP:
                    continue
                data = file.read_bytes()
            except OSError:
                continue
            scanned += size
            if b"\0" in data[:8000]:
                continue
            rel = _shown(file.relative_to(top).as_posix() if top in file.parents else file.as_posix())
            for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
                if regex.search(line):
                    hits.append(f"{rel}:{number}: {line.strip()[:LINE_CAP]}")
                    if len(hits) > MAX_HITS:
                        break
            if len(hits) > MAX_HITS:
                break
        if not hits:
            return ToolResult("No matches.", False, f"/{pattern[:60]}/: no matches")
        text = "\n".join(hits[:MAX_HITS])
        if len(hits) > MAX_HITS:
            text += f"\n[… stopped at {MAX_HITS} matches; narrow the pattern or the path]"
        return ToolResult(text, False, f"/{pattern[:60]}/: {min(len(hits), MAX_HITS)} matches")

    async def write_file(self, args: Mapping[str, Any]) -> ToolResult:
        path = _text(args, "path")
        content = _text(args, "content")
        data = content.encode("utf-8", errors="surrogatepass")
        if len(data) > MAX_WRITE:
            raise BadInput(f"`content` is {len(data)} bytes; at most {MAX_WRITE} are written")
        size = self.workspace.write(path, data)
        return ToolResult(f"Wrote {size} bytes to `{path}`.", False, f"{path}: {size} bytes")

    async def delete_file(self, args: Mapping[str, Any]) -> ToolResult:
        path = _text(args, "path")
        self.workspace.delete(path)
        return ToolResult(f"Deleted `{path}`.", False, f"{path}: deleted")

    # -- commands

    async def run_tests(self, args: Mapping[str, Any]) -> ToolResult:
        command = _text(args, "command")
        time_limit = _limit(args, TIMEOUT_RUN_TESTS)
        argv = parse_command(command)
        if not any(tuple(argv[: len(runner)]) == runner for runner in TEST_RUNNERS + TEST_RUNNERS_JS):
            raise Refused("run_tests runs a test command (pytest, python -m pytest, npm test, npx vitest)")
        result = await self.sandbox.run(command, time_limit=time_limit)
        counts = count_tests(result.stdout + "\n" + result.stderr)
        head = (
            f"Passed: {counts['passed']}, failed: {counts['failed']}, errors: {counts['errors']}, "
            f"skipped: {counts['skipped']}"
        )
        text = _command_text(result, time_limit)
        first, _, rest = text.partition("\n")
        summary = f"exit {result.exit_code}, {counts['passed']} passed, {counts['failed']} failed"
        if result.timed_out:
            return _error(f"{first}\n{head}\n{rest}", f"timed out after {time_limit:g} s")
        return ToolResult(f"{first}\n{head}\n{rest}".rstrip("\n"), False, summary)

    async def run_command(self, args: Mapping[str, Any]) -> ToolResult:
        command = _text(args, "command")
        time_limit = _limit(args, TIMEOUT_RUN_COMMAND)
        result = await self.sandbox.run(command, time_limit=time_limit)
        text = _command_text(result, time_limit)
        if result.timed_out:
            return _error(text, f"timed out after {time_limit:g} s")
        return ToolResult(text, False, f"exit {result.exit_code}")

    async def check_syntax(self, args: Mapping[str, Any]) -> ToolResult:
        path = _text(args, "path")
        data = self.workspace.read(path)
        suffix = Path(path).suffix.lower()
        found: list[str] | None
        if suffix in (".py", ".pyi"):
            found = await self._python_errors(path, _limit(args, TIMEOUT_CHECK_SYNTAX))
        else:
            found = _structured_errors(suffix, data)
            if found is None:
                return ToolResult(
                    f"No syntax check for `{suffix or path}` files.", False, f"{path}: not checked"
                )
        if not found:
            return ToolResult("No errors", False, f"{path}: no errors")
        text = "\n".join(f"{path}: {line}" for line in found)
        return ToolResult(text, False, f"{path}: {len(found)} errors")

    async def _python_errors(self, path: str, time_limit: float) -> list[str]:
        real = self.sandbox.path(path)
        rel = real.relative_to(self.workspace.root.resolve()).as_posix()
        python = str(
            Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
        )
        # Compiled in a child (isolated mode: no site, no project code): deeply nested input
        # can exhaust the parser, and the child has the time and memory limits.
        result = await self.sandbox.run_argv([python, "-I", "-c", _PY_CHECK, rel], time_limit=time_limit)
        if result.timed_out:
            return [f"the check ran past {time_limit:g} s"]
        if result.exit_code == 0:
            return []
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        return lines or [f"the check failed (exit {result.exit_code}): {result.stderr.strip()[-300:]}"]


# -- the sign-off's test run


def default_test_command(root: Path) -> str:
    """`pytest -q` for a Python project (or one with no tests yet), `npm test` for a JavaScript one."""
    python = any((root / name).exists() for name in ("pyproject.toml", "setup.py", "setup.cfg", "pytest.ini"))
    python = python or any(root.glob("requirements*.txt")) or any(root.rglob("test_*.py"))
    package = root / "package.json"
    if not python and package.is_file():
        try:
            scripts = json.loads(package.read_text("utf-8")).get("scripts") or {}
        except (OSError, ValueError, AttributeError):
            scripts = {}
        if isinstance(scripts, dict) and "test" in scripts:
            return "npm test"
    return "pytest -q"


async def run_project_tests(
    workspace: Workspace,
    sandbox: Sandbox,
    *,
    command: str | None = None,
    time_limit: float = TIMEOUT_RUN_TESTS,
) -> TestRun:
    """The project's tests run by the app (see the module docstring)."""
    command = command or default_test_command(workspace.root)
    try:
        result = await sandbox.run(command, time_limit=time_limit)
    except Refused as exc:
        return TestRun(command, None, 0, 0, 0, 0, False, 0.0, f"The tests could not run: {exc}")
    output = result.stdout.rstrip("\n")
    if result.stderr:
        output += "\n[stderr]\n" + result.stderr.rstrip("\n")
    if result.timed_out:
        output += f"\n[timed out after {time_limit:g} s: the run and everything it started were killed]"
    counts = count_tests(result.stdout + "\n" + result.stderr)
    if len(output) > EVIDENCE_CUT:
        output = f"[… {len(output) - EVIDENCE_CUT} characters cut]\n" + output[-EVIDENCE_CUT:]
    return TestRun(
        command=command,
        exit_code=result.exit_code,
        passed=counts["passed"],
        failed=counts["failed"],
        errors=counts["errors"],
        skipped=counts["skipped"],
        timed_out=result.timed_out,
        duration=result.duration,
        output=output,
    )
