"""Vendored code: paths matching GitHub Linguist's `vendor.yml` and `_vendor/`/`vendor/` folders.

A9 and W1 leave vendored files out unless the configuration says
`audit_vendored: true`: another project's code is not this project's
dependency or secret problem. The patterns are Linguist's data (MIT, see
`checks/data/linguist/`), read once per process.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import re2
import yaml

IMPORT_PATH_FOLDERS = ("_vendor", "vendor")
"""Folders projects put on their import path: the modules directly inside them are first-party."""
_OWN = r"(?:^|/)_?vendor/"


@functools.cache
def _patterns() -> Any:
    """Every pattern in one RE2 set: linear time (Python's `re` backtracks through 168 of them), and
    a set's automaton answers a path several times faster than one alternation of them all."""
    text = (resources.files("checks") / "data" / "linguist" / "vendor.yml").read_text(encoding="utf-8")
    # libyaml's safe loader when PyYAML has it: this is read on every audit (15 ms in Python)
    loaded = yaml.load(text, Loader=yaml.CSafeLoader) if yaml.__with_libyaml__ else yaml.safe_load(text)
    patterns = [p for p in loaded or [] if isinstance(p, str)]
    found = re2.Set.SearchSet(re2.Options())
    for pattern in [_OWN, *patterns]:
        found.Add(pattern)
    found.Compile()
    return found


@functools.lru_cache(maxsize=1 << 16)
def is_vendored(path: str) -> bool:
    """True when `path` is vendored code by Linguist's patterns or sits in a `_vendor/`/`vendor/` folder."""
    return bool(_patterns().Match(path))
