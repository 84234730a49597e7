"""Vendored paths: Linguist's vendor.yml patterns and the `_vendor/`/`vendor/` folders."""

from __future__ import annotations

import re
from importlib import resources

import re2
import yaml

from checks.vendored import is_vendored


def test_every_linguist_pattern_compiles_in_re2_and_python() -> None:
    text = (resources.files("checks") / "data" / "linguist" / "vendor.yml").read_text(encoding="utf-8")
    patterns = yaml.safe_load(text)
    assert len(patterns) > 100
    for pattern in patterns:
        re2.compile(pattern)
        re.compile(pattern)


def test_linguist_patterns_and_import_path_folders_are_vendored() -> None:
    vendored = ["node_modules/x/index.js", "third_party/lib.py", "pip/_vendor/rich/x.py", "vendor/six.py"]
    assert all(is_vendored(p) for p in vendored)


def test_the_project_s_own_code_is_not_vendored() -> None:
    own = ["src/app/vendors_api.py", "sympy/printing/numpy.py", "app/vendoring.py"]
    assert not any(is_vendored(p) for p in own)
