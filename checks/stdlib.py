"""The standard library of every Python version a project supports.

The module lists come from the `stdlib-list` package (one list per Python
version, data, not this interpreter's `sys.stdlib_module_names`), so the
answer is the same on every machine. A project's `requires-python` picks the
versions; without one, 3.9 to the newest listed. The oldest version it admits
also decides whether this interpreter's grammar may judge a file's syntax.
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


def _specifier(requires_python: str | None) -> SpecifierSet | None:
    if not requires_python:
        return None
    try:
        return SpecifierSet(requires_python.replace("'", "").replace('"', ""))
    except InvalidSpecifier:
        return None


def _allows(spec: SpecifierSet, version: str) -> bool:
    # "3.9.*" or ">=3.9.2" should admit 3.9: compare the newest patch release a version may have
    return spec.contains(f"{version}.99", prereleases=True) or spec.contains(version)


def supported_versions(requires_python: str | None) -> tuple[str, ...]:
    """The listed Python 3 versions `requires_python` allows (3.9 onwards when unset or unreadable)."""
    versions = _python3_versions()
    spec = _specifier(requires_python)
    if spec is None:
        return tuple(v for v in versions if Version(v) >= DEFAULT_OLDEST)
    allowed = [v for v in versions if _allows(spec, v)]
    return tuple(allowed) or (versions[-1],)


@functools.cache
def oldest_supported(requires_python: str | None) -> tuple[int, int] | None:
    """The oldest Python 3 version `requires_python` allows (3.9 when unset or unreadable).

    Not limited to the versions `stdlib-list` knows: ">=3.15" gives (3, 15). None when
    it allows no Python 3 at all ("<3").
    """
    spec = _specifier(requires_python)
    if spec is None:
        return (DEFAULT_OLDEST.major, DEFAULT_OLDEST.minor)
    return next(((3, minor) for minor in range(100) if _allows(spec, f"3.{minor}")), None)


def judges_syntax(requires_python: str | None, running: tuple[int, int]) -> bool:
    """Whether a Python `running` may call a file of a project with `requires_python` a syntax error.

    Not when it is older than every version the project supports: the file may use
    newer syntax (PEP 701 f-strings, `type X = int`), which an older grammar rejects.
    """
    oldest = oldest_supported(requires_python)
    return oldest is None or running >= oldest


@functools.cache
def modules(requires_python: str | None = None) -> frozenset[str]:
    """Top-level standard-library module names of every supported version."""
    names: set[str] = set()
    for version in supported_versions(requires_python):
        names |= _top_level(version)
    return frozenset(names)
