"""A9 Dependency gate: every third-party import is declared in a dependency manifest.

Python imports come from the compiled file (any depth, relative imports are
local); JS/TS imports from tree-sitter. Standard library, first-party modules
and local aliases are not third-party. An import is declared when its
distribution (from the mapping in `checks/data/`, or the distributions
installed here that provide it) is named in the manifest that governs the
file.
"""

from __future__ import annotations

import functools
import importlib.metadata
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources

from checks import imports_js, imports_py
from checks.context import AuditContext, Verdict
from checks.files import selected_paths
from checks.manifests import (
    PY_MANIFEST_NAMES,
    Manifest,
    TsAliases,
    ancestors,
    is_requirements_file,
    join,
    nearest,
    normalize,
    parse_package_json,
    parse_python_manifest,
    parse_tsconfig,
    python_manifest_paths,
    read_forge_json,
)
from checks.model import Finding

CODE = "A9"
NAME = "Dependency gate"

PY_EXTENSIONS = (".py", ".pyi")
MAX_PARSE_BYTES = 5 * 1024 * 1024
"""Larger source files are generated data, not code a person wrote: noted, not parsed."""
ALWAYS_LOCAL = frozenset({"tests", "test", "testing", "conftest", "__main__", "_typeshed"})
"""tests-style local folders, the running program, and the type checkers' stub-only module."""
SHOW = 5


def _is_source(path: str) -> bool:
    return path.endswith(PY_EXTENSIONS) or imports_js.is_js(path)


@functools.cache
def _mapping() -> tuple[dict[str, str], dict[str, str]]:
    """(overrides by dotted import name, pipreqs' mapping by top-level name)."""
    data = resources.files("checks") / "data"

    def load(name: str) -> dict[str, str]:
        table: dict[str, str] = {}
        for line in (data / name).read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#") and ":" in line:
                key, _, value = line.partition(":")
                table.setdefault(key.strip(), value.strip())
        return table

    return load("import_overrides.txt"), load("pipreqs_mapping.txt")


@functools.cache
def _node_builtins() -> frozenset[str]:
    text = (resources.files("checks") / "data" / "node_builtins.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().split("/")[0] for line in text.splitlines() if line.strip())


@functools.cache
def provided_by(distribution: str) -> frozenset[str]:
    """Top-level import names an installed distribution provides (empty when it is not installed)."""
    try:
        dist = importlib.metadata.distribution(distribution)
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return frozenset()
    top_level = dist.read_text("top_level.txt")
    if top_level:
        return frozenset(line.strip() for line in top_level.splitlines() if line.strip())
    names: set[str] = set()
    for file in dist.files or []:
        parts = file.parts
        if not parts or parts[0].endswith((".dist-info", ".egg-info", ".data")) or parts[0] == "..":
            continue
        if len(parts) > 1:
            names.add(parts[0])
        elif parts[0].endswith((".py", ".so", ".pyd")):
            names.add(parts[0].split(".")[0])
    return frozenset(names)


def distributions(module: str) -> list[str]:
    """Candidate distributions for an imported module, the most likely first."""
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
            out.append(overrides[wild].replace("*", parts[n - 1]))
            break
    top = parts[0]
    if top in pipreqs:
        out.append(pipreqs[top])
    out.append(top)
    return list(dict.fromkeys(out))


def is_declared(module: str, manifest: Manifest) -> bool:
    if any(manifest.declares(d) for d in distributions(module)):
        return True
    top = module.split(".")[0]
    return any(top in provided_by(name) for name in sorted(manifest.names))


@dataclass
class _Layout:
    """Where Python modules live at head, to tell first-party imports apart."""

    modules: set[str]
    dirs: set[str]
    _memo: dict[tuple[str, str], bool] = field(default_factory=dict)

    @staticmethod
    def of(paths: Iterable[str]) -> _Layout:
        modules: set[str] = set()
        dirs: set[str] = set()
        for p in paths:
            if not p.endswith(PY_EXTENSIONS) and not p.endswith((".so", ".pyd")):
                continue
            modules.add(p.rsplit(".", 1)[0])
            folder = p.rsplit("/", 1)[0] if "/" in p else ""
            while folder and folder not in dirs:
                dirs.add(folder)
                folder = folder.rsplit("/", 1)[0] if "/" in folder else ""
        return _Layout(modules, dirs)

    def is_local(self, top: str, importer: str) -> bool:
        key = (top, importer.rpartition("/")[0])
        if key not in self._memo:
            self._memo[key] = self._find(top, importer)
        return self._memo[key]

    def _find(self, top: str, importer: str) -> bool:
        roots: list[str] = []
        for folder in ancestors(importer):
            roots.append(folder)
            roots.append(join(folder, "src"))
        for root in roots:
            name = join(root, top)
            if name in self.dirs or name in self.modules or join(name, "__init__") in self.modules:
                return True
        return False


@dataclass
class _Problems:
    findings: list[Finding] = field(default_factory=list)
    undeclared: int = 0
    syntax_errors: int = 0
    unmanifested: list[str] = field(default_factory=list)


def _forge_dep(ctx: AuditContext) -> str | None:
    return read_forge_json(ctx.head).dependency_file


class _PythonManifestIndex:
    """The Python manifests of each folder at head, found in one pass over the paths."""

    def __init__(self, ctx: AuditContext, dep_file: str | None) -> None:
        self.dep_file = dep_file if dep_file and not dep_file.endswith("package.json") else None
        self.by_folder: dict[str, list[str]] = {}
        for p in ctx.head.paths():
            folder, _, name = p.rpartition("/")
            if name in PY_MANIFEST_NAMES or is_requirements_file(name):
                self.by_folder.setdefault(folder, []).append(p)
        for folder, found in self.by_folder.items():
            self.by_folder[folder] = [p for p in python_manifest_paths(folder, found) if p in found]
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


def wants(ctx: AuditContext) -> Iterable[str]:
    files = selected_paths(ctx, _is_source)
    dep_file = _forge_dep(ctx)
    py_files = [f for f in files if f.endswith(PY_EXTENSIONS)]
    js_files = [f for f in files if imports_js.is_js(f)]
    # files whose imports are cached by blob id need not be fetched at all
    wanted: set[str] = {
        "forge.json",
        *imports_py.uncached(ctx.head, py_files, ctx.cache),
        *imports_js.uncached(ctx.head, js_files, ctx.cache),
    }
    folders = {f.rsplit("/", 1)[0] if "/" in f else "" for f in py_files}
    index = _PythonManifestIndex(ctx, dep_file)
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
                merged.names |= m.names
                merged.own_name = merged.own_name or m.own_name
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

    def tsconfig(self, path: str | None) -> TsAliases:
        if path is None:
            return TsAliases()
        if path not in self._ts:
            data = self.ctx.head.read(path)
            self._ts[path] = TsAliases() if data is None else parse_tsconfig(path, data)
        return self._ts[path]


def _check_python(
    ctx: AuditContext, files: list[str], manifests: _Manifests, dep_file: str | None, out: _Problems
) -> int:
    layout = _Layout.of(ctx.head.paths())
    index = _PythonManifestIndex(ctx, dep_file)
    stdlib = sys.stdlib_module_names
    small = [f for f in files if (ctx.head.size(f) or 0) <= MAX_PARSE_BYTES]
    for f in files:
        if f not in small:
            out.findings.append(Finding(f, "too large to parse (over 5 MB); imports not checked", "notice"))
    parsed = imports_py.imports_for(ctx.head, small, ctx.cache)
    checked = 0
    for path in small:
        result = parsed[path]
        if result.syntax_error_line is not None:
            line = result.syntax_error_line
            out.findings.append(Finding(path, f"syntax error at line {line}", "failure", line, line))
            out.syntax_errors += 1
            continue
        manifest_paths: list[str] | None = None
        for imp in result.imports:
            if imp.relative or not imp.module:
                continue
            top = imp.module.split(".")[0]
            if top in stdlib or top in ALWAYS_LOCAL or layout.is_local(top, path):
                continue
            if manifest_paths is None:
                manifest_paths = index.for_file(path)
            if manifest_paths:
                manifest = manifests.python(manifest_paths)
                if manifest.own_name and normalize(top) == manifest.own_name:
                    continue
            checked += 1
            dist = distributions(imp.module)[0]
            if not manifest_paths:
                out.unmanifested.append(f"{imp.module} ({path}:{imp.line})")
                message = (
                    f"{path}:{imp.line} imports '{imp.module}' but no dependency manifest declares '{dist}'"
                )
                out.findings.append(Finding(path, message, "failure", imp.line, imp.line))
                continue
            if not is_declared(imp.module, manifest):
                out.undeclared += 1
                message = (
                    f"{path}:{imp.line} imports '{imp.module}' but {manifest.path} does not declare '{dist}'"
                )
                out.findings.append(Finding(path, message, "failure", imp.line, imp.line))
    return checked


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
    small = [f for f in files if (ctx.head.size(f) or 0) <= MAX_PARSE_BYTES]
    for f in files:
        if f not in small:
            out.findings.append(Finding(f, "too large to parse (over 5 MB); imports not checked", "notice"))
    analyses = imports_js.analyses_for(ctx.head, small, ctx.cache)
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
            checked += 1
            if manifest is None:
                out.unmanifested.append(f"{pkg} ({path}:{imp.line})")
                message = f"{path}:{imp.line} imports '{imp.specifier}' but no package.json declares '{pkg}'"
                out.findings.append(Finding(path, message, "failure", imp.line, imp.line))
            elif pkg not in manifest.names:
                out.undeclared += 1
                spec = imp.specifier
                message = f"{path}:{imp.line} imports '{spec}' but {manifest.path} does not declare '{pkg}'"
                out.findings.append(Finding(path, message, "failure", imp.line, imp.line))
    return checked


def run(ctx: AuditContext) -> Verdict:
    files = selected_paths(ctx, _is_source)
    if not files:
        return Verdict("skip", "No Python or JavaScript/TypeScript source files in the change.")
    dep_file = _forge_dep(ctx)
    manifests = _Manifests(ctx)
    out = _Problems()
    py_files = [f for f in files if f.endswith(PY_EXTENSIONS)]
    js_files = [f for f in files if imports_js.is_js(f)]
    checked = _check_python(ctx, py_files, manifests, dep_file, out)
    checked += _check_js(ctx, js_files, manifests, dep_file, out)

    broken = manifests.errors()
    parts: list[str] = []
    if out.unmanifested:
        shown = ", ".join(out.unmanifested[:SHOW])
        more = f" and {len(out.unmanifested) - SHOW} more" if len(out.unmanifested) > SHOW else ""
        parts.append(f"No dependency manifest, but third-party imports exist: {shown}{more}.")
    if out.undeclared:
        first = [f.message for f in out.findings if f.level == "failure" and "does not declare" in f.message]
        shown = "; ".join(first[:3])
        more = " …" if out.undeclared > 3 else "."
        parts.append(f"{out.undeclared} undeclared import(s): {shown}{more}")
    if out.syntax_errors:
        bad = [f"{f.path}:{f.start_line}" for f in out.findings if f.message.startswith("syntax error")]
        parts.append(
            f"{out.syntax_errors} file(s) do not parse, their imports cannot be vouched for: "
            + ", ".join(bad[:SHOW])
            + "."
        )
    note = f" Manifest problems: {'; '.join(broken)}." if broken else ""
    if parts:
        return Verdict("fail", " ".join(parts) + note, out.findings)
    return Verdict(
        "pass",
        f"All {checked} third-party import(s) in {len(files)} source file(s) are declared.{note}",
        out.findings,
    )
