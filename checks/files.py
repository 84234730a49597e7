"""Which files of a change or of head a check looks at."""

from __future__ import annotations

from collections.abc import Callable

from checks.context import AuditContext


def head_paths(ctx: AuditContext, keep: Callable[[str], bool]) -> list[str]:
    """Every path at head that `keep` accepts (for `--full`; the engine's head already leaves out
    `paths_ignore`)."""
    return [p for p in ctx.head.paths() if keep(p)]


def changed_paths(ctx: AuditContext, keep: Callable[[str], bool]) -> list[str]:
    """Paths added or modified by the change (renamed and copied files included: they have new content)."""
    return [f.path for f in ctx.change.files if f.status != "removed" and keep(f.path)]


def selected_paths(ctx: AuditContext, keep: Callable[[str], bool]) -> list[str]:
    """The changed paths, or with `--full` every path at head, that `keep` accepts."""
    return head_paths(ctx, keep) if ctx.full else changed_paths(ctx, keep)
