"""A context builder over `checks.memory_source`, for fast unit tests of checks.

`make_ctx(head={...}, base={...})` diffs the two file maps the way git would
(added/modified/removed, added lines with their numbers at head) and returns
the AuditContext a check is given.
"""

from __future__ import annotations

import pathspec

from checks.config import AuditConfig
from checks.context import AnalysisCache, AuditContext
from checks.engine import IgnoringSnapshot
from checks.memory_source import Files, MemorySnapshot, MemorySource
from checks.source import Snapshot

MemSnapshot = MemorySnapshot
__all__ = ["Files", "MemSnapshot", "make_ctx"]


def make_ctx(
    head: Files,
    base: Files | None = None,
    *,
    full: bool = False,
    governance_dir: str | None = "auto",
    cache: AnalysisCache | None = None,
    config: AuditConfig | None = None,
) -> AuditContext:
    """The context a check gets for the change base → head (base defaults to no files).

    governance_dir "auto" finds `Forge/` (or a root `Contracts/`) as the spec says.
    """
    config = config or AuditConfig()
    source = MemorySource(head, base, head_commit="head", base_commit="base")
    change = source.change("base", "head")
    # as the engine does: checks that list every file never see paths_ignore
    head_snapshot: Snapshot = source.head
    if config.paths_ignore:
        head_snapshot = IgnoringSnapshot(
            source.head, pathspec.GitIgnoreSpec.from_lines(config.paths_ignore).match_file
        )
    if governance_dir == "auto":
        if any(p.startswith(("Forge/Contracts/", "Forge/evidence/")) for p in head):
            governance_dir = "Forge"
        elif any(p.startswith("Contracts/") for p in head):
            governance_dir = ""
        else:
            governance_dir = None
    return AuditContext(
        source=source,
        change=change,
        head=head_snapshot,
        base=source.base if base else None,
        config=config,
        governance_dir=governance_dir,
        full=full,
        cache=cache,
    )
