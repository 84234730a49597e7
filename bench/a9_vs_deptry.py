"""A9 alone, cold, against deptry on the same Python files of sympy and Django.

Run: .venv/bin/pip install -e '.[bench]' && .venv/bin/python bench/a9_vs_deptry.py
     (RUNS=5 for more runs; needs bench/.work/sympy-repo from make_repos.py)

- A9: `python -m checks REPO --full --format json` in a child process with a
  configuration that turns every other check off and leaves JS/TS out (deptry
  reads Python only), and an empty analysis cache (cold).
- deptry: `deptry REPO` with every Python file included (`--exclude` only
  `.git/`, so tests count too) and a requirements file naming nothing, so it
  judges every import as A9 does. On Django, deptry stops with "A distribution
  name is required" on two files whose `import_module()` it reads as an empty
  name (django/core/management/commands/flush.py and migrate.py); they are
  left out of deptry's run, 2 of Django's 2,800 Python files.

Each figure is the median of RUNS runs, wall clock and CPU (user + sys of the
child and its workers), the two tools interleaved so that both see the same
load. The ratio is A9 wall / deptry wall. On a shared machine whose speed
drifts within a minute, two more estimates are printed: the median of each
interleaved pair's ratio (a pair sees the same load), and the best A9 run over
the best deptry run (the least disturbed run of each, as `timeit` reports).

Also measured, interleaved with the two: the floor. A9 must judge every file
with the running Python's own parser (spec §4), so no A9 can be faster than
CPython's symbol-table pass over the same files, spread over every core by a
process pool with nothing else to do (`python -c` reading the files from disk,
`symtable.symtable` on each). "floor / deptry" is what that costs against
deptry; "A9 / floor" is what A9 adds on top of it.
"""

from __future__ import annotations

import os
import pathlib
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work"
RUNS = int(os.environ.get("RUNS", "3"))
ONLY_A9 = (
    "checks:\n"
    + "".join(
        f"  {c}: {{severity: off}}\n"
        for c in ("A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "W1", "W2", "W3")
    )
    + 'paths_ignore: ["*.js", "*.jsx", "*.mjs", "*.cjs", "*.ts", "*.tsx", "*.mts", "*.cts"]\n'
)
DEPTRY_SKIPS = {"django-repo": ["django/core/management/commands/(flush|migrate)\\.py"]}
ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def django_repo() -> pathlib.Path:
    """bench/.work/django-repo: Django's sdist in one commit (downloaded with pip when missing)."""
    repo = WORK / "django-repo"
    if repo.exists():
        return repo
    found = sorted(WORK.glob("django-*.tar.gz"))
    if not found:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "django",
            "-d",
            str(WORK),
        ]
        subprocess.run(cmd, check=True)
        found = sorted(WORK.glob("django-*.tar.gz"))
    with tempfile.TemporaryDirectory(dir=WORK) as tmp, tarfile.open(found[-1]) as archive:
        archive.extractall(tmp, filter="data")
        shutil.move(str(next(pathlib.Path(tmp).iterdir())), repo)
    env = {**os.environ, **ENV}
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A", "-f"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "django sdist"], cwd=repo, check=True, env=env)
    return repo


def timed(cmd: list[str], env: dict[str, str], cwd: pathlib.Path) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def a9(repo: pathlib.Path, config: pathlib.Path) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as cold:
        env = {**os.environ, "FORGEGUARD_CACHE_DIR": cold, "PYTHONPATH": str(ROOT)}
        cmd = [
            sys.executable,
            "-m",
            "checks",
            str(repo),
            "--full",
            "--format",
            "json",
            "--config",
            str(config),
        ]
        return timed(cmd, env, ROOT)


def deptry(repo: pathlib.Path, requirements: pathlib.Path) -> tuple[float, float]:
    exe = pathlib.Path(sys.executable).with_name("deptry")
    cmd = [str(exe), ".", "--no-ansi", "--requirements-files", str(requirements), "--exclude", r"(^|/)\.git/"]
    for skip in DEPTRY_SKIPS.get(repo.name, []):
        cmd += ["--extend-exclude", skip]
    return timed(cmd, dict(os.environ), repo)


FLOOR = textwrap.dedent(
    """
    import concurrent.futures, os, subprocess, symtable, sys, warnings

    def judge(paths):
        warnings.simplefilter("ignore")
        for path in paths:
            with open(path, "rb") as f:
                data = f.read()
            try:
                symtable.symtable(data, path, "exec")
            except (SyntaxError, ValueError, RecursionError):
                pass

    if __name__ == "__main__":
        out = subprocess.run(["git", "ls-files", "-z", "*.py"], capture_output=True, check=True).stdout
        paths = [p for p in out.decode().split("\\0") if p]
        cores = len(os.sched_getaffinity(0))
        with concurrent.futures.ProcessPoolExecutor(cores) as pool:
            list(pool.map(judge, [paths[i::cores * 8] for i in range(cores * 8)]))
    """
)
"""CPython's parser and symbol table over the repository's Python files on every core, nothing else."""


def floor(repo: pathlib.Path) -> tuple[float, float]:
    return timed([sys.executable, "-c", FLOOR], dict(os.environ), repo)


def compiled() -> None:
    """Byte-compile the engine as `pip install` does: with PYTHONDONTWRITEBYTECODE set (as on this
    machine) an editable checkout would otherwise compile its modules from source on every run,
    which deptry, installed with its bytecode, never does."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "checks")], check=True)


def main() -> None:
    compiled()
    repos = [WORK / "sympy-repo", django_repo()]
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}; median of {RUNS} runs")
    with tempfile.TemporaryDirectory() as tmp:
        config = pathlib.Path(tmp) / "only-a9.yml"
        config.write_text(ONLY_A9, encoding="utf-8")
        requirements = pathlib.Path(tmp) / "requirements.txt"
        requirements.write_text("", encoding="utf-8")
        for repo in repos:
            ours: list[tuple[float, float]] = []
            theirs: list[tuple[float, float]] = []
            floors: list[tuple[float, float]] = []
            for _ in range(RUNS):
                ours.append(a9(repo, config))
                theirs.append(deptry(repo, requirements))
                floors.append(floor(repo))
            a_wall, a_cpu = (statistics.median(x) for x in zip(*ours, strict=True))
            d_wall, d_cpu = (statistics.median(x) for x in zip(*theirs, strict=True))
            paired = statistics.median(a[0] / d[0] for a, d in zip(ours, theirs, strict=True))
            best = min(a[0] for a in ours) / min(d[0] for d in theirs)
            f_wall, f_cpu = (statistics.median(x) for x in zip(*floors, strict=True))
            print(
                f"{repo.name}: A9 {a_wall:.2f} s wall, {a_cpu:.2f} s CPU; deptry {d_wall:.2f} s wall, "
                f"{d_cpu:.2f} s CPU; ratio A9 / deptry = {a_wall / d_wall:.2f} wall, "
                f"{a_cpu / d_cpu:.2f} CPU; median of paired runs' ratios {paired:.2f}; "
                f"best run / best run {best:.2f}"
            )
            print(
                f"  floor (CPython's symbol table alone, all cores): {f_wall:.2f} s wall, {f_cpu:.2f} s CPU; "
                f"floor / deptry {f_wall / d_wall:.2f}; A9 / floor {a_wall / f_wall:.2f}"
            )


if __name__ == "__main__":
    main()
