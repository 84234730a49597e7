"""Helpers for tests that audit real git repositories through the real engine (GitSource).

`governed(...)` gives the files of a Forge-governed repository whose evidence
passes every governance check; tests change one thing and look at one check.
`audit_check(...)` runs one check as `forgeguard audit` would report it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from checks.cache import MemoryCache
from checks.config import AuditConfig
from checks.engine import run_audit
from checks.gitsource import GitSource
from checks.model import AuditReport, CheckResult
from checks.source import EMPTY_TREE, Change, CommitInfo, Snapshot
from tests.fixtures.gitrepo import GitRepo

NOW = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)
DIFFLOG = "Forge/evidence/updatedifflog.md"
TEST_RUNS = "Forge/evidence/test_runs_latest.md"
LEDGER = "Forge/evidence/audit_ledger.md"

VERIFICATION = """\
- Static: ruff and mypy clean.
- Runtime: the app starts and answers /health.
- Behavior: pytest 42 passed.
- Contract: boundaries.json and physics.yaml respected.
"""


def difflog(
    claimed: Sequence[str] = (),
    *,
    verification: str = VERIFICATION,
    base_head: str | None = None,
    phase: str = "Phase 3 -- Audit Engine",
    extra_header: str = "",
) -> str:
    """A complete diff log claiming `claimed`."""
    bullets = "\n".join(f"- {path}" for path in claimed) or "- (none)"
    metadata = f"- BASE_HEAD: {base_head}\n" if base_head else ""
    return (
        f"# Diff Log -- {phase}\n\n"
        f"## Cycle Metadata\n{metadata}- Branch: main\n\n"
        "## Cycle Status\n- Status: COMPLETE\n\n"
        f"## Summary\nThe cycle's work.\n{extra_header}\n"
        f"## Files Changed\n{bullets}\n\n"
        f"## Verification\n{verification}\n"
        "## Minimal Diff Hunks\n(none)\n"
    )


def governed(claimed: Sequence[str] = (), **files: str) -> dict[str, str | bytes]:
    """Evidence that passes A1–A8 and W2 for a change of exactly `claimed` plus the evidence."""
    result: dict[str, str | bytes] = {
        DIFFLOG: difflog(claimed),
        TEST_RUNS: "Status: PASS\n\n42 passed\n",
        LEDGER: "# Audit Ledger\n",
    }
    result.update(files)
    return result


def audit(
    repo: GitRepo,
    base: str = EMPTY_TREE,
    head: str = "HEAD",
    config: AuditConfig | None = None,
    **options: Any,
) -> AuditReport:
    """Run the whole audit on `base...head` of `repo`."""
    with GitSource(repo.path) as source:
        change = source.change(base, head)
        return run_audit(source, change, config or AuditConfig(), now=NOW, **options)


def audit_check(repo: GitRepo, code: str, base: str, head: str, *, full: bool = False) -> CheckResult:
    """The result of check `code` for `base...head`, as `forgeguard audit` would report it."""
    with GitSource(repo.path) as source:
        report = run_audit(source, source.change(base, head), AuditConfig(), full=full, cache=MemoryCache())
    return next(r for r in report.results if r.code == code)


def result(report: AuditReport, code: str) -> CheckResult:
    return next(r for r in report.results if r.code == code)


def check(repo: GitRepo, code: str, base: str = EMPTY_TREE, **options: Any) -> CheckResult:
    """The one result `code` of auditing `base...HEAD`."""
    return result(audit(repo, base, **options), code)


class _BrokenSnapshot:
    """A snapshot that lists files but cannot read them."""

    def __init__(self, inner: Snapshot) -> None:
        self._inner = inner

    @property
    def commit(self) -> str:
        return self._inner.commit

    def paths(self) -> Sequence[str]:
        return self._inner.paths()

    def exists(self, path: str) -> bool:
        return self._inner.exists(path)

    def read(self, path: str) -> bytes | None:
        raise OSError(f"disk error reading {path}\nsecond line of the error")

    def size(self, path: str) -> int | None:
        return self._inner.size(path)

    def blob_id(self, path: str) -> str | None:
        return self._inner.blob_id(path)

    def prefetch(self, paths: Iterable[str]) -> None:
        """Nothing is fetched ahead."""


class BrokenReadsSource:
    """A GitSource whose snapshots raise on every read: a check's own failure."""

    def __init__(self, inner: GitSource) -> None:
        self._inner = inner

    def resolve(self, rev: str) -> str | None:
        return self._inner.resolve(rev)

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return self._inner.is_ancestor(ancestor, descendant)

    def snapshot(self, rev: str) -> Snapshot:
        return _BrokenSnapshot(self._inner.snapshot(rev))

    def change(self, base: str, head: str) -> Change:
        return self._inner.change(base, head)

    def commits_between(self, base: str, head: str) -> list[CommitInfo]:
        raise OSError("history unavailable")


def check_with_broken_reads(repo: GitRepo, code: str) -> CheckResult:
    """The result of `code` when every file read (and the history) raises."""
    with GitSource(repo.path) as source:
        change = source.change(EMPTY_TREE, "HEAD")
        report = run_audit(BrokenReadsSource(source), change, AuditConfig(), now=NOW)
    return result(report, code)
