"""Presenting an `AuditReport`: console frame, JSON, Markdown (the Check Run's summary).

All functions here are pure functions of the report. File paths, details and
finding messages come from the audited repository and are untrusted: the
Markdown escapes them so they cannot add links, mentions, HTML or table cells.
"""

from __future__ import annotations

import json
import re

from checks.model import AuditReport, CheckResult, Finding, Outcome
from checks.source import EMPTY_TREE, WORKING_TREE

CONSOLE_LABEL_WIDTH = 26
"""The label column of the console frame (`W3 Physics route coverage:` is 26 wide)."""
MAX_FINDINGS_SHOWN = 20
OPT_IN = (
    "This repository has no Forge governance folder, so only A2, A9 and W1 ran. "
    "Add `Forge/Contracts/` or `Forge/evidence/` to opt in to the governance checks."
)
_EMOJI: dict[Outcome, str] = {
    "pass": "✅ pass",
    "fail": "❌ fail",
    "warn": "⚠️ warning",
    "skip": "⏭️ skipped",
    "error": "💥 error",
}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~$])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ORDERED_MARKER = re.compile(r"^(\d+)([.)])")
_BULLET_MARKER = re.compile(r"^([-+])")
# Unicode format characters: bidirectional overrides and isolates, zero-width characters, tags.
_FORMAT = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000e0000-\U000e007f]"
)
_REFERENCE = re.compile(r"#(?=\d)")
_GH_REFERENCE = re.compile(r"\b(GH)(?=-\d)", re.IGNORECASE)
_BARE_URL = re.compile(r"\b((?:https?|ftp):)(?=//)|\b(www)(?=\.)", re.IGNORECASE)
_ZWSP = "\u200b"


def console(report: AuditReport) -> str:
    """The original's frame: `=== AUDIT SCRIPT RESULT ===` … `=== END AUDIT SCRIPT RESULT ===`."""
    lines = [
        "=== AUDIT SCRIPT RESULT ===",
        f"Timestamp: {report.timestamp}",
        f"Phase: {report.phase}",
        f"Claimed files: {', '.join(report.claimed_files) if report.claimed_files else '(none)'}",
        f"Change: {_short(report.base)}...{_short(report.head)} ({report.files} files)",
    ]
    lines.extend(f"Configuration error: {error}" for error in report.config_errors)
    if not report.governed:
        lines.append(OPT_IN.replace("`", ""))
    lines.append("")
    for result in report.results:
        label = f"{result.code} {result.name}:"
        lines.append(f"{label:<{CONSOLE_LABEL_WIDTH}} {result.outcome.upper()} -- {result.detail}")
        if result.outcome in ("fail", "warn", "error"):
            # findings without a line whose paths the detail already names would repeat it
            listed = [f for f in result.findings if f.start_line is not None or f.path not in result.detail]
            shown = listed[:MAX_FINDINGS_SHOWN]
            lines.extend(f"    {_console_finding(f)}" for f in shown)
            if len(listed) > len(shown):
                lines.append(f"    … and {len(listed) - len(shown)} more")
    lines.append(f"Overall: {report.overall.upper()}")
    lines.append("=== END AUDIT SCRIPT RESULT ===")
    return "\n".join(lines) + "\n"


def to_json(report: AuditReport) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"


def title(report: AuditReport) -> str:
    """The Check Run title: `2 of 12 checks failed: A1, A7 · 1 warning`, or `All checks passed`."""
    failed = [r.code for r in report.results if r.blocks]
    warnings = sum(1 for r in report.results if r.warns)
    suffix = f" · {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""
    if failed:
        return f"{len(failed)} of {len(report.results)} checks failed: {', '.join(failed)}{suffix}"
    return f"All checks passed{suffix}"


def summary_markdown(report: AuditReport) -> str:
    """The table of all twelve checks, with notes above it when the audit needs them."""
    lines = [f"**ForgeGuard audit: {report.overall.upper()}** · {escape(title(report))}", ""]
    change = f"`{_short(report.base)}...{_short(report.head)}` ({report.files} files)"
    lines.append(f"Change: {change} · Phase: {escape(report.phase)}")
    lines.append("")
    if not report.governed:
        lines.extend([f"> {OPT_IN}", ""])
    if report.config_errors:
        lines.append("Configuration errors in `.github/forgeguard.yml` (the defaults apply to these keys):")
        lines.extend(f"- {escape(error)}" for error in report.config_errors)
        lines.append("")
    lines.append("| Check | Name | Severity | Outcome | Detail |")
    lines.append("| --- | --- | --- | --- | --- |")
    for r in report.results:
        detail = escape(_cut(r.detail, 300))
        lines.append(f"| {r.code} | {escape(r.name)} | {r.severity} | {_EMOJI[r.outcome]} | {detail} |")
    return "\n".join(lines) + "\n"


def details_markdown(report: AuditReport) -> str:
    """Details of every failing, erroring or warning check: its detail and findings."""
    sections: list[str] = []
    for r in report.results:
        if r.outcome not in ("fail", "warn", "error"):
            continue
        sections.append(_details(r))
    if not sections:
        return "Nothing to report: no check failed or warned.\n"
    return "\n".join(sections)


def markdown(report: AuditReport) -> str:
    """The Check Run summary followed by the details (what `--format markdown` prints)."""
    return summary_markdown(report) + "\n" + details_markdown(report)


def strip_format(text: str) -> str:
    """`text` without Unicode format characters (bidirectional overrides, zero-width characters, tags)."""
    return _FORMAT.sub("", text)


def escape(text: str) -> str:
    """Untrusted text made inert inline in Markdown: one line, no HTML, links, images, autolinks or bare
    URLs, emphasis, cells, math, mentions or references (`#12`, `org/repo#3`, `GH-12`), no list or
    heading marker at its start, no Unicode format characters (RTL overrides, zero-width characters);
    other punctuation is left readable."""
    text = " ".join(_CONTROL.sub(" ", _FORMAT.sub("", text)).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _ORDERED_MARKER.sub(r"\1\\\2", text)
    text = _BULLET_MARKER.sub(r"\\\1", text)
    return defuse(text)


def defuse(text: str) -> str:
    """Mentions, references (`#12`, `org/repo#3`, `GH-12`) and bare URLs made inert in text GitHub shows,
    Markdown or plain (a title): GitHub links them after Markdown is parsed, so a backslash does not
    stop them; a zero-width space inside each does (and notifies no one). Format characters go."""
    text = _FORMAT.sub("", text)
    text = _REFERENCE.sub("#" + _ZWSP, text)
    text = _GH_REFERENCE.sub(lambda m: m.group(1) + _ZWSP, text)
    text = _BARE_URL.sub(lambda m: (m.group(1) or m.group(2)) + _ZWSP, text)
    return text.replace("@", "@" + _ZWSP)


def _details(result: CheckResult) -> str:
    lines = [
        f"### {result.code} {escape(result.name)}: {_EMOJI[result.outcome]}",
        "",
        escape(result.detail),
        "",
    ]
    shown = result.findings[:50]
    for finding in shown:
        lines.append(f"- {escape(_where(finding))} ({finding.level}): {escape(finding.message)}")
    if len(result.findings) > len(shown):
        lines.append(f"- … and {len(result.findings) - len(shown)} more findings")
    if shown:
        lines.append("")
    return "\n".join(lines)


def _console_finding(finding: Finding) -> str:
    """`path:line: message`, the location once even when the message starts with it."""
    where = _where(finding)
    if finding.message.startswith((where, "[")) and where in finding.message:
        return finding.message
    return f"{where}: {finding.message}"


def _where(finding: Finding) -> str:
    if finding.start_line is None:
        return finding.path
    return f"{finding.path}:{finding.start_line}"


def _short(rev: str) -> str:
    if rev == WORKING_TREE:
        return "working tree"
    if rev == EMPTY_TREE:
        return "empty tree"
    return rev[:7]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
