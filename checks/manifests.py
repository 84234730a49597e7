"""Dependency manifests and the facts A9 and W3 need about a repository's layout.

Python: `pyproject.toml` (PEP 621 dependencies and optional dependencies,
PEP 735 dependency groups, build requirements, Poetry's tables, uv's and
PDM's development dependencies), requirements files (`requirements*.txt`,
`*-requirements.txt`, `requirements/*.txt`) with `-r` includes, `setup.cfg`,
and `setup.py` read statically (`checks.setup_py`). Each name has a scope:
everywhere, test files only (test/dev extras, groups and requirements
files), or `setup.py` only (build requirements). JavaScript: `package.json`
and `tsconfig.json` path aliases. Names are parsed, never searched for in raw
text, and compared normalized (PEP 503). `forge.json` may name the
dependency file and the router folders.
"""

from __future__ import annotations

import configparser
import json
import posixpath
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from checks import setup_py
from checks.context import decode
from checks.source import Snapshot

Reader = Callable[[str], bytes | None]

PY_MANIFEST_NAMES = ("pyproject.toml", "setup.cfg", "setup.py")
_REQ_FILE = re.compile(r"(?:^|/)(?:requirements[^/]*|[^/]*[-_]requirements)\.(?:txt|in)$")
_REQ_FOLDER_FILE = re.compile(r"(?:^|/)requirements/[^/]+\.(?:txt|in)$")
TEST_GROUPS = frozenset({"test", "tests", "testing", "dev", "development"})
"""Extras and dependency groups whose requirements declare only the imports of test files."""
_TEST_FILE_NAME = re.compile(r"test|dev", re.IGNORECASE)
_NAME_START = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_EGG = re.compile(r"#egg=([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalize(name: str) -> str:
    """PEP 503 normalized distribution name."""
    return str(canonicalize_name(name))


def squash(name: str) -> str:
    """A normalized name without separators (`google-cloud-secretmanager` = `google-cloud-secret-manager`)."""
    return normalize(name).replace("-", "")


@dataclass
class Manifest:
    """One dependency manifest (or several merged) and the normalized names it declares."""

    path: str
    names: set[str] = field(default_factory=set)
    """Declared for every file."""
    own_name: str | None = None
    """The project's own distribution (or npm package) name, normalized."""
    error: str | None = None
    test_names: set[str] = field(default_factory=set)
    """Declared for test files only (test/dev extras and groups, test requirements files)."""
    build_names: set[str] = field(default_factory=set)
    """Declared for `setup.py` only (build-system requires, setup_requires)."""
    notes: list[str] = field(default_factory=list)
    """What could not be read statically (a setup.py value that is not a literal)."""
    requires_python: str | None = None
    package_dirs: list[str] = field(default_factory=list)
    """Folders (repository-relative) the packaging configuration puts packages in."""
    spelling: dict[str, str] = field(default_factory=dict)
    """normalized name -> the name as the manifest writes it."""
    read: list[str] = field(default_factory=list)
    """The files merged into this one (their paths)."""

    def add(self, name: str, scope: str = "") -> None:
        """Declare `name` for every file (""), for tests ("test") or for setup.py ("build")."""
        key = normalize(name)
        self.spelling.setdefault(key, name)
        {"test": self.test_names, "build": self.build_names}.get(scope, self.names).add(key)

    def declares(self, distribution: str, *, test: bool = False, build: bool = False) -> bool:
        scopes = [self.names]
        if test:
            scopes.append(self.test_names)
        if build:
            scopes.append(self.build_names)
        key, flat = normalize(distribution), squash(distribution)
        return any(key in names or flat in {n.replace("-", "") for n in names} for names in scopes)

    def scope_of(self, distribution: str) -> str | None:
        """ "test" or "build" when the distribution is declared only there, else None."""
        for scope, names in (("test", self.test_names), ("build", self.build_names)):
            if normalize(distribution) in names:
                return scope
        return None

    def merge(self, other: Manifest) -> None:
        self.names |= other.names
        self.test_names |= other.test_names
        self.build_names |= other.build_names
        self.own_name = self.own_name or other.own_name
        self.requires_python = self.requires_python or other.requires_python
        self.notes.extend(other.notes)
        self.package_dirs.extend(d for d in other.package_dirs if d not in self.package_dirs)
        for key, value in other.spelling.items():
            self.spelling.setdefault(key, value)
        self.read.append(other.path)


def requirement_name(text: str) -> str | None:
    """The distribution a requirement line names (a URL or a path without `#egg=` names none)."""
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


def is_test_requirements(path: str) -> bool:
    """A requirements file for tests or development (its name says `test` or `dev`)."""
    name = posixpath.basename(path)
    if _REQ_FOLDER_FILE.search(path):
        return bool(_TEST_FILE_NAME.search(name))
    return bool(_TEST_FILE_NAME.search(name.replace("requirements", "")))


def parse_requirements(path: str, read: Reader, _seen: set[str] | None = None) -> Manifest:
    """A requirements file and, recursively, its `-r`/`--requirement` includes.

    A test or development requirements file declares its names (its includes' too) for tests only.
    """
    seen = _seen if _seen is not None else set()
    seen.add(path)
    manifest = Manifest(path)
    scope = "test" if _seen is None and is_test_requirements(path) else ""
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
                included = parse_requirements(target, read, seen)
                for key in included.names:
                    manifest.add(included.spelling.get(key, key), scope)
            continue
        if line.startswith("-e") or line.startswith("--editable"):
            egg = _EGG.search(line)
            if egg:
                manifest.add(egg.group(1), scope)
            continue
        if line.startswith("-"):
            continue  # -c constraints, --index-url and other options declare nothing
        name = requirement_name(line)
        if name:
            manifest.add(name, scope)
    return manifest


def add_requirement_strings(manifest: Manifest, items: object, scope: str = "") -> None:
    """Declare the names of a list of requirement strings (anything else declares nothing)."""
    if isinstance(items, (list, tuple)):
        for item in items:
            if isinstance(item, str):
                name = requirement_name(item)
                if name:
                    manifest.add(name, scope)


def group_scope(group: object) -> str:
    """The scope of an extra or dependency group: "test" for test/dev ones, else everywhere."""
    return "test" if isinstance(group, str) and normalize(group) in TEST_GROUPS else ""


def parse_pyproject(path: str, data: bytes) -> Manifest:
    manifest = Manifest(path)
    try:
        doc = tomllib.loads(decode(data))
    except tomllib.TOMLDecodeError as exc:
        manifest.error = f"{path} does not parse: {exc}"
        return manifest
    folder = posixpath.dirname(path)
    project = doc.get("project")
    if isinstance(project, dict):
        name = project.get("name")
        if isinstance(name, str):
            manifest.own_name = normalize(name)
        requires = project.get("requires-python")
        if isinstance(requires, str):
            manifest.requires_python = requires
        add_requirement_strings(manifest, project.get("dependencies"))
        optional = project.get("optional-dependencies")
        if isinstance(optional, dict):
            for extra, items in optional.items():
                add_requirement_strings(manifest, items, group_scope(extra))
    groups = doc.get("dependency-groups")
    if isinstance(groups, dict):
        for group, items in groups.items():
            # {include-group = …} entries are not strings
            add_requirement_strings(manifest, items, group_scope(group))
    build = doc.get("build-system")
    if isinstance(build, dict):
        add_requirement_strings(manifest, build.get("requires"), "build")
    tool = doc.get("tool")
    tool = tool if isinstance(tool, dict) else {}
    uv = tool.get("uv")
    if isinstance(uv, dict):
        add_requirement_strings(manifest, uv.get("dev-dependencies"), "test")
    pdm = tool.get("pdm")
    pdm_dev = pdm.get("dev-dependencies") if isinstance(pdm, dict) else None
    if isinstance(pdm_dev, dict):
        for items in pdm_dev.values():
            add_requirement_strings(manifest, items, "test")
    poetry = tool.get("poetry")
    if isinstance(poetry, dict):
        _poetry(manifest, poetry, folder)
    manifest.package_dirs.extend(_pyproject_package_dirs(tool, folder))
    return manifest


def _poetry(manifest: Manifest, poetry: dict[str, Any], folder: str) -> None:
    name = poetry.get("name")
    if isinstance(name, str) and manifest.own_name is None:
        manifest.own_name = normalize(name)
    tables: list[tuple[object, str]] = [
        (poetry.get("dependencies"), ""),
        (poetry.get("dev-dependencies"), "test"),
    ]
    group = poetry.get("group")
    if isinstance(group, dict):
        tables.extend(
            (g.get("dependencies"), group_scope(k)) for k, g in group.items() if isinstance(g, dict)
        )
    for table, scope in tables:
        if isinstance(table, dict):
            for key in table:
                if isinstance(key, str) and key != "python":
                    manifest.add(key, scope)
    dependencies = poetry.get("dependencies")
    python = dependencies.get("python") if isinstance(dependencies, dict) else None
    if manifest.requires_python is None and isinstance(python, str):
        manifest.requires_python = poetry_python(python)
    packages = poetry.get("packages")
    if isinstance(packages, list):
        for item in packages:
            if isinstance(item, dict) and isinstance(item.get("from"), str):
                manifest.package_dirs.append(_under(folder, item["from"]))


_POETRY_VERSION = re.compile(r"(\d+)(?:\.(\d+))?(?:\.\d+)?")


def poetry_python(constraint: str) -> str | None:
    """Poetry's `python = "^3.12"` as a PEP 440 specifier (">=3.12,<4"); None for what has no
    single range (`||`) or is not understood. `^X.Y` allows up to the next X, `~X.Y` up to the
    next Y (`~X` up to the next X), a bare `X.Y` that version; comparisons pass as they are,
    spaces or commas between."""
    if "||" in constraint:
        return None
    parts: list[str] = []
    for item in re.split(r"[\s,]+", constraint.strip()):
        if not item or item == "*":
            continue
        if item[0] in "^~" and not item.startswith("~="):
            version = _POETRY_VERSION.fullmatch(item[1:])
            if version is None:
                return None
            major, minor = int(version.group(1)), int(version.group(2) or 0)
            next_minor = item[0] == "~" and version.group(2) is not None
            upper = f"{major}.{minor + 1}" if next_minor else f"{major + 1}"
            parts += [f">={major}.{minor}", f"<{upper}"]
        elif item[0].isdigit():
            parts.append(f"=={item}" if "*" in item else f"=={item}.*")
        else:
            parts.append(item)
    return ",".join(parts) or None


def _under(folder: str, rel: str) -> str:
    joined = posixpath.normpath(posixpath.join(folder, rel.strip()))
    return "" if joined == "." else joined


def _pyproject_package_dirs(tool: dict[str, Any], folder: str) -> list[str]:
    """Folders named by setuptools', hatch's and PDM's packaging tables."""
    found: list[str] = []
    setuptools = tool.get("setuptools")
    if isinstance(setuptools, dict):
        package_dir = setuptools.get("package-dir")
        if isinstance(package_dir, dict):
            found.extend(_under(folder, v) for v in package_dir.values() if isinstance(v, str))
        packages = setuptools.get("packages")
        find = packages.get("find") if isinstance(packages, dict) else None
        where = find.get("where") if isinstance(find, dict) else None
        if isinstance(where, list):
            found.extend(_under(folder, w) for w in where if isinstance(w, str))
    hatch = tool.get("hatch")
    wheel = hatch.get("build", {}).get("targets", {}).get("wheel", {}) if isinstance(hatch, dict) else {}
    if isinstance(wheel, dict) and isinstance(wheel.get("packages"), list):
        found.extend(
            _under(folder, posixpath.dirname(p.rstrip("/"))) for p in wheel["packages"] if isinstance(p, str)
        )
    pdm = tool.get("pdm")
    pdm_build = pdm.get("build") if isinstance(pdm, dict) else None
    if isinstance(pdm_build, dict) and isinstance(pdm_build.get("package-dir"), str):
        found.append(_under(folder, pdm_build["package-dir"]))
    return found


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
    requires = parser.get("options", "python_requires", fallback=None)
    if requires:
        manifest.requires_python = requires.strip()
    values = [(parser.get("options", "install_requires", fallback=""), "")]
    values.append((parser.get("options", "tests_require", fallback=""), "test"))
    values.append((parser.get("options", "setup_requires", fallback=""), "build"))
    if parser.has_section("options.extras_require"):
        values.extend((v, group_scope(k)) for k, v in parser.items("options.extras_require"))
    for value, scope in values:
        for line in value.splitlines():
            req = requirement_name(_strip_comment(line))
            if req:
                manifest.add(req, scope)
    folder = posixpath.dirname(path)
    package_dir = parser.get("options", "package_dir", fallback="")
    for line in package_dir.splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.strip() and value.strip():
            manifest.package_dirs.append(_under(folder, value.strip()))
    where = parser.get("options.packages.find", "where", fallback="")
    if where.strip():
        manifest.package_dirs.append(_under(folder, where.strip()))
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
    if base == "setup.py":
        return _from_setup_py(path, data)
    return parse_pyproject(path, data)


def _from_setup_py(path: str, data: bytes) -> Manifest:
    manifest = Manifest(path)
    found = setup_py.read_setup_py(data)
    if found.error:
        manifest.error = f"{path} does not parse: {found.error}"
        return manifest
    manifest.own_name = normalize(found.name) if found.name else None
    manifest.requires_python = found.python_requires
    manifest.add("setuptools", "build")  # what runs a setup.py (PEP 518's default build requirement)
    for scope, requirements in found.requirements.items():
        for extra, items in requirements:
            add_requirement_strings(manifest, items, group_scope(extra) if scope == "extra" else scope)
    folder = posixpath.dirname(path)
    manifest.package_dirs.extend(_under(folder, d) for d in found.package_dirs)
    manifest.notes.extend(f"{path}: {note}" for note in found.dynamic)
    return manifest


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


def is_requirements_file(path: str) -> bool:
    """`requirements*.txt`, `*-requirements.txt`, `dev-requirements.txt`, `requirements/*.txt` (and `.in`)."""
    return bool(_REQ_FILE.search(path) or _REQ_FOLDER_FILE.search(path))


def manifest_folder(path: str) -> str | None:
    """The folder whose Python files a manifest at `path` governs, or None when it is not one."""
    folder, _, name = path.rpartition("/")
    if name in PY_MANIFEST_NAMES:
        return folder
    if not name.endswith((".txt", ".in")):  # what both requirements patterns end with
        return None
    if _REQ_FILE.search(path):
        return folder
    if _REQ_FOLDER_FILE.search(path):
        return folder.rpartition("/")[0]
    return None


def is_manifest(path: str) -> bool:
    """Any dependency manifest A9 reads (Python's or package.json)."""
    return manifest_folder(path) is not None or path.rpartition("/")[2] == "package.json"


def python_manifest_paths(folder: str, all_paths: Iterable[str]) -> list[str]:
    """The Python manifests of `folder` (its requirements files included), in a fixed order."""
    found: list[str] = [join(folder, n) for n in PY_MANIFEST_NAMES]
    reqs = sorted(p for p in all_paths if is_requirements_file(p) and manifest_folder(p) == folder)
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
