"""Baseline: one core, `ast.parse` of every .py file of a repository (what a naive audit costs).

Run: .venv/bin/python bench/parse_baseline.py [bench/.work/sympy-repo]
"""

from __future__ import annotations

import ast
import contextlib
import pathlib
import sys
import time
import warnings


def main() -> None:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "bench/.work/sympy-repo")
    files = [p.read_bytes() for p in sorted(root.rglob("*.py")) if ".git" not in p.parts]
    size = sum(map(len, files))
    start, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for data in files:
            with contextlib.suppress(SyntaxError, ValueError):
                ast.parse(data)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"ast.parse, one core: {len(files)} files, {size / 1e6:.1f} MB "
        f"in {seconds:.2f} s wall, {cpu:.2f} s CPU"
    )


if __name__ == "__main__":
    main()
