"""Evidence for a decision item 15 needs: ruff's parser as A9's first syntax judge.

A9 judges every Python file with the running Python's parser (spec §4), and
that parser alone costs more than all of deptry (bench/a9_vs_deptry.py, "the
floor"). This measures what a faster first judge would change, without
changing A9:

1. Time: CPython's symbol table over every Python file on every core (the
   floor, as in a9_vs_deptry.py) against `ruff check --select E9` on the
   same files (ruff's parser, in Rust; E9 and `invalid-syntax` are its
   syntax errors), both reading the working tree of the benchmark
   repositories, interleaved, median of RUNS.
2. Agreement where it matters: a first judge may only pass a file when
   CPython would (a file it rejects goes to CPython, so rejecting too much
   costs time, not correctness). Every Python file CPython's parser rejects
   among the standard library, site-packages and the two repositories,
   every snippet of CPython's own `test_syntax` doctests, and a few written
   cases (`EDGES`: the tokenizer's limits, newer syntax) are given to ruff
   (`--target-version` the running Python); a file ruff passes there is a
   file A9 would pass wrongly. Files with an encoding cookie are counted
   apart: ruff reads every file as UTF-8, so such files would stay with
   CPython.

Run: .venv/bin/pip install -e '.[test,bench]' && .venv/bin/python bench/make_repos.py &&
     .venv/bin/python bench/ruff_as_judge.py          (RUNS=5 for more runs)
"""

from __future__ import annotations

import ast
import doctest
import json
import os
import pathlib
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import warnings

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import a9_vs_deptry  # the repositories and the floor, shared

RUNS = int(os.environ.get("RUNS", "3"))
TARGET = f"py{sys.version_info[0]}{sys.version_info[1]}"
COOKIE = re.compile(rb"^(?:\xef\xbb\xbf)?[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+", re.MULTILINE)
"""PEP 263's encoding declaration (after a byte order mark, too), looked for in the first two lines."""


def ruff() -> list[str]:
    exe = pathlib.Path(sys.executable).with_name("ruff")
    return [str(exe), "check", "--no-cache", "--isolated", "--select", "E9", "--target-version", TARGET]


def judge_with_ruff(repo: pathlib.Path) -> tuple[float, float]:
    """ruff on the files the floor judges (`git ls-files '*.py'`), named on its command line."""
    files = subprocess.run(["git", "ls-files", "-z", "*.py"], cwd=repo, capture_output=True, check=True)
    names = [n for n in files.stdout.decode().split("\0") if n]
    cmd = [*ruff(), "--exit-zero", "--output-format", "concise", *names]
    return a9_vs_deptry.timed(cmd, dict(os.environ), repo)


def rejected_by(paths: list[pathlib.Path]) -> set[str]:
    """The names of the files ruff reports a syntax error in (the files copied to one folder)."""
    with tempfile.TemporaryDirectory() as tmp:
        for i, path in enumerate(paths):
            shutil.copy(path, pathlib.Path(tmp) / f"{i:05d}.py")
        out = subprocess.run(
            [*ruff(), "--exit-zero", "--output-format", "json", tmp], capture_output=True, check=True
        ).stdout
        found = {pathlib.Path(d["filename"]).name for d in json.loads(out)}
    return {str(path) for i, path in enumerate(paths) if f"{i:05d}.py" in found}


def cpython_rejects(data: bytes) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ast.parse(data)
        except (SyntaxError, ValueError):
            return True
    return False


def syntax_snippets(folder: pathlib.Path) -> list[pathlib.Path]:
    """Each example of CPython's test_syntax doctests, as a file."""
    source = pathlib.Path(sysconfig.get_paths()["stdlib"], "test", "test_syntax.py")
    if not source.exists():
        return []
    texts = [
        node.value
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and ">>>" in node.value
    ]
    found: list[pathlib.Path] = []
    seen: set[str] = set()
    for text in texts:
        for example in doctest.DocTestParser().get_examples(text):
            if example.source in seen:
                continue
            seen.add(example.source)
            path = folder / f"snippet{len(found):04d}.py"
            path.write_text(example.source, encoding="utf-8")
            found.append(path)
    return found


EDGES = {
    "indentation_101_levels": "def f():\n"
    + "".join("    " * (i + 1) + "if x:\n" for i in range(105))
    + "    " * 106
    + "pass\n",
    "brackets_250_deep": "x = " + "(" * 250 + "1" + ")" * 250 + "\n",
    "tabs_after_spaces": "if True:\n\tx = 1\n        y = 2\n",
    "type_alias_312": "type X = int\n",
    "fstring_quotes_312": 'x = {"a": 1}\ny = f"{x["a"]}"\n',
    "print_statement": 'print "hello"\n',
    "null_byte": "x = 1\0\n",
}
"""Limits of CPython's tokenizer, syntax newer than some Pythons, Python 2: written here, since no
real file holds them."""


def edge_cases(folder: pathlib.Path) -> list[pathlib.Path]:
    found: list[pathlib.Path] = []
    for name, text in EDGES.items():
        path = folder / f"edge_{name}.py"
        path.write_text(text, encoding="utf-8")
        found.append(path)
    return found


def agreement(repos: list[pathlib.Path]) -> None:
    paths = sysconfig.get_paths()
    roots = [pathlib.Path(paths["stdlib"]), pathlib.Path(paths["purelib"]), *repos]
    with tempfile.TemporaryDirectory() as tmp:
        files = [p for root in roots for p in root.rglob("*.py") if p.is_file()]
        files += syntax_snippets(pathlib.Path(tmp)) + edge_cases(pathlib.Path(tmp))
        rejected = [p for p in files if cpython_rejects(p.read_bytes())]
        with_cookie = [p for p in rejected if COOKIE.search(b"\n".join(p.read_bytes().splitlines()[:2]))]
        plain = [p for p in rejected if p not in with_cookie]
        passed = sorted(set(map(str, plain)) - rejected_by(plain))
    print(
        f"agreement: {len(files)} files and snippets; "
        f"CPython {sys.version.split()[0]} rejects {len(rejected)} "
        f"({len(with_cookie)} with an encoding cookie, which would stay with CPython); "
        f"ruff ({TARGET}) passes {len(passed)} of the other {len(plain)}"
    )
    for path in passed:
        print(f"  passed by ruff, rejected by CPython: {path}")


def main() -> None:
    repos = [a9_vs_deptry.WORK / "sympy-repo", a9_vs_deptry.django_repo()]
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}; median of {RUNS} runs")
    for repo in repos:
        floors: list[tuple[float, float]] = []
        ruffs: list[tuple[float, float]] = []
        for _ in range(RUNS):
            floors.append(a9_vs_deptry.floor(repo))
            ruffs.append(judge_with_ruff(repo))
        f_wall, f_cpu = (statistics.median(x) for x in zip(*floors, strict=True))
        r_wall, r_cpu = (statistics.median(x) for x in zip(*ruffs, strict=True))
        print(
            f"{repo.name}: CPython's symbol table (the floor) {f_wall:.2f} s wall, {f_cpu:.2f} s CPU; "
            f"ruff --select E9 {r_wall:.2f} s wall, {r_cpu:.2f} s CPU; "
            f"ruff / floor {r_wall / f_wall:.2f} wall, {r_cpu / f_cpu:.2f} CPU"
        )
    agreement(repos)


if __name__ == "__main__":
    main()
