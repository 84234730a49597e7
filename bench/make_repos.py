"""Build the benchmark repositories under bench/.work/ from sympy's sdist.

- bench/.work/sympy-repo: every file of the sdist in one commit on `main`,
  then a second commit that changes 10 Python files (the "10-file change").
- bench/.work/small-repo: just those 10 files, with the same two commits.

Run: .venv/bin/python bench/make_repos.py   (downloads the sdist with pip if missing)
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import tarfile

WORK = pathlib.Path(__file__).resolve().parent / ".work"
ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}
CHANGED = 10


def git(repo: pathlib.Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=repo, env=ENV, check=True, capture_output=True)
    return out.stdout.decode().strip()


def sdist() -> pathlib.Path:
    found = sorted(WORK.glob("sympy-*.tar.gz"))
    if not found:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                "sympy",
                "-d",
                str(WORK),
            ],
            check=True,
        )
        found = sorted(WORK.glob("sympy-*.tar.gz"))
    return found[-1]


def init(repo: pathlib.Path) -> None:
    if repo.exists():
        shutil.rmtree(repo)
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")


def commit(repo: pathlib.Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def change(repo: pathlib.Path, files: list[str]) -> None:
    """The 10-file change: a new function at the end of each file."""
    for i, rel in enumerate(files):
        with open(repo / rel, "a", encoding="utf-8") as handle:
            handle.write(f"\n\ndef _bench_added_{i}(x):\n    import math\n    return math.sqrt(x) + {i}\n")
    commit(repo, "bench: change 10 files")


def main() -> None:
    WORK.mkdir(exist_ok=True)
    archive = sdist()
    big = WORK / "sympy-repo"
    init(big)
    with tarfile.open(archive) as tar:
        root = tar.getnames()[0].split("/")[0]
        tar.extractall(WORK, filter="data")
    shutil.copytree(WORK / root, big, dirs_exist_ok=True)
    commit(big, "sympy sdist")
    files = sorted(p.relative_to(big).as_posix() for p in (big / "sympy" / "core").glob("*.py"))[:CHANGED]

    small = WORK / "small-repo"
    init(small)
    for rel in files:
        (small / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(big / rel, small / rel)
    commit(small, "ten files")

    change(big, files)
    change(small, files)
    count = len(git(big, "ls-files").splitlines())
    print(f"{big}: {count} files; {small}: {len(files)} files; both with a {len(files)}-file change at HEAD")


if __name__ == "__main__":
    main()
