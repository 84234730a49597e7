"""Engine benchmarks on the sympy repository built by bench/make_repos.py.

(a) `forgeguard audit --full` cold (empty analysis cache) and warm, against a
    one-core `ast.parse` of every .py file (bench/parse_baseline.py); two
    baselines run at once say how much two cores of this machine really give
    (virtual cores that share a physical one give much less than 2x);
(b) the 10-file change at HEAD (`--base HEAD~1`) on sympy and on the 10-file repo;
(d) peak memory of the full audit: the largest resident set among the audit
    process and its pool workers (getrusage RUSAGE_CHILDREN, ru_maxrss).

Each figure is the median of RUNS runs, wall clock and CPU (user + sys of the
audit process and its children). The audit runs as `python -m checks`, the
same command as `forgeguard audit`, so interpreter start-up is included.

Run: .venv/bin/python bench/make_repos.py && .venv/bin/python bench/full_audit.py
"""

from __future__ import annotations

import os
import pathlib
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
BIG = HERE / ".work" / "sympy-repo"
SMALL = HERE / ".work" / "small-repo"
RUNS = int(os.environ.get("RUNS", "3"))


def audit(repo: pathlib.Path, *args: str, cache_dir: str) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, exit code) of one audit run in a child process."""
    env = {**os.environ, "FORGEGUARD_CACHE_DIR": cache_dir, "PYTHONPATH": str(ROOT)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "checks", str(repo), "--format", "json", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"audit failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode


def median(repo: pathlib.Path, *args: str, cold: bool) -> tuple[float, float]:
    walls: list[float] = []
    cpus: list[float] = []
    with tempfile.TemporaryDirectory() as warm_dir:
        if not cold:
            audit(repo, *args, cache_dir=warm_dir)  # fill the cache once
        for _ in range(RUNS):
            with tempfile.TemporaryDirectory() as cold_dir:
                wall, cpu, _ = audit(repo, *args, cache_dir=cold_dir if cold else warm_dir)
            walls.append(wall)
            cpus.append(cpu)
    return statistics.median(walls), statistics.median(cpus)


def baseline() -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, str(HERE / "parse_baseline.py"), str(BIG)],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    # "ast.parse, one core: N files, X MB in W s wall, C s CPU"
    words = out.replace(",", " ").split()
    return float(words[words.index("wall") - 2]), float(words[words.index("CPU") - 2])


def two_at_once() -> float:
    """Wall time of two one-core baselines run at the same time (the longer of the two)."""
    cmd = [sys.executable, str(HERE / "parse_baseline.py"), str(BIG)]
    start = time.perf_counter()
    procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL) for _ in range(2)]
    for proc in procs:
        proc.wait()
    return time.perf_counter() - start


def main() -> None:
    if not BIG.exists() or not SMALL.exists():
        raise SystemExit("run bench/make_repos.py first")
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}; median of {RUNS} runs")
    base_wall, base_cpu = baseline()
    print(f"baseline ast.parse of every .py file, one core: {base_wall:.2f} s wall, {base_cpu:.2f} s CPU")
    both = two_at_once()
    print(
        f"    two baselines at once: {both:.2f} s wall; the cores together do"
        f" {2 * base_wall / both:.2f}x the work of one (2.00 on two free cores)"
    )

    cold = median(BIG, "--full", cold=True)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    warm = median(BIG, "--full", cold=False)
    print(
        f"(a) full audit, cold cache: {cold[0]:.2f} s wall, {cold[1]:.2f} s CPU"
        f" (wall / baseline wall = {cold[0] / base_wall:.2f})"
    )
    print(f"    full audit, warm cache: {warm[0]:.2f} s wall, {warm[1]:.2f} s CPU")

    big = median(BIG, "--base", "HEAD~1", cold=True)
    small = median(SMALL, "--base", "HEAD~1", cold=True)
    print(
        f"(b) 10-file change on sympy: {big[0]:.2f} s wall; on the 10-file repo: {small[0]:.2f} s wall"
        f" (ratio {big[0] / small[0]:.2f})"
    )
    print(f"(d) peak memory of the full audit (largest process): {peak_kib / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
