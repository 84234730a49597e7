"""W1 No secrets in diff: gitleaks' rules over the added lines of the change.

Each file's added lines are scanned as one fragment. Lock, minified, binary,
large and vendored files are skipped; findings in test files are notices. A value is
only ever shown redacted, in messages and in the cache alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from checks import pool
from checks.added_lines import text_of
from checks.context import AuditContext, Verdict
from checks.model import Finding, Level
from checks.secrets_rules import RuleSet, default_rules, redact
from checks.source import ChangedFile
from checks.vendored import is_vendored

CODE = "W1"
NAME = "No secrets in diff"

MAX_BYTES = 1024 * 1024
CACHE_KIND = "w1-secrets/1"
PARALLEL_BYTES = 4 * 1024 * 1024
"""Below this many bytes of added lines, sending them to the process pool costs more than it saves."""
ALLOW_MARKER = re.compile(r"forgeguard:\s*allow-secret\b")
LOCK_FILES = frozenset(
    {
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lockb",
        "deno.lock",
        "poetry.lock",
        "Pipfile.lock",
        "uv.lock",
        "pdm.lock",
        "Cargo.lock",
        "Gemfile.lock",
        "composer.lock",
        "go.sum",
        "packages.lock.json",
        "flake.lock",
        "mix.lock",
        "pubspec.lock",
        "Podfile.lock",
    }
)
_MINIFIED = re.compile(r"[.-]min\.(?:js|mjs|cjs|css)$|\.(?:js|css)\.map$")
_TEST_FILE = re.compile(
    r"(?:^|/)(?:tests?|__tests__|testing|spec|specs|fixtures)/"
    r"|(?:^|/)test_[^/]*\.py$|_test\.(?:py|go|rb|exs?)$|(?:^|/)conftest\.py$"
    r"|\.(?:test|spec)\.(?:[cm]?[jt]sx?)$|_spec\.rb$|Tests?\.(?:java|kt|cs|swift)$"
)
SHOW = 3


def is_test_file(path: str) -> bool:
    return bool(_TEST_FILE.search(path))


def skip_reason(path: str, changed: ChangedFile, size: int | None) -> str | None:
    """Why a file's added lines are not scanned, or None."""
    name = path.rsplit("/", 1)[-1]
    if name in LOCK_FILES or name.endswith(".lock"):
        return "lock file"
    if _MINIFIED.search(name):
        return "minified"
    if changed.binary:
        return "binary"
    if size is not None and size > MAX_BYTES:
        return "over 1 MB"
    if any(len(text) > 5000 for _, text in changed.added_lines[:50]):
        return "minified"
    return None


def wants(ctx: AuditContext) -> Iterable[str]:
    """Nothing: W1 reads only the change's added lines, never a file of head."""
    return ()


Found = list[tuple[str, int, str]]
"""(rule, line, redacted value) of each secret in one file."""


def _scan_text(rules: RuleSet, path: str, text: str) -> Found:
    """(rule, index of the added line, redacted value) for each secret in a file's added lines."""
    lines = text.split("\n")
    out: Found = []
    for match in rules.scan(path, text):
        if ALLOW_MARKER.search(lines[match.line]):
            continue
        out.append((match.rule, match.line, redact(match.secret)))
    return out


def _scan_batch(items: list[tuple[str, str]]) -> tuple[list[Found], list[str]]:
    """Run in a pool worker: each file's secrets, and the rules found broken on the way."""
    rules = default_rules()
    return [_scan_text(rules, path, text) for path, text in items], list(rules.problems)


def _cached(value: object) -> Found | None:
    if not isinstance(value, list):
        return None
    out: Found = []
    for item in value:
        if not (isinstance(item, list) and len(item) == 3):
            return None
        rule, line, shown = item
        if not (isinstance(rule, str) and isinstance(line, int) and isinstance(shown, str)):
            return None
        out.append((rule, line, shown))
    return out


def _start_scan(ctx: AuditContext, rules: RuleSet, files: list[ChangedFile]) -> Callable[[], list[Found]]:
    """Start scanning the files (on the audit's pool when there is one and they are many); the
    function returned gives each file's secrets as (rule, line at head, redacted value). Wholly
    added files are cached per blob."""
    results: list[Found | None] = [None] * len(files)
    keys: list[tuple[str, str] | None] = [None] * len(files)
    todo: list[int] = []
    for i, changed in enumerate(files):
        # A wholly added file's findings depend only on its path and content: cacheable by blob.
        blob = ctx.head.blob_id(changed.path) if changed.status == "added" and ctx.cache is not None else None
        if blob is not None and ctx.cache is not None:
            kind = f"{CACHE_KIND}:{rules.digest}:{changed.path}"
            keys[i] = (kind, blob)
            hit = _cached(ctx.cache.get(kind, blob))
            if hit is not None:
                results[i] = hit
                continue
        todo.append(i)
    texts = [text_of(files[i].added_lines) for i in todo]
    total = sum(len(t) for t in texts)
    parallel = total >= PARALLEL_BYTES
    batches = pool.split(list(range(len(todo))), [len(t) for t in texts], pool.cpu_count() * 4)
    items = [[(files[todo[j]].path, texts[j]) for j in b] for b in batches]
    pending = pool.start(_scan_batch, items, parallel=parallel, workers=ctx.workers)

    def finish() -> list[Found]:
        for batch, (found, problems) in zip(batches, pending.results(), strict=True):
            rules.problems.extend(p for p in problems if p not in rules.problems)
            for j, per_file in zip(batch, found, strict=True):
                i = todo[j]
                numbers = files[i].added_lines
                results[i] = [(rule, numbers[index][0], shown) for rule, index, shown in per_file]
                key = keys[i]
                if key is not None and ctx.cache is not None:
                    ctx.cache.put(key[0], key[1], [list(f) for f in results[i] or []])
        return [r or [] for r in results]

    return finish


@dataclass
class _Plan:
    """What W1 scans, and what it reports without scanning."""

    to_scan: list[ChangedFile] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    scanned_lines: int = 0


def _plan(ctx: AuditContext, rules: RuleSet) -> _Plan:
    plan = _Plan()
    for changed in ctx.change.files:
        if changed.status == "removed":
            continue
        path = changed.path
        if changed.status in ("added", "copied", "renamed"):
            for rule_id in rules.path_rules(path):
                message = f"[{rule_id}] {path}: a file of a kind that holds private keys"
                plan.findings.append(Finding(path, message))
        reason = skip_reason(path, changed, ctx.head.size(path))
        if reason is None and not ctx.config.audit_vendored and is_vendored(path):
            reason = "vendored (audit_vendored: true scans them)"
        if reason is not None:
            plan.skipped[reason] = plan.skipped.get(reason, 0) + 1
            continue
        if not changed.added_lines or rules.path_allowed(path):
            continue
        plan.to_scan.append(changed)
        plan.scanned_lines += len(changed.added_lines)
    return plan


_STARTED = "W1.scan"
"""`ctx.memo` key of the scan `prepare` started: (its plan, the function that finishes it)."""


def prepare(ctx: AuditContext) -> None:
    """Start scanning the added lines on the audit's pool; `run` collects the findings."""
    rules = default_rules()
    plan = _plan(ctx, rules)
    ctx.memo[_STARTED] = (plan, _start_scan(ctx, rules, plan.to_scan))


def run(ctx: AuditContext) -> Verdict:
    rules = default_rules()
    started = ctx.memo.pop(_STARTED, None)
    if isinstance(started, tuple):
        plan, finish = started
    else:
        plan = _plan(ctx, rules)
        finish = _start_scan(ctx, rules, plan.to_scan)
    findings = plan.findings
    skipped = plan.skipped
    scanned_lines = plan.scanned_lines
    to_scan = plan.to_scan
    scanned_files = len(to_scan)
    for changed, found in zip(to_scan, finish(), strict=True):
        level: Level = "notice" if is_test_file(changed.path) else "failure"
        for rule_id, line, shown in found:
            message = f"[{rule_id}] {changed.path}:{line} looks like a secret: {shown}"
            findings.append(Finding(changed.path, message, level, line, line))

    notes: list[str] = []
    if skipped:
        notes.append("Skipped: " + ", ".join(f"{n} {why}" for why, n in sorted(skipped.items())) + ".")
    if rules.problems:
        problems = "; ".join(rules.problems[:SHOW])
        notes.append(f"{len(rules.problems)} rule(s) could not be loaded: {problems}.")
    note = (" " + " ".join(notes)) if notes else ""
    real = [f for f in findings if f.level != "notice"]
    if real:
        shown = "; ".join(f.message for f in real[:SHOW])
        more = f" and {len(real) - SHOW} more" if len(real) > SHOW else ""
        detail = f"{len(real)} possible secret(s) in added lines: {shown}{more}.{note}"
        return Verdict("warn", detail, findings)
    tests = len(findings)
    in_tests = f" {tests} in test files, reported as notices." if tests else ""
    return Verdict(
        "pass",
        f"No secrets in {scanned_lines} added line(s) of {scanned_files} file(s).{in_tests}{note}",
        findings,
    )
