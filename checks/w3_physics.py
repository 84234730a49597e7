"""W3 Physics route coverage: every route of `Contracts/physics.yaml` has a handler.

Routes are the keys under `paths:`. A route is covered when its path appears
as a string literal in a source file under the router folders (parameters
compared loosely: `{id}`, `:id`, `<id>`, `<int:id>`, `[id]`, `${id}` are all
"a parameter"), also when a router's prefix and the route's rest are two
literals of the same file; or, as the original did, when a handler file is
named after the route's first segment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import yaml

from checks.added_lines import is_binary
from checks.context import AuditContext, Verdict
from checks.files import head_paths
from checks.governance import NOT_GOVERNED
from checks.manifests import read_forge_json
from checks.model import Finding

CODE = "W3"
NAME = "Physics route coverage"

CONTRACT = "Contracts/physics.yaml"
DEFAULT_ROUTER_DIRS = (
    "app/api/routers",
    "app/routers",
    "app/api",
    "src/routes",
    "src/controllers",
    "routes",
    "handlers",
    "api",
)
SOURCE_EXTENSIONS = (
    ".py",
    ".js",
    ".jsx",
    ".mjs",
    ".cjs",
    ".ts",
    ".tsx",
    ".mts",
    ".cts",
    ".go",
    ".rb",
    ".java",
    ".kt",
    ".php",
    ".cs",
    ".rs",
    ".ex",
    ".exs",
    ".scala",
    ".swift",
)
MAX_BYTES = 2 * 1024 * 1024
SHOW = 10

_PARAM = re.compile(r"\{[^/{}]*\}|\$\{[^/{}]*\}|<[^/<>]*>|\[[^/\[\]]*\]|:[A-Za-z_][A-Za-z0-9_]*")
_LITERAL = re.compile(r"""(?:"([^"\\\n]*(?:\\.[^"\\\n]*)*)"|'([^'\\\n]*(?:\\.[^'\\\n]*)*)'|`([^`\\]*)`)""")


class PhysicsError(Exception):
    pass


def normalize(route: str) -> str:
    """A route with every parameter written `{}`, no trailing slash, no query."""
    path = route.strip().split("?", 1)[0]
    path = _PARAM.sub("{}", path)
    if len(path) > 1:
        path = path.rstrip("/")
    return path


def _literals(text: str) -> set[str]:
    out: set[str] = set()
    for m in _LITERAL.finditer(text):
        value = next(g for g in m.groups() if g is not None)
        if value.startswith("/") or value == "":
            out.add(normalize(value) if value else "")
    return out


def covered_by(route: str, literals: set[str]) -> bool:
    """Whether one file's string literals declare `route` (as a whole, or as prefix + rest)."""
    target = normalize(route)
    if target in literals:
        return True
    # A router prefix ("/items") and a path relative to it ("/{}" or "/" or "")
    for i in range(1, len(target)):
        if target[i] == "/" and target[:i] in literals and target[i:] in literals:
            return True
    return False


def parse_routes(text: str) -> list[tuple[str, int]]:
    """The keys under `paths:` with their lines; PhysicsError names the line of a YAML error."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PhysicsError(f"physics.yaml does not parse: {problem}{where}") from exc
    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "paths" and isinstance(value, yaml.MappingNode):
            keys = [k for k, _ in value.value if isinstance(k, yaml.ScalarNode)]
            return [(str(k.value), k.start_mark.line + 1) for k in keys]
    return []


def _router_dirs(ctx: AuditContext) -> tuple[str, ...]:
    configured = read_forge_json(ctx.head).router_dirs
    return configured or DEFAULT_ROUTER_DIRS


def _router_files(ctx: AuditContext) -> list[str]:
    prefixes = tuple(f"{d}/" for d in _router_dirs(ctx))
    return head_paths(ctx, lambda p: p.startswith(prefixes) and p.endswith(SOURCE_EXTENSIONS))


def _skipped(route: str) -> bool:
    return route.strip() == "/" or "/static/" in route or route.startswith("static/")


def _first_segment(route: str) -> str | None:
    for segment in route.strip("/").split("/"):
        if segment and not _PARAM.fullmatch(segment):
            return segment.lower().replace("-", "_")
    return None


def wants(ctx: AuditContext) -> Iterable[str]:
    if not ctx.governed:
        return []
    return [ctx.gpath(CONTRACT), "forge.json", *_router_files(ctx)]


def run(ctx: AuditContext) -> Verdict:
    if not ctx.governed:
        return Verdict("skip", NOT_GOVERNED)
    path = ctx.gpath(CONTRACT)
    text = ctx.text(path)
    if text is None:
        return Verdict("warn", "physics.yaml not found.")
    try:
        declared = parse_routes(text)
    except PhysicsError as exc:
        return Verdict("error", str(exc))
    routes = [(r, line) for r, line in declared if not _skipped(r)]
    if not routes:
        return Verdict("pass", "No routes to cover in physics.yaml.")

    files = _router_files(ctx)
    literal_sets: list[set[str]] = []
    stems: set[str] = set()
    for file in files:
        stem = file.rsplit("/", 1)[-1].split(".", 1)[0].lower().replace("-", "_")
        stems.add(stem)
        data = ctx.head.read(file)
        if data is None or len(data) > MAX_BYTES or is_binary(data):
            continue
        literal_sets.append(_literals(data.decode("utf-8", "replace")))

    uncovered: list[tuple[str, int]] = []
    for route, line in routes:
        if any(covered_by(route, lits) for lits in literal_sets):
            continue
        segment = _first_segment(route)
        if segment is not None and segment in stems:
            continue
        uncovered.append((route, line))

    if uncovered:
        where = ", ".join(_router_dirs(ctx))
        findings = [
            Finding(path, f"Route {route} has no handler under {where}", "warning", line, line)
            for route, line in uncovered
        ]
        names = ", ".join(r for r, _ in uncovered[:SHOW])
        more = f" and {len(uncovered) - SHOW} more" if len(uncovered) > SHOW else ""
        return Verdict("warn", f"Uncovered routes: {names}{more}", findings)
    return Verdict("pass", f"All {len(routes)} route(s) in physics.yaml have a handler.")
