"""`setup.py` read statically: the arguments of its `setup(...)` call, never executed.

Literal values are read (lists, tuples, strings, dicts, `+` of lists, and
module-level names bound to such values); anything else is named in
`dynamic` instead of being guessed.
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass, field

_REQUIREMENT_KEYS = {
    "install_requires": "",
    "tests_require": "test",
    "setup_requires": "build",
    "extras_require": "extra",
}
_MAX_DEPTH = 8


class _Dynamic(Exception):
    """A value that is not a literal."""


@dataclass
class SetupPy:
    """What a setup.py's setup(...) call declares."""

    name: str | None = None
    python_requires: str | None = None
    requirements: dict[str, list[tuple[str | None, list[str]]]] = field(default_factory=dict)
    """scope ("", "test", "build", "extra") -> [(extra name or None, requirement strings)]."""
    package_dirs: list[str] = field(default_factory=list)
    dynamic: list[str] = field(default_factory=list)
    """Arguments that are not literals, e.g. "install_requires is computed, not a literal"."""
    error: str | None = None


def read_setup_py(data: bytes) -> SetupPy:
    result = SetupPy()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(data)
    except (SyntaxError, ValueError) as exc:
        result.error = f"syntax error at line {getattr(exc, 'lineno', None) or 1}"
        return result
    names = _assignments(tree)
    for call in _setup_calls(tree):
        for keyword in call.keywords:
            if keyword.arg is None:
                result.dynamic.append("setup(**…) arguments are computed, not literals")
            elif keyword.arg in _REQUIREMENT_KEYS:
                _requirements(result, keyword.arg, keyword.value, names)
            elif keyword.arg in ("name", "python_requires"):
                value = _literal_or_none(keyword.value, names)
                if isinstance(value, str):
                    setattr(result, keyword.arg, value)
            elif keyword.arg == "package_dir":
                value = _literal_or_none(keyword.value, names)
                if isinstance(value, dict):
                    result.package_dirs.extend(v for v in value.values() if isinstance(v, str))
    return result


def _setup_calls(tree: ast.AST) -> list[ast.Call]:
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = (
                func.id
                if isinstance(func, ast.Name)
                else func.attr
                if isinstance(func, ast.Attribute)
                else ""
            )
            if name == "setup":
                calls.append(node)
    return calls


def _assignments(tree: ast.Module) -> dict[str, ast.expr]:
    """Module-level `NAME = value` bindings (the first one of each name)."""
    found: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            found.setdefault(node.targets[0].id, node.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            found.setdefault(node.target.id, node.value)
    return found


def _requirements(result: SetupPy, key: str, node: ast.expr, names: dict[str, ast.expr]) -> None:
    scope = _REQUIREMENT_KEYS[key]
    try:
        value = _literal(node, names, 0)
    except _Dynamic:
        result.dynamic.append(f"{key} is computed, not a literal (not read)")
        return
    bucket = result.requirements.setdefault(scope, [])
    if scope == "extra":
        if not isinstance(value, dict):
            result.dynamic.append(f"{key} is not a mapping of extras (not read)")
            return
        for extra, items in value.items():
            bucket.append((str(extra), _strings(items)))
    else:
        bucket.append((None, _strings(value)))


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [line for line in value.splitlines() if line.strip() and not line.strip().startswith("#")]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return []


def _literal_or_none(node: ast.expr, names: dict[str, ast.expr]) -> object:
    try:
        return _literal(node, names, 0)
    except _Dynamic:
        return None


def _literal(node: ast.expr, names: dict[str, ast.expr], depth: int) -> object:
    if depth > _MAX_DEPTH:
        raise _Dynamic
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id in names:
        return _literal(names[node.id], names, depth + 1)
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [_literal(e, names, depth + 1) for e in node.elts]
    if isinstance(node, ast.Dict):
        out: dict[object, object] = {}
        for k, v in zip(node.keys, node.values, strict=True):
            if k is None:
                raise _Dynamic
            out[_literal(k, names, depth + 1)] = _literal(v, names, depth + 1)
        return out
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal(node.left, names, depth + 1), _literal(node.right, names, depth + 1)
        if isinstance(left, list) and isinstance(right, list):
            return left + right
        if isinstance(left, str) and isinstance(right, str):
            return left + right
    raise _Dynamic
