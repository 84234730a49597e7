"""`forgeguard audit` / `python -m checks`: the checks on a local repository (spec §5).

Exit codes: 0 the audit passed, 1 it failed, 2 it could not run (not a git
repository, an unknown commit, an unreadable `--config`), with one line on
stderr saying why.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from checks import governance, ledger, render
from checks.config import AuditConfig
from checks.config_file import CONFIG_PATH, load_config_file, parse_config
from checks.context import AnalysisCache
from checks.difflog import split_claimed
from checks.engine import run_audit
from checks.gitsource import GitError, GitSource
from checks.source import EMPTY_TREE, WORKING_TREE, Change

FORMATS: dict[str, Callable[..., str]] = {
    "console": render.console,
    "json": render.to_json,
    "markdown": render.markdown,
}


WHOLE_HISTORY = (
    "forgeguard: HEAD is on the default branch (or there is no other branch), so this audits the whole "
    "history, from the empty tree to HEAD; --base HEAD~1 audits the last commit, --working-tree the "
    "uncommitted changes."
)


class CannotRun(Exception):
    """The audit cannot run at all (exit 2)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="forgeguard audit",
        description="Audit a change of a git repository with ForgeGuard's A1–A9 and W1–W3 checks.",
    )
    parser.add_argument("path", nargs="?", default=".", help="the repository (default: the current folder)")
    parser.add_argument("--base", help="base revision (default: the merge base with the default branch)")
    parser.add_argument("--head", help="head revision (default: HEAD)")
    parser.add_argument(
        "--working-tree",
        action="store_true",
        help="audit the uncommitted changes of tracked files (staged and unstaged) against HEAD",
    )
    parser.add_argument("--full", action="store_true", help="check every file, not only the changed ones")
    parser.add_argument("--format", choices=tuple(FORMATS), default="console", help="output format")
    parser.add_argument("--phase", help="the phase to report (default: the first 'Phase N' in the diff log)")
    parser.add_argument("--claimed-files", help="comma-separated paths replacing the diff log's claims")
    parser.add_argument("--config", help=f"configuration file (default: {CONFIG_PATH} in PATH)")
    parser.add_argument("--ledger", action="store_true", help="append an entry to the audit ledger")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.working_tree and (args.base or args.head):
        parser.error("--working-tree audits the working tree against HEAD; it takes no --base or --head")
    try:
        return _audit(args)
    except (CannotRun, GitError) as exc:
        print(f"forgeguard: {exc}", file=sys.stderr)
        return 2


def _audit(args: argparse.Namespace) -> int:
    if not os.path.isdir(args.path):
        raise CannotRun(f"{args.path} is not a folder")
    with GitSource(args.path) as source:
        config = _config(args.config, source.path)
        change, explicit_base = _change(source, args)
        if args.ledger:
            _ledger_path(source, change, config)  # refuses before auditing when there is no governance
        if not explicit_base and change.base == EMPTY_TREE:
            print(WHOLE_HISTORY, file=sys.stderr)
        claimed = split_claimed(args.claimed_files) if args.claimed_files is not None else None
        cache = _cache(source.path)
        try:
            report = run_audit(
                source,
                change,
                config,
                full=args.full,
                claimed_override=claimed,
                phase=args.phase,
                cache=cache,
                diff_log_base=not explicit_base,
            )
        finally:
            close = getattr(cache, "close", None)
            if callable(close):
                close()
        sys.stdout.write(FORMATS[args.format](report))
        if args.ledger:
            path = _ledger_path(source, change, config)
            iteration = ledger.append_entry(path, report, change.paths())
            print(f"forgeguard: ledger entry (iteration {iteration}) appended to {path}", file=sys.stderr)
    return 1 if report.overall == "fail" else 0


def _config(explicit: str | None, root: str) -> AuditConfig:
    if explicit is not None:
        try:
            return load_config_file(explicit)
        except OSError as exc:
            raise CannotRun(f"cannot read the configuration {explicit}: {exc.strerror or exc}") from exc
    path = os.path.join(root, *CONFIG_PATH.split("/"))
    try:
        with open(path, "rb") as handle:
            return parse_config(handle.read(), CONFIG_PATH)
    except FileNotFoundError:
        return AuditConfig()
    except OSError as exc:
        config = AuditConfig()
        config.errors.append(f"{CONFIG_PATH} could not be read ({exc.strerror or exc}); the defaults apply")
        return config


def _change(source: GitSource, args: argparse.Namespace) -> tuple[Change, bool]:
    """The audited change, and whether its base was named explicitly."""
    if args.working_tree:
        if source.resolve("HEAD") is None:
            raise CannotRun("the repository has no commits yet, so there is no HEAD to compare with")
        return source.working_tree_change(), True
    head_rev = args.head or "HEAD"
    head = source.resolve(head_rev)
    if head is None:
        if head_rev == "HEAD":
            raise CannotRun("the repository has no commits yet; commit something to audit it")
        raise CannotRun(f"unknown commit '{head_rev}'")
    if args.base is not None:
        base = source.resolve(args.base)
        if base is None:
            raise CannotRun(f"unknown commit '{args.base}'")
        return source.change(base, head), True
    return source.change(default_base(source, head), head), False


def default_base(source: GitSource, head: str) -> str:
    """The default branch (`origin/HEAD`, else `main`, else `master`) to compare `head` with.

    The empty tree when head is already on that branch, or when the repository
    has only one branch, so that a one-branch repository audits its whole history.
    """
    branches = [
        line
        for line in source.git("for-each-ref", "--format=%(refname)", "refs/heads/").decode().split("\n")
        if line
    ]
    candidates: list[str] = []
    origin_head = source.git("symbolic-ref", "-q", "refs/remotes/origin/HEAD", ok=(0, 1)).decode().strip()
    if origin_head:
        candidates.append(origin_head)
    candidates += ["refs/heads/main", "refs/heads/master"]
    for candidate in candidates:
        tip = source.resolve(candidate)
        if tip is None:
            continue
        if source.is_ancestor(head, tip):
            return EMPTY_TREE
        return tip
    if len(branches) <= 1:
        return EMPTY_TREE
    raise CannotRun("cannot find the default branch (origin/HEAD, main or master); pass --base")


def _ledger_path(source: GitSource, change: Change, config: AuditConfig) -> str:
    """Where the ledger entry goes; CannotRun on a repository without a governance folder."""
    head = source.snapshot(WORKING_TREE if change.working_tree else change.head)
    folder = governance.detect(head.paths(), config.governance_dir)
    if folder is None:
        raise CannotRun(
            f"--ledger needs a governance folder ({config.governance_dir or '.'}/Contracts/ or "
            f"{config.governance_dir or '.'}/evidence/), and this repository has none; nothing was written"
        )
    rel = f"{folder}/{governance.LEDGER}" if folder else governance.LEDGER
    return os.path.join(source.path, *rel.split("/"))


def _cache(repo_path: str) -> AnalysisCache | None:
    try:
        from checks.cache import open_default_cache
    except ImportError:  # a Python built without sqlite3
        return None
    return open_default_cache(repo_path)
