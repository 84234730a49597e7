"""W1 throughput: the secrets check over 10 MB of added lines (target: at least 30 MB/s).

Measured on all cores (the way an audit runs it) and on one core. The added
lines are real source text (sympy's .py files from bench/.work/,
or this repository's own files when that is absent), split into files of
their original sizes, all with status "added". No cache: every byte is scanned.

Run: .venv/bin/python bench/w1_throughput.py [MEGABYTES]
"""

from __future__ import annotations

import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from checks import w1_secrets
from checks.secrets_rules import default_rules
from tests.checks.memsource import make_ctx


def corpus(limit: int) -> dict[str, str]:
    here = pathlib.Path(__file__).resolve().parents[1]
    root = here / "bench" / ".work" / "sympy-repo"
    if not root.exists():
        root = here
    files: dict[str, str] = {}
    total = 0
    for path in sorted(root.rglob("*.py")):
        if ".git" in path.parts or ".venv" in path.parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if len(text.encode()) > w1_secrets.MAX_BYTES:
            continue
        files[f"f{len(files)}/{path.name}"] = text
        total += len(text.encode())
        if total >= limit:
            break
    return files


def main() -> None:
    megabytes = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    files = corpus(int(megabytes * 1024 * 1024))
    ctx = make_ctx(files)
    size = sum(len("\n".join(t for _, t in f.added_lines).encode()) for f in ctx.change.files)
    lines = sum(len(f.added_lines) for f in ctx.change.files)
    default_rules()  # loading and compiling the rules is a one-time cost, measured separately
    mb = size / 1e6
    print(f"W1: {len(files)} files, {lines} added lines, {mb:.1f} MB")
    for label, threshold in (("all cores", w1_secrets.PARALLEL_BYTES), ("one core", size + 1)):
        w1_secrets.PARALLEL_BYTES = threshold
        best_wall = best_cpu = float("inf")
        for _ in range(3):
            wall, cpu = time.perf_counter(), time.process_time()
            verdict = w1_secrets.run(ctx)
            best_wall = min(best_wall, time.perf_counter() - wall)
            best_cpu = min(best_cpu, time.process_time() - cpu)
        print(
            f"  {label}: best of 3 {best_wall:.2f} s wall = {mb / best_wall:.0f} MB/s"
            f" (this process's CPU {best_cpu:.2f} s; {verdict.outcome}, {len(verdict.findings)} findings)"
        )


if __name__ == "__main__":
    main()
