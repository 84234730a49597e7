"""Our own audit engine run on contracts before they are committed: an in-memory one-commit repository.

The contracts pull request adds files to a repository; here those files are
the whole repository (base: git's empty tree), and `checks.engine.run_audit`
runs on it exactly as it will on the pull request. A4 and W3 must accept
`boundaries.json` and `physics.yaml` (no `error`, no boundary failure), and no
blocking check may fail, so a freshly opened contracts pull request passes its
own audit.
"""

from __future__ import annotations

from collections.abc import Mapping

from checks.config import AuditConfig
from checks.engine import run_audit
from checks.memory_source import MemorySource
from checks.model import AuditReport


def audit_files(files: Mapping[str, str]) -> AuditReport:
    """The engine's report on a repository made of exactly `files`."""
    source = MemorySource(files, message="Forge contracts")
    return run_audit(source, source.change(source.base.commit, source.head.commit), AuditConfig(), full=True)


def engine_problems(files: Mapping[str, str]) -> list[str]:
    """What our own engine objects to in the contracts (empty when the audit passes)."""
    report = audit_files(files)
    problems = []
    for result in report.results:
        if result.outcome == "error" or (result.code in ("A4", "W3") and result.outcome == "fail"):
            problems.append(f"{result.code} {result.name} cannot use the contracts: {result.detail}")
        elif result.blocks:
            problems.append(f"{result.code} {result.name} fails on the contracts: {result.detail}")
    return problems
