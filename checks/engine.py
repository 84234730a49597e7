"""Running the twelve checks on one change: `run_audit`.

The engine applies `paths_ignore`, finds the governance folder, lets the
checks with heavy per-file work start it on the audit's process pool
(`prepare`), asks every check which files it will read and prefetches them
in one batch, reads the diff log once for the scope change and the phase, then runs
each check in isolation: whatever goes wrong inside one check (its module
failing to import included) becomes that check's `error`, and the others
still run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

import pathspec

from checks import governance, pool
from checks.config import AuditConfig
from checks.context import AnalysisCache, AuditContext, Verdict
from checks.difflog import DiffLog
from checks.model import AuditReport, CheckResult, Finding, Level
from checks.redaction import redact_report
from checks.registry import CHECKS, CheckModule, CheckSpec, Prepares
from checks.source import EMPTY_TREE, WORKING_TREE, Change, Snapshot, Source

OFF_DETAIL = "turned off in configuration"


def run_audit(
    source: Source,
    change: Change,
    config: AuditConfig,
    *,
    full: bool = False,
    claimed_override: list[str] | None = None,
    phase: str | None = None,
    cache: AnalysisCache | None = None,
    now: datetime | None = None,
    diff_log_base: bool = True,
) -> AuditReport:
    """Audit `change`. `diff_log_base=False` (an explicit base) ignores the diff log's BASE_HEAD."""
    config_errors = list(config.errors)
    ignore = _ignore_spec(config.paths_ignore, config_errors)
    audited = _without_ignored(change, ignore)
    snapshot = source.snapshot(WORKING_TREE if change.working_tree else change.head)
    base = _base_snapshot(source, change)
    governance_dir = governance.detect(snapshot.paths(), config.governance_dir)
    head: Snapshot = snapshot if ignore is None else IgnoringSnapshot(snapshot, ignore)
    ctx = AuditContext(
        source=source,
        change=audited,
        head=head,
        base=base,
        config=config,
        governance_dir=governance_dir,
        full=full,
        claimed_override=claimed_override,
        cache=cache,
    )

    modules: dict[str, CheckModule] = {}
    load_errors: dict[str, str] = {}
    for spec in CHECKS:
        if _skip_reason(spec, ctx) is not None:
            continue
        try:
            modules[spec.code] = spec.load()
        except Exception as exc:
            load_errors[spec.code] = _one_line(exc, spec)

    ctx.workers = pool.Workers()
    try:
        # Heavy work starts first, on the pool, and each check collects its own when it runs; a
        # large one reads its files itself, streaming them to the pool as they come.
        for module in modules.values():
            if isinstance(module, Prepares):
                with contextlib.suppress(Exception):
                    module.prepare(ctx)
        wanted: set[str] = set(governance.difflog_candidates(ctx)) if ctx.governed else set()
        for spec in CHECKS:
            if spec.code in modules:
                try:
                    wanted.update(modules[spec.code].wants(ctx))
                except Exception as exc:
                    load_errors[spec.code] = _one_line(exc, spec)
                    del modules[spec.code]
        # Prefetching is a hint: when it fails, each check reads (and reports) for itself.
        with contextlib.suppress(Exception):
            head.prefetch(sorted(wanted))

        difflog = _difflog(ctx)
        if diff_log_base and not change.working_tree and difflog is not None and difflog.base_head:
            ctx.scope_change = _scope_change(source, difflog.base_head, change.head, ignore)

        results: list[CheckResult] = []
        for spec in CHECKS:
            results.append(_result(spec, ctx, modules.get(spec.code), load_errors.get(spec.code)))
    finally:
        ctx.workers.close()
        ctx.workers = None

    if claimed_override is not None:
        claimed = list(claimed_override)
    else:
        claimed = difflog.claimed if difflog is not None else []
    # Redacted before it leaves the engine: checks other than W1 quote repository text.
    return redact_report(
        AuditReport(
            base=change.base,
            head=WORKING_TREE if change.working_tree else change.head,
            files=len(audited.files),
            phase=phase or (difflog.phase if difflog is not None else None) or "unknown",
            claimed_files=claimed,
            results=results,
            governed=ctx.governed,
            config_errors=config_errors,
            timestamp=(now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
    )


class IgnoringSnapshot:
    """A snapshot whose listing leaves out `paths_ignore`, so checks that scan every file skip them.

    Reading a named file still works: contracts and evidence are read by name.
    """

    def __init__(self, inner: Snapshot, ignore: Ignored) -> None:
        self._inner = inner
        self._ignore = ignore
        self._paths: list[str] | None = None

    @property
    def commit(self) -> str:
        return self._inner.commit

    def paths(self) -> Sequence[str]:
        if self._paths is None:
            self._paths = [p for p in self._inner.paths() if not self._ignore(p)]
        return self._paths

    def exists(self, path: str) -> bool:
        return self._inner.exists(path)

    def read(self, path: str) -> bytes | None:
        return self._inner.read(path)

    def size(self, path: str) -> int | None:
        return self._inner.size(path)

    def blob_id(self, path: str) -> str | None:
        return self._inner.blob_id(path)

    def prefetch(self, paths: Iterable[str]) -> None:
        self._inner.prefetch(paths)


def _result(
    spec: CheckSpec, ctx: AuditContext, module: CheckModule | None, load_error: str | None
) -> CheckResult:
    severity = ctx.config.severity(spec.code, governed=ctx.governed)
    reason = _skip_reason(spec, ctx)
    if reason is not None:
        return CheckResult(spec.code, spec.name, severity, "skip", reason)
    if load_error is not None or module is None:
        return CheckResult(spec.code, spec.name, severity, "error", load_error or "the check did not load")
    try:
        verdict = module.run(ctx)
        if not isinstance(verdict, Verdict):
            raise TypeError(f"run() returned {type(verdict).__name__}, not a Verdict")
    except Exception as exc:
        return CheckResult(spec.code, spec.name, severity, "error", _one_line(exc, spec))
    outcome = verdict.outcome
    findings = list(verdict.findings)
    # The findings' level follows the outcome, so annotations say what the check run concluded.
    if severity == "warning" and outcome == "fail":
        outcome = "warn"
        findings = [_relevel(f, "failure", "warning") for f in findings]
    elif severity == "blocking" and spec.code.startswith("W") and outcome == "warn":
        outcome = "fail"
        findings = [_relevel(f, "warning", "failure") for f in findings]
    return CheckResult(spec.code, spec.name, severity, outcome, verdict.detail, findings)


def _relevel(finding: Finding, old: Level, new: Level) -> Finding:
    return dataclasses.replace(finding, level=new) if finding.level == old else finding


def _difflog(ctx: AuditContext) -> DiffLog | None:
    """The diff log for the scope change and the phase; None when absent or unreadable.

    A diff log that cannot be read is reported by the checks that need it, not here.
    """
    if not ctx.governed:
        return None
    try:
        loaded = governance.load_difflog(ctx)
    except Exception:
        return None
    return loaded[1] if loaded else None


def _skip_reason(spec: CheckSpec, ctx: AuditContext) -> str | None:
    if ctx.config.severity(spec.code) == "off":
        return OFF_DETAIL
    if spec.governance and not ctx.governed:
        return governance.NOT_GOVERNED
    return None


def _one_line(exc: BaseException, spec: CheckSpec) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, ImportError):
        message = f"the {spec.code} check could not be loaded ({text})"
    else:
        message = f"the {spec.code} check broke: {type(exc).__name__}: {text}"
    return message if len(message) <= 300 else message[:297] + "..."


Ignored = Callable[[str], bool]
"""Whether `paths_ignore` leaves a path out (each path matched once per audit)."""


def _ignore_spec(patterns: list[str], errors: list[str]) -> Ignored | None:
    if not patterns:
        return None
    valid: list[str] = []
    for pattern in patterns:
        try:
            pathspec.GitIgnoreSpec.from_lines([pattern])
        except Exception as exc:
            errors.append(f"paths_ignore pattern {pattern!r} is not valid ({exc}); ignored")
            continue
        valid.append(pattern)
    if not valid:
        return None
    # the whole history's change and head list the same paths: each is matched once
    return functools.cache(pathspec.GitIgnoreSpec.from_lines(valid).match_file)


def _without_ignored(change: Change, ignore: Ignored | None) -> Change:
    if ignore is None:
        return change
    files = [f for f in change.files if not ignore(f.path)]
    return dataclasses.replace(change, files=files)


def _base_snapshot(source: Source, change: Change) -> Snapshot | None:
    base = change.merge_base or change.base
    if base == EMPTY_TREE:
        return None
    return source.snapshot(base)


def _scope_change(source: Source, base_head: str, head: str, ignore: Ignored | None) -> Change | None:
    """`BASE_HEAD...head` when BASE_HEAD names an ancestor of head; else None (A1/A2 use the change)."""
    resolved = source.resolve(base_head)
    if resolved is None or resolved == EMPTY_TREE or not source.is_ancestor(resolved, head):
        return None
    return _without_ignored(source.change(resolved, head), ignore)
