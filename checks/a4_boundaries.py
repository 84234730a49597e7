"""A4 Boundary compliance: the layers of `Contracts/boundaries.json` stay clear of forbidden code.

Two kinds of rule: `{"import": "asyncpg"}` (and a `pattern` that is a bare
dotted module name) forbids importing a module, judged from the syntax tree
in Python and JS/TS files; any other `pattern` is a case-sensitive regular
expression matched with comments removed. Layers select files with
gitignore-style globs relative to the repository root.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import pathspec

from checks import imports_js, imports_py
from checks.added_lines import is_binary
from checks.comments import strip_comments
from checks.context import AuditContext, Verdict, decode
from checks.files import head_paths
from checks.governance import NOT_GOVERNED
from checks.model import Finding, Level

CODE = "A4"
NAME = "Boundary compliance"

CONTRACT = "Contracts/boundaries.json"
MAX_BYTES = 5 * 1024 * 1024
SHOW = 3
# A bare dotted name means a module. All-capital words (SELECT, DELETE) are SQL, not modules.
_MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


class ContractError(Exception):
    """boundaries.json cannot be used; the message says where and why."""


@dataclass
class Rule:
    pattern: str
    """As written in the contract (the module name for an import rule)."""
    reason: str
    kind: Literal["import", "regex"]
    regex: re.Pattern[str] | None = None
    module: str | None = None
    """The module an import rule (or a bare dotted pattern in code files) forbids."""


@dataclass
class Layer:
    name: str
    globs: list[str]
    spec: pathspec.GitIgnoreSpec
    rules: list[Rule] = field(default_factory=list)


@dataclass
class Contract:
    layers: list[Layer]
    known: list[tuple[pathspec.GitIgnoreSpec, str]]


def _is_module_name(pattern: str) -> bool:
    return bool(_MODULE_NAME.fullmatch(pattern)) and not (pattern.isupper() and len(pattern) > 1)


def _flags(*values: object) -> int:
    return re.IGNORECASE if any(isinstance(v, str) and "i" in v for v in values) else 0


def _rule(layer: str, entry: object, layer_flags: object) -> Rule:
    if isinstance(entry, str):
        entry = {"pattern": entry}
    if not isinstance(entry, dict):
        raise ContractError(f"boundaries.json: layer '{layer}': forbidden entries are strings or objects")
    reason = str(entry.get("reason") or "forbidden")
    if isinstance(entry.get("import"), str) and entry["import"].strip():
        name = entry["import"].strip()
        return Rule(name, reason, "import", module=name)
    pattern = entry.get("pattern")
    if not isinstance(pattern, str) or not pattern:
        raise ContractError(f"layer '{layer}': a forbidden entry needs a 'pattern' or an 'import'")
    try:
        regex = re.compile(pattern, re.MULTILINE | _flags(layer_flags, entry.get("flags")))
    except re.error as exc:
        raise ContractError(
            f"boundaries.json: layer '{layer}' has an invalid pattern '{pattern}': {exc}"
        ) from exc
    module = pattern if _is_module_name(pattern) else None
    return Rule(pattern, reason, "regex", regex=regex, module=module)


def _spec(layer: str, globs: list[str]) -> pathspec.GitIgnoreSpec:
    try:
        return pathspec.GitIgnoreSpec.from_lines(globs)
    except Exception as exc:
        raise ContractError(f"boundaries.json: layer '{layer}' has an invalid glob {globs!r}: {exc}") from exc


def parse_contract(text: str) -> Contract:
    """boundaries.json as layers and rules; ContractError says what is wrong and where."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContractError(
            f"boundaries.json does not parse: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("layers"), list):
        raise ContractError("boundaries.json must be an object with a 'layers' list")
    layers: list[Layer] = []
    for i, item in enumerate(doc["layers"], start=1):
        if not isinstance(item, dict):
            raise ContractError(f"boundaries.json: layer {i} is not an object")
        raw_name = item.get("name")
        name = raw_name if isinstance(raw_name, str) else f"layer {i}"
        glob = item.get("glob", item.get("globs"))
        globs = [glob] if isinstance(glob, str) else glob
        if not isinstance(globs, list) or not globs or not all(isinstance(g, str) for g in globs):
            raise ContractError(f"boundaries.json: layer '{name}' needs a 'glob'")
        forbidden = item.get("forbidden", [])
        if not isinstance(forbidden, list):
            raise ContractError(f"boundaries.json: layer '{name}': 'forbidden' must be a list")
        rules = [_rule(name, entry, item.get("flags")) for entry in forbidden]
        layers.append(Layer(name, globs, _spec(name, globs), rules))
    known: list[tuple[pathspec.GitIgnoreSpec, str]] = []
    known_violations = doc.get("known_violations")
    for entry in known_violations if isinstance(known_violations, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("path"), str):
            pattern = entry.get("pattern")
            tolerated = pattern if isinstance(pattern, str) else ""
            known.append((_spec("known_violations", [entry["path"]]), tolerated))
    return Contract(layers, known)


def _contract_path(ctx: AuditContext) -> str:
    return ctx.gpath(CONTRACT)


def _scan_everything(ctx: AuditContext) -> bool:
    path = _contract_path(ctx)
    return ctx.full or any(f.path == path or f.previous_path == path for f in ctx.change.files)


def _candidates(ctx: AuditContext) -> list[str]:
    if _scan_everything(ctx):
        return head_paths(ctx, lambda _: True)
    return [f.path for f in ctx.change.files if f.status != "removed"]


def _layer_files(layer: Layer, paths: list[str]) -> list[str]:
    return [p for p in paths if p.rsplit("/", 1)[-1] != "__init__.py" and layer.spec.match_file(p)]


def _load(ctx: AuditContext) -> Contract | None:
    text = ctx.text(_contract_path(ctx))
    return None if text is None else parse_contract(text)


def wants(ctx: AuditContext) -> Iterable[str]:
    if not ctx.governed:
        return []
    try:
        contract = _load(ctx)
    except ContractError:
        return [_contract_path(ctx)]
    if contract is None:
        return []
    paths = _candidates(ctx)
    wanted = {_contract_path(ctx)}
    for layer in contract.layers:
        wanted.update(_layer_files(layer, paths))
    return sorted(wanted)


def _absolute(imp: imports_py.PyImport, path: str) -> list[str]:
    """Dotted names an import statement brings in, relative ones resolved against the file's package."""
    if not imp.relative:
        return imp.candidates()
    package = path.rsplit("/", 1)[0].split("/") if "/" in path else []
    if package and package[0] == "src":
        package = package[1:]
    keep = len(package) - (imp.level - 1)
    if keep < 0:
        return []
    base = ".".join(package[:keep])
    resolved = imports_py.PyImport(
        f"{base}.{imp.module}".strip(".") if imp.module else base, imp.line, 0, imp.names
    )
    return resolved.candidates()


def _forbids(module: str, name: str) -> bool:
    return name == module or name.startswith(module + ".")


def _js_forbids(module: str, specifier: str) -> bool:
    slashed = module.replace(".", "/")
    return any(specifier == m or specifier.startswith(m + "/") for m in {module, slashed})


@dataclass
class _Hit:
    layer: str
    path: str
    line: int
    rule: Rule


def _import_hits(
    layer: Layer, path: str, ctx: AuditContext, rules: list[Rule], py: dict[str, imports_py.PyImports]
) -> list[_Hit]:
    hits: list[_Hit] = []
    if path.endswith((".py", ".pyi")):
        parsed = py.get(path) or imports_py.imports_for(ctx.head, [path], ctx.cache)[path]
        for imp in parsed.imports:
            names = _absolute(imp, path)
            for rule in rules:
                assert rule.module is not None
                if any(_forbids(rule.module, n) for n in names):
                    hits.append(_Hit(layer.name, path, imp.line, rule))
    else:
        analysis = imports_js.analyses_for(ctx.head, [path], ctx.cache)[path]
        for js in analysis.imports:
            for rule in rules:
                assert rule.module is not None
                if _js_forbids(rule.module, js.specifier):
                    hits.append(_Hit(layer.name, path, js.line, rule))
    return hits


def _regex_hits(layer: Layer, path: str, text: str, rules: list[Rule]) -> list[_Hit]:
    stripped = strip_comments(text, path)
    newlines = [i for i, c in enumerate(stripped) if c == "\n"]
    hits: list[_Hit] = []
    for rule in rules:
        assert rule.regex is not None
        lines_seen: set[int] = set()
        for m in rule.regex.finditer(stripped):
            line = bisect.bisect_left(newlines, m.start()) + 1
            if line not in lines_seen:
                lines_seen.add(line)
                hits.append(_Hit(layer.name, path, line, rule))
    return hits


def _is_code(path: str) -> bool:
    return path.endswith((".py", ".pyi")) or imports_js.is_js(path)


def _scan(
    ctx: AuditContext, layer: Layer, path: str, notes: list[Finding], py: dict[str, imports_py.PyImports]
) -> list[_Hit]:
    size = ctx.head.size(path)
    if size == 0:
        return []
    if size is not None and size > MAX_BYTES:
        notes.append(Finding(path, f"[{layer.name}] {path} is over 5 MB; not scanned", "notice"))
        return []
    data = ctx.head.read(path)
    if not data or is_binary(data):
        return []
    code = _is_code(path)
    import_rules = [r for r in layer.rules if r.module is not None and (code or r.kind == "import")]
    regex_rules = [r for r in layer.rules if r.kind == "regex" and not (code and r.module is not None)]
    hits = _import_hits(layer, path, ctx, import_rules, py) if code and import_rules else []
    if regex_rules:
        hits.extend(_regex_hits(layer, path, decode(data), regex_rules))
    return hits


def run(ctx: AuditContext) -> Verdict:
    if not ctx.governed:
        return Verdict("skip", NOT_GOVERNED)
    path = _contract_path(ctx)
    try:
        contract = _load(ctx)
    except ContractError as exc:
        return Verdict("error", str(exc))
    if contract is None:
        return Verdict("skip", f"{path} not found.")

    all_paths = list(ctx.head.paths())
    candidates = _candidates(ctx)
    empty = [layer for layer in contract.layers if not _layer_files(layer, all_paths)]
    notes: list[Finding] = []
    hits: list[_Hit] = []
    pairs = [(layer, file) for layer in contract.layers for file in _layer_files(layer, candidates)]
    scanned = {file for _, file in pairs}
    # Python files under import rules are parsed in one batch (a process pool when there are many)
    py_files = sorted(
        {
            file
            for layer, file in pairs
            if file.endswith((".py", ".pyi"))
            and any(r.module is not None for r in layer.rules)
            and 0 < (ctx.head.size(file) or 0) <= MAX_BYTES
        }
    )
    py = imports_py.imports_for(ctx.head, py_files, ctx.cache)
    for layer, file in pairs:
        hits.extend(_scan(ctx, layer, file, notes, py))

    findings: list[Finding] = []
    failures = 0
    known = 0
    for hit in sorted(hits, key=lambda h: (h.path, h.line, h.layer, h.rule.pattern)):
        message = f"[{hit.layer}] {hit.path}:{hit.line} contains '{hit.rule.pattern}' ({hit.rule.reason})"
        tolerated = any(
            spec.match_file(hit.path) and pattern in ("", hit.rule.pattern)
            for spec, pattern in contract.known
        )
        level: Level = "notice" if tolerated else "failure"
        if tolerated:
            known += 1
            message += " [known violation]"
        else:
            failures += 1
        findings.append(Finding(hit.path, message, level, hit.line, hit.line))
    findings.extend(notes)

    extra: list[str] = []
    if known:
        extra.append(f"{known} known violation(s) tolerated.")
    if empty:
        extra.append(
            "Layers matching no file: "
            + ", ".join(f"{layer.name} ({', '.join(layer.globs)})" for layer in empty)
            + "."
        )
    tail = (" " + " ".join(extra)) if extra else ""
    if failures:
        first = [f.message for f in findings if f.level == "failure"][:SHOW]
        more = f" and {failures - SHOW} more" if failures > SHOW else ""
        return Verdict("fail", f"{failures} boundary violation(s): {'; '.join(first)}{more}.{tail}", findings)
    return Verdict(
        "pass",
        f"No boundary violations in {len(scanned)} file(s) across {len(contract.layers)} layer(s).{tail}",
        findings,
    )
