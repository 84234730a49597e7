"""Dependency manifests and the facts A9 and W3 need about a repository's layout.

Python: `pyproject.toml` (PEP 621 dependencies and optional dependencies,
PEP 735 dependency groups, build requirements, Poetry's tables, uv's and
PDM's development dependencies), `requirements*.txt` with `-r`
includes, `setup.cfg`. JavaScript: `package.json` and `tsconfig.json` path
aliases. Names are parsed, never searched for in raw text, and compared
normalized (PEP 503). `forge.json` may name the dependency file and the router
folders.
"""

from __future__ import annotations

import configparser
import json
import posixpath
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from checks.context import decode
from checks.source import Snapshot

Reader = Callable[[str], bytes | None]

PY_MANIFEST_NAMES = ("pyproject.toml", "setup.cfg")
_REQ_FILE = re.compile(r"(^|/)requirements[^/]*\.txt$")
_NAME_START = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_EGG = re.compile(r"#egg=([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalize(name: str) -> str:
    """PEP 503 normalized distribution name."""
    return str(canonicalize_name(name))


@dataclass
class Manifest:
    """One dependency manifest and the normalized names it declares."""

    path: str
    names: set[str] = field(default_factory=set)
    own_name: str | None = None
    """The project's own distribution (or npm package) name, normalized."""
    error: str | None = None

    def declares(self, distribution: str) -> bool:
        return normalize(distribution) in self.names


def _requirement_name(text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    try:
        return Requirement(text).name
    except InvalidRequirement:
        egg = _EGG.search(text)
        if egg:
            return egg.group(1)
        if "://" in text or text.startswith((".", "/")):
            return None
        m = _NAME_START.match(text)
        return m.group(1) if m else None


def _strip_comment(line: str) -> str:
    # pip: a comment starts at "#" at line start or after whitespace (a URL's "#egg=" is not one)
    m = re.search(r"(^|\s)#", line)
    return line[: m.start()] if m else line


def parse_requirements(path: str, read: Reader, _seen: set[str] | None = None) -> Manifest:
    """A requirements file and, recursively, its `-r`/`--requirement` includes."""
    seen = _seen if _seen is not None else set()
    seen.add(path)
    manifest = Manifest(path)
    data = read(path)
    if data is None:
        manifest.error = f"{path} not found"
        return manifest
    lines = decode(data).splitlines()
    joined: list[str] = []
    buf = ""
    for raw in lines:
        line = _strip_comment(raw).rstrip()
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        joined.append(buf + line)
        buf = ""
    if buf:
        joined.append(buf)
    for line in joined:
        line = line.strip()
        if not line:
            continue
        include = re.match(r"^(?:-r|--requirement)(?:\s+|=)?(\S+)", line)
        if include:
            target = posixpath.normpath(posixpath.join(posixpath.dirname(path), include.group(1)))
            if target not in seen:
                manifest.names |= parse_requirements(target, read, seen).names
            continue
        if line.startswith("-e") or line.startswith("--editable"):
            egg = _EGG.search(line)
            if egg:
                manifest.names.add(normalize(egg.group(1)))
            continue
        if line.startswith("-"):
            continue  # -c constraints, --index-url and other options declare nothing
        name = _requirement_name(line)
        if name:
            manifest.names.add(normalize(name))
    return manifest


def _add_requirement_strings(manifest: Manifest, items: object) -> None:
    if isinstance(items, list):
        for item in items:
            if isinstance(item, str):
                name = _requirement_name(item)
                if name:
                    manifest.names.add(normalize(name))


def parse_pyproject(path: str, data: bytes) -> Manifest:
    manifest = Manifest(path)
    try:
        doc = tomllib.loads(decode(data))
    except tomllib.TOMLDecodeError as exc:
        manifest.error = f"{path} does not parse: {exc}"
        return manifest
    project = doc.get("project")
    if isinstance(project, dict):
        name = project.get("name")
        if isinstance(name, str):
            manifest.own_name = normalize(name)
        _add_requirement_strings(manifest, project.get("dependencies"))
        optional = project.get("optional-dependencies")
        if isinstance(optional, dict):
            for items in optional.values():
                _add_requirement_strings(manifest, items)
    groups = doc.get("dependency-groups")
    if isinstance(groups, dict):
        for items in groups.values():
            _add_requirement_strings(manifest, items)  # {include-group = …} entries are not strings
    build = doc.get("build-system")
    if isinstance(build, dict):
        # setup.py and build hooks import what the build needs
        _add_requirement_strings(manifest, build.get("requires"))
    tool = doc.get("tool")
    uv = tool.get("uv") if isinstance(tool, dict) else None
    if isinstance(uv, dict):
        _add_requirement_strings(manifest, uv.get("dev-dependencies"))
    pdm = tool.get("pdm") if isinstance(tool, dict) else None
    pdm_dev = pdm.get("dev-dependencies") if isinstance(pdm, dict) else None
    if isinstance(pdm_dev, dict):
        for items in pdm_dev.values():
            _add_requirement_strings(manifest, items)
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if isinstance(poetry, dict):
        name = poetry.get("name")
        if isinstance(name, str) and manifest.own_name is None:
            manifest.own_name = normalize(name)
        tables: list[object] = [poetry.get("dependencies"), poetry.get("dev-dependencies")]
        group = poetry.get("group")
        if isinstance(group, dict):
            tables.extend(g.get("dependencies") for g in group.values() if isinstance(g, dict))
        for table in tables:
            if isinstance(table, dict):
                manifest.names |= {normalize(k) for k in table if isinstance(k, str) and k != "python"}
    return manifest


def parse_setup_cfg(path: str, data: bytes) -> Manifest:
    manifest = Manifest(path)
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(decode(data))
    except configparser.Error as exc:
        manifest.error = f"{path} does not parse: {exc.message}"
        return manifest
    name = parser.get("metadata", "name", fallback=None)
    if name:
        manifest.own_name = normalize(name.strip())
    values = [parser.get("options", "install_requires", fallback="")]
    if parser.has_section("options.extras_require"):
        values.extend(v for _, v in parser.items("options.extras_require"))
    for value in values:
        for line in value.splitlines():
            req = _requirement_name(_strip_comment(line))
            if req:
                manifest.names.add(normalize(req))
    return manifest


def parse_python_manifest(path: str, read: Reader) -> Manifest:
    """Any supported Python manifest, by its file name."""
    base = posixpath.basename(path)
    if base.endswith(".txt") or base.endswith(".in"):
        return parse_requirements(path, read)
    data = read(path)
    if data is None:
        return Manifest(path, error=f"{path} not found")
    if base == "setup.cfg":
        return parse_setup_cfg(path, data)
    return parse_pyproject(path, data)


def parse_package_json(path: str, data: bytes) -> Manifest:
    manifest = Manifest(path)
    try:
        doc = json.loads(decode(data))
    except ValueError as exc:
        manifest.error = f"{path} does not parse: {exc}"
        return manifest
    if not isinstance(doc, dict):
        manifest.error = f"{path} is not a JSON object"
        return manifest
    name = doc.get("name")
    if isinstance(name, str):
        manifest.own_name = name
    for key in ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies"):
        table = doc.get(key)
        if isinstance(table, dict):
            manifest.names |= {k for k in table if isinstance(k, str)}
    return manifest


def strip_jsonc(text: str) -> str:
    """JSON with comments and trailing commas (tsconfig.json) as plain JSON."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j == -1 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j == -1 else j + 2
        else:
            out.append(c)
            i += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))


@dataclass(frozen=True)
class TsAliases:
    """Specifiers that a tsconfig.json resolves inside the project."""

    prefixes: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()
    base_url: str | None = None
    """The folder bare specifiers are also resolved against (repository-relative)."""

    def is_alias(self, specifier: str) -> bool:
        return specifier in self.exact or any(specifier.startswith(p) for p in self.prefixes)


def parse_tsconfig(path: str, data: bytes) -> TsAliases:
    try:
        doc = json.loads(strip_jsonc(decode(data)))
    except ValueError:
        return TsAliases()
    options = doc.get("compilerOptions") if isinstance(doc, dict) else None
    if not isinstance(options, dict):
        return TsAliases()
    prefixes: list[str] = []
    exact: list[str] = []
    paths = options.get("paths")
    if isinstance(paths, dict):
        for key in paths:
            if not isinstance(key, str):
                continue
            if "*" in key:
                prefixes.append(key.split("*", 1)[0])
            else:
                exact.append(key)
    base_url = options.get("baseUrl")
    base = None
    if isinstance(base_url, str):
        base = posixpath.normpath(posixpath.join(posixpath.dirname(path), base_url))
        base = "" if base == "." else base
    return TsAliases(tuple(p for p in prefixes if p), tuple(exact), base)


def ancestors(path: str) -> list[str]:
    """The folders enclosing `path`, nearest first, ending with the root "" ."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[:i]) for i in range(len(parts), -1, -1)]


def join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def is_requirements_file(name: str) -> bool:
    return bool(_REQ_FILE.search(name))


def python_manifest_paths(folder: str, all_paths: Iterable[str]) -> list[str]:
    """The Python manifests directly in `folder` (requirements*.txt included), in a fixed order."""
    found: list[str] = [join(folder, n) for n in PY_MANIFEST_NAMES]
    prefix = f"{folder}/" if folder else ""
    reqs = sorted(
        p for p in all_paths if p.startswith(prefix) and "/" not in p[len(prefix) :] and _REQ_FILE.search(p)
    )
    return found + reqs


@dataclass
class ForgeConfig:
    """The parts of forge.json ForgeGuard reads."""

    dependency_file: str | None = None
    router_dirs: tuple[str, ...] = ()
    error: str | None = None


def read_forge_json(snapshot: Snapshot) -> ForgeConfig:
    data = snapshot.read("forge.json")
    if data is None:
        return ForgeConfig()
    try:
        doc = json.loads(decode(data))
    except ValueError as exc:
        return ForgeConfig(error=f"forge.json does not parse: {exc}")
    backend = doc.get("backend") if isinstance(doc, dict) else None
    if not isinstance(backend, dict):
        return ForgeConfig()
    dep = backend.get("dependency_file")
    dirs = backend.get("router_dirs")
    if isinstance(dirs, str):
        dirs = [dirs]
    return ForgeConfig(
        dependency_file=dep.strip("/").removeprefix("./") if isinstance(dep, str) and dep.strip() else None,
        router_dirs=tuple(
            d.strip("/").removeprefix("./") for d in dirs if isinstance(d, str) and d.strip("/")
        )
        if isinstance(dirs, list)
        else (),
    )


def nearest(path: str, name: str, exists: Callable[[str], bool]) -> str | None:
    """The `name` file in the nearest folder enclosing `path`."""
    for folder in ancestors(path):
        candidate = join(folder, name)
        if exists(candidate):
            return candidate
    return None
