"""A9 Dependency gate: every third-party import is declared in a dependency manifest.

Python imports come from the compiled file (any depth, relative imports are
local; `checks.imports_py`); JS/TS imports from tree-sitter. The standard
library of every Python the project supports, first-party modules as Python
resolves them, and local aliases are not third-party. An import is declared
when a distribution that provides it (`checks/data/`: never what happens to be
installed here) is named in the manifests that govern the file, in a scope
that covers the file (test-only requirements declare only test files' imports).

Diff-aware: an undeclared import is a failure when its line was added by the
change, when a dependency manifest changed, or with `--full`; one already
there, or an optional one (`if TYPE_CHECKING:`, a `try` catching
`ImportError`), is a notice. Vendored code is left out unless configured.

A file this Python cannot parse is a failure, unless this Python is older than
every version the project supports (`requires-python`): then the file may use
newer syntax, and it is a notice, neither judged nor its imports checked.
"""

from __future__ import annotations

import functools
import posixpath
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources

from checks import imports_js, imports_py, stdlib
from checks.context import AuditContext, Verdict
from checks.files import selected_paths
from checks.manifests import (
    Manifest,
    TsAliases,
    ancestors,
    is_manifest,
    join,
    manifest_folder,
    nearest,
    normalize,
    parse_package_json,
    parse_python_manifest,
    parse_tsconfig,
    python_manifest_paths,
    read_forge_json,
)
from checks.model import Finding, Level
from checks.vendored import IMPORT_PATH_FOLDERS, is_vendored

CODE = "A9"
NAME = "Dependency gate"

PY_EXTENSIONS = (".py", ".pyi")
MAX_PARSE_BYTES = 5 * 1024 * 1024
"""Larger source files are generated data, not code a person wrote: noted, not parsed."""
ALWAYS_LOCAL = frozenset({"tests", "test", "testing", "conftest", "__main__", "_typeshed"})
"""tests-style local folders, the running program, and the type checkers' stub-only module."""
TEST_FOLDERS = frozenset({"test", "tests"})
TEST_DATA_FOLDERS = frozenset({"data", "fixtures", "testdata", "test_data"})
"""Folders of a test tree that hold inputs for the tests (a formatter's sample files), not code."""
_TEST_FILE = re.compile(r"(?:^|/)tests?/|(?:^|/)test_[^/]*\.pyi?$|_test\.pyi?$|(?:^|/)conftest\.py$")
SHOW = 5
RUNNING_PYTHON: tuple[int, int] = (sys.version_info.major, sys.version_info.minor)
"""The Python whose grammar judges syntax (read once by `run`; tests set it)."""
_OPTIONAL = {
    "TYPE_CHECKING": "optional: under TYPE_CHECKING",
    "ImportError": "optional: in a try that catches ImportError",
}


def _is_source(path: str) -> bool:
    return path.endswith(PY_EXTENSIONS) or imports_js.is_js(path)


def is_test_file(path: str) -> bool:
    """A file whose imports test-only requirements declare.

    In a `test`/`tests` folder, or named `test_*.py`, `*_test.py`, `conftest.py`.
    """
    return bool(_TEST_FILE.search(path))


@functools.cache
def _mapping() -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """(overrides by dotted import name, pipreqs' distributions by top-level name)."""
    data = resources.files("checks") / "data"

    def load(name: str) -> dict[str, list[str]]:
        table: dict[str, list[str]] = {}
        for line in (data / name).read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#") and ":" in line:
                key, _, value = line.partition(":")
                table.setdefault(key.strip(), []).append(value.strip())
        return table

    overrides = {k: v[0] for k, v in load("import_overrides.txt").items()}
    return overrides, {k: tuple(v) for k, v in load("pipreqs_mapping.txt").items()}


@functools.cache
def _node_builtins() -> frozenset[str]:
    text = (resources.files("checks") / "data" / "node_builtins.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().split("/")[0] for line in text.splitlines() if line.strip())


@functools.cache
def distributions(module: str) -> tuple[str, ...]:
    """Candidate distributions for an imported module, the most likely first.

    An override for the longest dotted prefix wins; a namespace rule (`azure.*` ->
    `azure-*`) gives the deepest name first (`azure.storage.blob` -> azure-storage-blob,
    azure-storage). Then pipreqs' candidates for the top-level name, then the name itself.
    """
    overrides, pipreqs = _mapping()
    parts = module.split(".")
    out: list[str] = []
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in overrides:
            out.append(overrides[key])
            break
        wild = ".".join([*parts[: n - 1], "*"])
        if n > 1 and wild in overrides:
            template = overrides[wild]
            sep = "." if template.endswith(".*") else "-"
            out.extend(
                template.replace("*", sep.join(parts[n - 1 : k])) for k in range(len(parts), n - 1, -1)
            )
            break
    top = parts[0]
    out.extend(pipreqs.get(top, ()))
    out.append(top)
    return tuple(dict.fromkeys(out))


def is_declared(module: str, manifest: Manifest, *, test: bool = False, build: bool = False) -> bool:
    return any(manifest.declares(d, test=test, build=build) for d in distributions(module))


@dataclass
class _Layout:
    """Where Python modules live at head, to tell first-party imports apart as Python resolves them."""

    modules: set[str]
    dirs: set[str]
    vendored_tops: set[str]
    _tree_names: dict[str, set[str]] = field(default_factory=dict)

    @staticmethod
    def of(paths: Iterable[str]) -> _Layout:
        modules: set[str] = set()
        dirs: set[str] = set()
        vendored_tops: set[str] = set()
        for p in paths:
            if not p.endswith(PY_EXTENSIONS) and not p.endswith((".so", ".pyd")):
                continue
            modules.add(p.rsplit(".", 1)[0])
            parts = p.split("/")
            for i, part in enumerate(parts[:-1]):
                if part in IMPORT_PATH_FOLDERS:
                    vendored_tops.add(parts[i + 1].split(".")[0])
            folder = p.rsplit("/", 1)[0] if "/" in p else ""
            while folder and folder not in dirs:
                dirs.add(folder)
                folder = folder.rsplit("/", 1)[0] if "/" in folder else ""
        return _Layout(modules, dirs, vendored_tops)

    def has(self, root: str, top: str) -> bool:
        name = join(root, top)
        return name in self.dirs or name in self.modules

    def is_package(self, folder: str) -> bool:
        return bool(folder) and join(folder, "__init__") in self.modules

    def is_local(self, top: str, importer: str, roots: Iterable[str]) -> bool:
        if top in self.vendored_tops or any(self.has(root, top) for root in roots):
            return True
        folder = importer.rpartition("/")[0]
        # a script's own folder is on its import path; inside a package, imports are absolute
        if not self.is_package(folder) and self.has(folder, top):
            return True
        tree = _test_tree(importer)
        return tree is not None and top in self._names_under(tree)

    def _names_under(self, tree: str) -> set[str]:
        if tree not in self._tree_names:
            prefix = tree + "/"
            names = {m.rsplit("/", 1)[-1] for m in self.modules if m.startswith(prefix)}
            names |= {d.rsplit("/", 1)[-1] for d in self.dirs if d.startswith(prefix)}
            self._tree_names[tree] = names
        return self._tree_names[tree]


def _test_tree(path: str) -> str | None:
    """The outermost `test`/`tests` folder enclosing `path`, if any."""
    parts = path.split("/")[:-1]
    for i, part in enumerate(parts):
        if part in TEST_FOLDERS:
            return "/".join(parts[: i + 1])
    return None


@dataclass
class _Problems:
    findings: list[Finding] = field(default_factory=list)
    failures: int = 0
    notices: int = 0
    syntax_errors: int = 0
    not_judged: list[str] = field(default_factory=list)
    """Files this Python cannot parse whose project supports only newer Pythons."""
    judge_on: tuple[int, int] = (0, 0)
    """A Python that would judge every file of `not_judged`."""
    unmanifested: list[str] = field(default_factory=list)
    read: set[str] = field(default_factory=set)
    """Manifests that were consulted for an undeclared import."""


def _forge_dep(ctx: AuditContext) -> str | None:
    return read_forge_json(ctx.head).dependency_file


class _PythonManifestIndex:
    """The Python manifests of each folder at head, found in one pass over the paths."""

    @staticmethod
    def of(ctx: AuditContext, dep_file: str | None) -> _PythonManifestIndex:
        """The audit's index (made once: `wants` and `run` both ask)."""
        index = ctx.memo.get(_INDEX)
        if not (isinstance(index, _PythonManifestIndex) and index.asked_for == dep_file):
            index = ctx.memo[_INDEX] = _PythonManifestIndex(ctx, dep_file)
        return index

    def __init__(self, ctx: AuditContext, dep_file: str | None) -> None:
        self.asked_for = dep_file
        self.dep_file = dep_file if dep_file and not dep_file.endswith("package.json") else None
        found: dict[str, list[str]] = {}
        for p in ctx.head.paths():
            folder = manifest_folder(p)
            if folder is not None:
                found.setdefault(folder, []).append(p)
        self.by_folder: dict[str, list[str]] = {}
        for folder, paths in found.items():
            present = set(paths)
            self.by_folder[folder] = [p for p in python_manifest_paths(folder, paths) if p in present]
        self._memo: dict[str, list[str]] = {}

    def for_file(self, path: str) -> list[str]:
        """The manifests governing `path`: forge.json's, else those of the nearest folder that has any."""
        if self.dep_file:
            return [self.dep_file]
        folder = path.rpartition("/")[0]
        if folder not in self._memo:
            self._memo[folder] = next(
                (self.by_folder[f] for f in ancestors(path) if self.by_folder.get(f)), []
            )
        return self._memo[folder]


def _js_manifest(ctx: AuditContext, path: str, dep_file: str | None) -> str | None:
    if dep_file and dep_file.endswith("package.json"):
        return dep_file
    return nearest(path, "package.json", ctx.head.exists)


def _tsconfig(ctx: AuditContext, path: str) -> str | None:
    return nearest(path, "tsconfig.json", ctx.head.exists) or nearest(path, "jsconfig.json", ctx.head.exists)


def is_test_data(path: str) -> bool:
    """A file under a `data`/`fixtures`/`testdata` folder of a test tree: an input of the tests."""
    tree = _test_tree(path)
    if tree is None:
        return False
    return any(part in TEST_DATA_FOLDERS for part in path[len(tree) + 1 :].split("/")[:-1])


_STARTED = "A9.imports"
"""`ctx.memo` key of the parsing `prepare` started: (the files, their pending imports)."""
_INDEX = "A9.manifest-index"
_AUDITED = "A9.audited"
"""`ctx.memo` key of `_audited`'s answer (asked by `wants`, `prepare` and `run`)."""


def _audited(ctx: AuditContext) -> tuple[list[str], int]:
    """The source files A9 reads, and how many vendored ones (test data included) it left out."""
    found = ctx.memo.get(_AUDITED)
    if isinstance(found, tuple):
        return found
    files = selected_paths(ctx, _is_source)
    if ctx.config.audit_vendored:
        result = (files, 0)
    else:
        kept = [f for f in files if not is_vendored(f) and not is_test_data(f)]
        result = (kept, len(files) - len(kept))
    ctx.memo[_AUDITED] = result
    return result


def wants(ctx: AuditContext) -> Iterable[str]:
    files, _ = _audited(ctx)
    dep_file = _forge_dep(ctx)
    py_files = [f for f in files if f.endswith(PY_EXTENSIONS)]
    js_files = [f for f in files if imports_js.is_js(f)]
    # files whose imports are cached by blob id need not be fetched at all; `prepare` has already
    # looked them up (and read the ones it streams to the pool itself)
    started = ctx.memo.get(_STARTED)
    unread = (
        started[1].unread
        if isinstance(started, tuple)
        else imports_py.uncached(ctx.head, py_files, ctx.cache)
    )
    wanted: set[str] = {"forge.json", *unread, *imports_js.uncached(ctx.head, js_files, ctx.cache)}
    folders = {f.rsplit("/", 1)[0] if "/" in f else "" for f in py_files}
    index = _PythonManifestIndex.of(ctx, dep_file)
    for folder in folders:
        wanted.update(index.for_file(join(folder, "x.py")))
    for folder in {f.rsplit("/", 1)[0] if "/" in f else "" for f in js_files}:
        probe = join(folder, "x.js")
        for found in (_js_manifest(ctx, probe, dep_file), _tsconfig(ctx, probe)):
            if found:
                wanted.add(found)
    return sorted(wanted)


class _Manifests:
    """Parsed manifests, each read once."""

    def __init__(self, ctx: AuditContext) -> None:
        self.ctx = ctx
        self._py: dict[tuple[str, ...], Manifest] = {}
        self._js: dict[str, Manifest] = {}
        self._ts: dict[str, TsAliases] = {}

    def python(self, paths: list[str]) -> Manifest:
        key = tuple(paths)
        if key not in self._py:
            merged = Manifest(paths[0])
            errors: list[str] = []
            for p in paths:
                m = parse_python_manifest(p, self.ctx.head.read)
                merged.merge(m)
                if m.error:
                    errors.append(m.error)
            merged.error = "; ".join(errors) or None
            self._py[key] = merged
        return self._py[key]

    def package_json(self, path: str) -> Manifest:
        if path not in self._js:
            data = self.ctx.head.read(path)
            self._js[path] = (
                Manifest(path, error=f"{path} not found") if data is None else parse_package_json(path, data)
            )
        return self._js[path]

    def errors(self) -> list[str]:
        return sorted({m.error for m in [*self._py.values(), *self._js.values()] if m.error})

    def notes(self) -> list[str]:
        return sorted({note for m in self._py.values() for note in m.notes})

    def tsconfig(self, path: str | None) -> TsAliases:
        if path is None:
            return TsAliases()
        if path not in self._ts:
            data = self.ctx.head.read(path)
            self._ts[path] = TsAliases() if data is None else parse_tsconfig(path, data)
        return self._ts[path]


class _Levels:
    """Whether an undeclared import fails the check or is a notice (the diff-aware rule)."""

    def __init__(self, ctx: AuditContext) -> None:
        self.strict = ctx.full or any(is_manifest(f.path) for f in ctx.change.files)
        self._added = {f.path: f for f in ctx.change.files}
        self._lines: dict[str, set[int]] = {}

    def level(self, path: str, first: int, last: int) -> Level:
        if self.strict:
            return "failure"
        if path not in self._lines:
            changed = self._added.get(path)
            self._lines[path] = {n for n, _ in changed.added_lines} if changed else set()
        added = self._lines[path]
        return "failure" if any(n in added for n in range(first, last + 1)) else "notice"


def _add(out: _Problems, path: str, line: int, message: str, level: Level, suffix: str = "") -> None:
    if level == "failure":
        out.failures += 1
    else:
        out.notices += 1
        suffix = suffix or "already there before this change"
        message = f"{message} ({suffix})"
    out.findings.append(Finding(path, message, level, line, line))


def _ignored(module: str, ignore: list[str]) -> bool:
    return any(module == name or module.startswith(name + ".") for name in ignore)


def _declared_message(path: str, line: int, module: str, manifest: Manifest, test: bool) -> str:
    dist = distributions(module)[0]
    where = ", ".join(manifest.read) if len(manifest.read) > 1 else manifest.path
    for candidate in distributions(module):
        scope = manifest.scope_of(candidate)
        if scope is not None and not test:
            spelled = manifest.spelling.get(normalize(candidate), candidate)
            only = "for tests" if scope == "test" else "for setup.py (build requirements)"
            verb = "declare" if len(manifest.read) > 1 else "declares"
            return f"{path}:{line} imports '{module}' but {where} {verb} '{spelled}' only {only}"
    if len(manifest.read) > 1:
        return f"{path}:{line} imports '{module}' but none of {where} declares '{dist}'"
    return f"{path}:{line} imports '{module}' but {where} does not declare '{dist}'"


def _parseable(ctx: AuditContext, files: list[str]) -> list[str]:
    """The Python files small enough to parse."""
    return [f for f in files if (ctx.head.size(f) or 0) <= MAX_PARSE_BYTES]


def _parseable_noting_the_rest(ctx: AuditContext, files: list[str], out: _Problems) -> list[str]:
    """The files small enough to parse; each larger one is a notice."""
    small = _parseable(ctx, files)
    kept = set(small)
    notice = "too large to parse (over 5 MB); imports not checked"
    out.findings.extend(Finding(f, notice, "notice") for f in files if f not in kept)
    return small


def prepare(ctx: AuditContext) -> None:
    """Start parsing the change's Python files on the audit's pool; `run` collects them."""
    files, _ = _audited(ctx)
    small = _parseable(ctx, [f for f in files if f.endswith(PY_EXTENSIONS)])
    ctx.memo[_STARTED] = (small, imports_py.start_imports(ctx.head, small, ctx.cache, ctx.workers))


def _version(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


def _not_judged(path: str, line: int, requires_python: str | None, running: tuple[int, int]) -> Finding:
    """The notice for a file that `running` cannot parse, in a project that supports only newer Pythons."""
    oldest = _version(stdlib.oldest_supported(requires_python) or running)
    message = (
        f"does not parse (line {line}) on Python {_version(running)}, which ForgeGuard runs on; "
        f"the project supports only Python {oldest} and newer (requires-python {requires_python}), "
        "so the file is not judged and its imports are not checked "
        f"(running ForgeGuard on Python {oldest} or newer judges it)"
    )
    return Finding(path, message, "notice", line, line)


def _check_python(
    ctx: AuditContext,
    files: list[str],
    manifests: _Manifests,
    dep_file: str | None,
    out: _Problems,
    running: tuple[int, int],
) -> int:
    layout = _Layout.of(ctx.head.paths())
    index = _PythonManifestIndex.of(ctx, dep_file)
    levels = _Levels(ctx)
    first_party = set(ctx.config.a9_first_party)
    small = _parseable_noting_the_rest(ctx, files, out)
    started = ctx.memo.pop(_STARTED, None)
    if not (isinstance(started, tuple) and started[0] == small):
        started = (small, imports_py.start_imports(ctx.head, small, ctx.cache, ctx.workers))
    checked = 0
    found: dict[str, tuple[list[imports_py.PyImport], Manifest | None, bool]] = {}

    per_folder: dict[str, tuple[Manifest | None, list[str], frozenset[str]]] = {}
    local: dict[tuple[str, str], bool] = {}

    def questioned_in(path: str, result: imports_py.PyImports) -> None:
        """Count the file's third-party imports and keep the ones no manifest declares."""
        nonlocal checked
        here = path.rpartition("/")[0]
        if here not in per_folder:
            manifest_paths = index.for_file(path)
            manifest = manifests.python(manifest_paths) if manifest_paths else None
            folder = manifest_folder(manifest_paths[0]) if manifest_paths else ""
            roots = [
                "",
                "src",
                folder or "",
                join(folder or "", "src"),
                *(manifest.package_dirs if manifest else []),
            ]
            per_folder[here] = (
                manifest,
                roots,
                stdlib.modules(manifest.requires_python if manifest else None),
            )
        manifest, roots, std = per_folder[here]
        # test/dev requirements declare the imports of test files and of files outside the shipped
        # packages (noxfile.py, scripts/, docs/conf.py); a package's modules need runtime requirements
        test = is_test_file(path) or not layout.is_package(here)
        build = posixpath.basename(path) == "setup.py"
        questioned = []
        for imp in result.imports:
            if imp.relative or not imp.module:
                continue
            top = imp.module.split(".")[0]
            if top in std or top in ALWAYS_LOCAL or top in first_party:
                continue
            if (top, here) not in local:  # the same for every file of the folder
                local[top, here] = layout.is_local(top, path, roots)
            if local[top, here]:
                continue
            if _ignored(imp.module, ctx.config.a9_ignore):
                continue
            if manifest is not None and manifest.own_name and normalize(top) == manifest.own_name:
                continue
            checked += 1
            # `from google.cloud import secretmanager` may bring in a namespace package's distribution
            names = imp.candidates()
            if manifest is None or not any(is_declared(n, manifest, test=test, build=build) for n in names):
                questioned.append(imp)
        if questioned:
            found[path] = (questioned, manifest, test)

    # Only the syntax tree tells an optional import, an allow comment or a statement's lines; it is
    # built for the files that have questioned imports and could need it (in a --full audit: the
    # files that mention TYPE_CHECKING, ImportError or allow-import).
    contexts = imports_py.Contexts(ctx.head, ctx.cache, ctx.workers)
    # each file is looked at as its batch comes back, while later batches are still being parsed
    for path, result in started[1].completed():
        if result.syntax_error_line is None:
            questioned_in(path, result)
            if path in found and (result.markers or not levels.strict):
                contexts.add(path, _context_lines(result, found[path][0]))
    parsed = started[1].result()
    pending: list[tuple[str, imports_py.PyImports, list[imports_py.PyImport], Manifest | None, bool]] = []
    for path in small:
        result = parsed[path]
        if result.syntax_error_line is not None:
            manifest_paths = index.for_file(path)
            manifest = manifests.python(manifest_paths) if manifest_paths else None
            line = result.syntax_error_line
            requires_python = manifest.requires_python if manifest else None
            if stdlib.judges_syntax(requires_python, running):
                out.findings.append(Finding(path, f"syntax error at line {line}", "failure", line, line))
                out.syntax_errors += 1
            else:
                out.findings.append(_not_judged(path, line, requires_python, running))
                out.not_judged.append(path)
                out.judge_on = max(out.judge_on, stdlib.oldest_supported(requires_python) or running)
        elif path in found:
            pending.append((path, result, *found[path]))
    trees = contexts.result()
    for path, result, questioned, manifest, test in pending:
        _judge(path, result, questioned, manifest, test, trees.get(path, {}), levels, out)
    return checked


def _context_lines(result: imports_py.PyImports, questioned: list[imports_py.PyImport]) -> list[int]:
    """The import statements whose contexts `_judge` reads: the questioned ones, and every import
    of the same top-level modules (one optional import of a module makes all of them optional)."""
    tops = {imp.module.split(".")[0] for imp in questioned}
    return sorted({i.line for i in result.imports if i.module and i.module.split(".")[0] in tops})


def _judge(
    path: str,
    result: imports_py.PyImports,
    questioned: list[imports_py.PyImport],
    manifest: Manifest | None,
    test: bool,
    contexts: dict[int, imports_py.ImportContext],
    levels: _Levels,
    out: _Problems,
) -> None:
    """Findings for one file's undeclared imports, at the level the diff-aware rule gives."""
    # a module the file imports optionally somewhere is optional wherever the file imports it
    # (`try: import simplejson … except ImportError` then `if has_simplejson: from simplejson …`)
    optional_tops = {
        i.module.split(".")[0]: c.optional
        for i in result.imports
        if (c := contexts.get(i.line)) is not None and c.optional and i.module
    }
    for imp in questioned:
        context = contexts.get(imp.line)
        if context is not None and context.allowed:
            continue
        first, last = (context.first_line, context.last_line) if context else (imp.line, imp.line)
        level = levels.level(path, first, last)
        suffix = ""
        reason = context.optional if context is not None else None
        reason = reason or optional_tops.get(imp.module.split(".")[0])
        if reason:
            level, suffix = "notice", _OPTIONAL[reason]
        if manifest is None:
            dist = distributions(imp.module)[0]
            if level == "failure":
                out.unmanifested.append(f"{imp.module} ({path}:{imp.line})")
            message = f"{path}:{imp.line} imports '{imp.module}' but no dependency manifest declares '{dist}'"
        else:
            message = _declared_message(path, imp.line, imp.module, manifest, test)
            if level == "failure":
                out.read.update(manifest.read)
        _add(out, path, imp.line, message, level, suffix)


def _js_local(spec: str, pkg: str, path: str, aliases: TsAliases, ctx: AuditContext) -> bool:
    if pkg in _node_builtins() or aliases.is_alias(spec):
        return True
    if aliases.base_url is not None:
        target = join(aliases.base_url, spec)
        if ctx.head.exists(target) or any(ctx.head.exists(target + ext) for ext in imports_js.EXTENSIONS):
            return True
        if any(ctx.head.exists(f"{target}/index{ext}") for ext in imports_js.EXTENSIONS):
            return True
    return False


def _check_js(
    ctx: AuditContext, files: list[str], manifests: _Manifests, dep_file: str | None, out: _Problems
) -> int:
    small = _parseable_noting_the_rest(ctx, files, out)
    analyses = imports_js.analyses_for(ctx.head, small, ctx.cache)
    levels = _Levels(ctx)
    checked = 0
    for path in small:
        aliases = manifests.tsconfig(_tsconfig(ctx, path))
        manifest_path = _js_manifest(ctx, path, dep_file)
        manifest = manifests.package_json(manifest_path) if manifest_path else None
        for imp in analyses[path].imports:
            pkg = imports_js.package_name(imp.specifier)
            if pkg is None or _js_local(imp.specifier, pkg, path, aliases, ctx):
                continue
            if manifest is not None and manifest.own_name == pkg:
                continue
            if _ignored(pkg, ctx.config.a9_ignore) or pkg in ctx.config.a9_first_party:
                continue
            checked += 1
            level = levels.level(path, imp.line, imp.line)
            if manifest is None:
                if level == "failure":
                    out.unmanifested.append(f"{pkg} ({path}:{imp.line})")
                message = f"{path}:{imp.line} imports '{imp.specifier}' but no package.json declares '{pkg}'"
                _add(out, path, imp.line, message, level)
            elif pkg not in manifest.names:
                spec = imp.specifier
                message = f"{path}:{imp.line} imports '{spec}' but {manifest.path} does not declare '{pkg}'"
                if level == "failure":
                    out.read.add(manifest.path)
                _add(out, path, imp.line, message, level)
    return checked


def run(ctx: AuditContext) -> Verdict:
    files, vendored = _audited(ctx)
    vendored_note = (
        f" {vendored} vendored or test-data file(s) not audited"
        " (`audit_vendored: true` in .github/forgeguard.yml audits them)."
        if vendored
        else ""
    )
    if not files:
        return Verdict(
            "skip", "No Python or JavaScript/TypeScript source files in the change." + vendored_note
        )
    dep_file = _forge_dep(ctx)
    manifests = _Manifests(ctx)
    out = _Problems()
    py_files = [f for f in files if f.endswith(PY_EXTENSIONS)]
    js_files = [f for f in files if imports_js.is_js(f)]
    running = RUNNING_PYTHON
    checked = _check_python(ctx, py_files, manifests, dep_file, out, running)
    checked += _check_js(ctx, js_files, manifests, dep_file, out)

    notes: list[str] = []
    broken = manifests.errors()
    if broken:
        notes.append(f"Manifest problems: {'; '.join(broken)}.")
    dynamic = manifests.notes()
    if dynamic:
        notes.append(f"Not read statically: {'; '.join(dynamic)}.")
    if out.notices:
        notes.append(
            f"{out.notices} undeclared import(s) reported as notices "
            "(optional, or already there before this change)."
        )
    if out.not_judged:
        shown = ", ".join(out.not_judged[:SHOW]) + ("." if len(out.not_judged) <= SHOW else " …")
        notes.append(
            f"{len(out.not_judged)} file(s) use syntax newer than Python {_version(running)} "
            "and were not judged, their imports not checked "
            f"(ForgeGuard on Python {_version(out.judge_on)} or newer judges them): {shown}"
        )
    note = (" " + " ".join(notes) if notes else "") + vendored_note

    parts: list[str] = []
    if out.unmanifested:
        shown = ", ".join(out.unmanifested[:SHOW])
        more = f" and {len(out.unmanifested) - SHOW} more" if len(out.unmanifested) > SHOW else ""
        parts.append(f"No dependency manifest, but third-party imports exist: {shown}{more}.")
    undeclared = out.failures - len(out.unmanifested)
    if undeclared:
        first = [
            f.message
            for f in out.findings
            if f.level == "failure" and "no dependency manifest" not in f.message
        ]
        first = [m for m in first if not m.startswith("syntax error") and "no package.json" not in m]
        shown = "; ".join(first[:3])
        more = " …" if undeclared > 3 else "."
        parts.append(f"{undeclared} undeclared import(s): {shown}{more}")
        parts.append(f"Manifests read: {', '.join(sorted(out.read))}.")
    if out.syntax_errors:
        bad = [f"{f.path}:{f.start_line}" for f in out.findings if f.message.startswith("syntax error")]
        parts.append(
            f"{out.syntax_errors} file(s) do not parse, their imports cannot be vouched for: "
            + ", ".join(bad[:SHOW])
            + "."
        )
    if parts:
        return Verdict("fail", " ".join(parts) + note, out.findings)
    judged = len(files) - len(out.not_judged)
    if judged == 0:
        return Verdict("pass", f"No source file could be judged.{note}", out.findings)
    if checked == 0:
        return Verdict("pass", f"No third-party imports in {judged} source file(s).{note}", out.findings)
    if out.notices:
        declared = f"{checked - out.notices} of {checked} third-party import(s)"
        return Verdict("pass", f"{declared} in {judged} source file(s) are declared.{note}", out.findings)
    return Verdict(
        "pass",
        f"All {checked} third-party import(s) in {judged} source file(s) are declared.{note}",
        out.findings,
    )
