"""The standard library of every Python version a project supports.

The module lists come from the `stdlib-list` package (one list per Python
version, data, not this interpreter's `sys.stdlib_module_names`), so the
answer is the same on every machine. A project's `requires-python` picks the
versions; without one, 3.9 to the newest listed.
"""

from __future__ import annotations

import functools

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version
from stdlib_list import short_versions, stdlib_list

DEFAULT_OLDEST = Version("3.9")


def _python3_versions() -> list[str]:
    return [v for v in short_versions if v.startswith("3.")]


@functools.cache
def _top_level(version: str) -> frozenset[str]:
    return frozenset(name.split(".")[0] for name in stdlib_list(version))


def supported_versions(requires_python: str | None) -> tuple[str, ...]:
    """The listed Python 3 versions `requires_python` allows (3.9 onwards when unset or unreadable)."""
    versions = _python3_versions()
    spec: SpecifierSet | None = None
    if requires_python:
        try:
            spec = SpecifierSet(requires_python.replace("'", "").replace('"', ""))
        except InvalidSpecifier:
            spec = None
    if spec is None:
        return tuple(v for v in versions if Version(v) >= DEFAULT_OLDEST)
    # "3.9.*" or ">=3.9.2" should admit 3.9: compare the newest patch release a version may have
    allowed = [v for v in versions if spec.contains(f"{v}.99", prereleases=True) or spec.contains(v)]
    return tuple(allowed) or (versions[-1],)


@functools.cache
def modules(requires_python: str | None = None) -> frozenset[str]:
    """Top-level standard-library module names of every supported version."""
    names: set[str] = set()
    for version in supported_versions(requires_python):
        names |= _top_level(version)
    return frozenset(names)
