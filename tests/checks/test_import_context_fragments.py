"""Contexts read from the statements around some imports equal the whole file's, whatever the file.

Files are built from the shapes that make top-level statement starts hard to see: strings
spanning lines at column 0, brackets whose lines sit at column 0, backslash continuations,
decorators, clauses, and optional imports nested in functions and classes."""

from __future__ import annotations

import ast

from hypothesis import given, settings
from hypothesis import strategies as st

from checks.imports_py import import_contexts

TOP_LEVEL = [
    "import os\n",
    "from x import (\n    a,  # forgeguard: allow-import\n    b,\n)\n",
    "try:\n    import yaml\nexcept ImportError:\n    yaml = None\n",
    "if TYPE_CHECKING:\n    import attr\nelse:\n    import cattr\n",
    'DOC = """\nimport fake\n"""\n',
    "x = [\n1,\n2]\n",
    "y = 1 + \\\n2\n",
    "@decorator\ndef f():\n    try:\n        import numpy\n"
    "    except (ValueError, ImportError):\n        pass\n",
    "class K:\n    def m(self):\n        text = '''\nfrom nowhere import x\n'''\n        import json\n",
    "def g():\n    z = (\n1)\n    if t.TYPE_CHECKING:\n        from a.b import c\n",
    "def h():\n    assert x == \\\n'text'\n    import late\n",
    "# a comment\n\n",
    "try:\n    pass\nfinally:\n    import cleanup\n",
]


def import_lines(source: str) -> list[int]:
    tree = ast.parse(source)
    return sorted({n.lineno for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOP_LEVEL), min_size=1, max_size=8), st.data())
def test_contexts_of_some_lines_equal_the_whole_files(parts: list[str], data: st.DataObject) -> None:
    source = "".join(parts)
    lines = import_lines(source)
    asked = data.draw(st.lists(st.sampled_from(lines), unique=True) if lines else st.just([]))
    whole = import_contexts(source.encode())
    some = import_contexts(source.encode(), asked)
    assert {n: some.get(n) for n in asked} == {n: whole.get(n) for n in asked}
