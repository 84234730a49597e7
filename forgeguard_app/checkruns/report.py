"""Building check-run payloads from an audit report: Markdown from jinja2, annotations, byte-aware cuts.

Everything a finding or a path contributes is untrusted text: the templates
escape every value for Markdown unless it is explicitly marked `trusted`
(`forgeguard_app.markdown`, the one policy).
These functions are pure; `jobs.py` sends what they return.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from checks import render
from checks.config import AuditConfig
from checks.model import AuditReport, CheckResult, Finding
from forgeguard_app.checkruns import decide
from forgeguard_app.markdown import Trusted, markdown_env, md

__all__ = ["Trusted", "md"]

MAX_OUTPUT_BYTES = 65_535
"""GitHub's limit on a check run's `output.summary` and `output.text`."""
ANNOTATIONS_PER_REQUEST = 50
MAX_ANNOTATIONS = 500
"""More is noise in the diff view and costs a request per 50; the text says how many were left out."""
MAX_ANNOTATION_MESSAGE_BYTES = 4_000
MAX_TITLE_CHARS = 255

LEVEL_TO_ANNOTATION: dict[str, str] = {"failure": "failure", "warning": "warning", "notice": "notice"}
_LEVEL_RANK = {"failure": 0, "warning": 1, "notice": 2}


_ENV = markdown_env("templates/checkruns", trim_blocks=True, lstrip_blocks=True)


def truncate_utf8(text: str, limit: int = MAX_OUTPUT_BYTES, note: str = "") -> str:
    """`text` cut so that it and `note` fit in `limit` UTF-8 bytes; never splits a character.

    The cut falls at the end of a line when one is near, so a table row or a
    list item is not left half-written; `note` is appended only when text was cut.
    """
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    room = limit - len(note.encode("utf-8"))
    if room <= 0:
        return note.encode("utf-8")[:limit].decode("utf-8", errors="ignore")
    head = data[:room].decode("utf-8", errors="ignore")
    newline = head.rfind("\n")
    if newline >= max(0, len(head) - 2_000):
        head = head[: newline + 1]
    return head + note


def cut_note(audit_url: str) -> str:
    return (
        f"\n\n---\n*Cut to {MAX_OUTPUT_BYTES:,} bytes, GitHub's limit. "
        f"The whole report is at [{audit_url}]({audit_url}).*\n"
    )


def annotation(result: CheckResult, finding: Finding) -> dict[str, Any] | None:
    """A finding with a line as a GitHub annotation; None for findings without a line."""
    if finding.start_line is None or finding.start_line < 1 or not finding.path:
        return None
    end = finding.end_line if finding.end_line is not None else finding.start_line
    return {
        "path": finding.path,
        "start_line": finding.start_line,
        "end_line": max(end, finding.start_line),
        "annotation_level": LEVEL_TO_ANNOTATION.get(finding.level, "notice"),
        "title": f"{result.code} {result.name}"[:MAX_TITLE_CHARS],
        "message": truncate_utf8(finding.message or result.detail, MAX_ANNOTATION_MESSAGE_BYTES, " …"),
    }


def collect_annotations(
    results: Iterable[CheckResult], limit: int = MAX_ANNOTATIONS
) -> tuple[list[dict[str, Any]], int]:
    """The annotations of `results`, failures first, at most `limit`; and how many were left out."""
    found: list[dict[str, Any]] = []
    for result in results:
        if result.severity == "off":
            continue
        for finding in result.findings:
            item = annotation(result, finding)
            if item is not None:
                found.append(item)
    found.sort(key=lambda a: _LEVEL_RANK[a["annotation_level"]])
    return found[:limit], max(0, len(found) - limit)


def batches(
    items: Sequence[dict[str, Any]], size: int = ANNOTATIONS_PER_REQUEST
) -> list[list[dict[str, Any]]]:
    """`items` in consecutive lists of at most `size` (GitHub takes 50 annotations per request)."""
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


@dataclass
class RunView:
    """What the templates know about an audit besides its report."""

    audit_url: str
    config: AuditConfig | None = None
    left_out_annotations: int = 0


_ICON = {"pass": "✅", "fail": "❌", "warn": "⚠️", "skip": "⏭️", "error": "💥"}


def _row(result: CheckResult) -> dict[str, Any]:
    label = "Off" if result.severity == "off" else decide.OUTCOME_LABEL.get(result.outcome, result.outcome)
    return {
        "code": result.code,
        "name": result.name,
        "severity": result.severity,
        "icon": Trusted(_ICON.get(result.outcome, "")) if result.severity != "off" else Trusted("➖"),
        "label": label,
        "detail": result.detail,
        "findings": result.findings,
    }


def _short(sha: str) -> str:
    return sha[:7] if re.fullmatch(r"[0-9a-f]{40}", sha) else sha


def _context(report: AuditReport, view: RunView) -> dict[str, Any]:
    return {
        "report": report,
        "rows": [_row(r) for r in report.results],
        "governed": report.governed,
        "governance_dir": (view.config.governance_dir if view.config else "Forge") or "Forge",
        "config_errors": report.config_errors,
        "base": _short(report.base),
        "head": _short(report.head),
        "files": report.files,
        "phase": report.phase,
        "audit_url": Trusted(view.audit_url),
        "left_out": view.left_out_annotations,
        "title": decide.title(report),
    }


def render_summary(report: AuditReport, view: RunView) -> str:
    """The engine's Markdown summary (what `--format markdown` prints first: the table of all twelve
    checks, the opt-in note, configuration errors) and a link to the audit; cut to 65,535 bytes."""
    context = {**_context(report, view), "engine_summary": Trusted(render.summary_markdown(report))}
    text = _ENV.get_template("summary.md.j2").render(context)
    return truncate_utf8(text, MAX_OUTPUT_BYTES, cut_note(view.audit_url))


def render_text(report: AuditReport, view: RunView) -> str:
    """The details of every check that did not simply pass, with its findings; cut to 65,535 bytes."""
    text = _ENV.get_template("details.md.j2").render(_context(report, view))
    return truncate_utf8(text, MAX_OUTPUT_BYTES, cut_note(view.audit_url))


def render_check(result: CheckResult, report: AuditReport, view: RunView) -> str:
    """The summary of one check's own run (`report: per-check`)."""
    context = {**_context(report, view), "row": _row(result)}
    text = _ENV.get_template("check.md.j2").render(context)
    return truncate_utf8(text, MAX_OUTPUT_BYTES, cut_note(view.audit_url))


def render_failure(reason: str, view: RunView) -> str:
    """The summary of a run completed neutral because the audit could not finish."""
    text = _ENV.get_template("failed.md.j2").render({"reason": reason, "audit_url": Trusted(view.audit_url)})
    return truncate_utf8(text, MAX_OUTPUT_BYTES, cut_note(view.audit_url))


RERUN_BUTTON: dict[str, str] = {
    "label": "Re-run audit",
    "description": "Audit this commit again",
    "identifier": decide.RERUN_ACTION,
}


@dataclass
class RunPayloads:
    """The requests that complete one check run: annotation updates, then the completing update."""

    name: str
    conclusion: str
    updates: list[dict[str, Any]]


def _updates(
    title: str,
    summary: str,
    text: str | None,
    conclusion: str,
    annotation_list: Sequence[dict[str, Any]],
    completed_at: str,
) -> list[dict[str, Any]]:
    """Every batch but the last goes out while the run is in progress; the last one completes it."""
    chunks = batches(annotation_list) or [[]]
    output: dict[str, Any] = {"title": title[:MAX_TITLE_CHARS], "summary": summary}
    if text:
        output["text"] = text
    updates: list[dict[str, Any]] = []
    for chunk in chunks[:-1]:
        updates.append({"status": "in_progress", "output": {**output, "annotations": chunk}})
    final_output = {**output, "annotations": chunks[-1]} if chunks[-1] else output
    updates.append(
        {
            "status": "completed",
            "conclusion": conclusion,
            "completed_at": completed_at,
            "output": final_output,
            "actions": [RERUN_BUTTON],
        }
    )
    return updates


def summary_run(report: AuditReport, view: RunView, completed_at: str) -> RunPayloads:
    """The one `ForgeGuard` run of the default `report: summary` mode."""
    found, left_out = collect_annotations(report.results)
    view = RunView(view.audit_url, view.config, left_out)
    return RunPayloads(
        name=decide.check_run_name(None),
        conclusion=decide.conclusion(report),
        updates=_updates(
            decide.title(report),
            render_summary(report, view),
            render_text(report, view),
            decide.conclusion(report),
            found,
            completed_at,
        ),
    )


def per_check_runs(report: AuditReport, view: RunView, completed_at: str) -> list[RunPayloads]:
    """`report: per-check`: one run per check, `ForgeGuard A1` …, each with its own annotations."""
    runs = []
    for result in report.results:
        found, left_out = collect_annotations([result])
        check_view = RunView(view.audit_url, view.config, left_out)
        conclusion = decide.check_conclusion(result)
        runs.append(
            RunPayloads(
                name=decide.check_run_name(result.code),
                conclusion=conclusion,
                updates=_updates(
                    decide.check_title(result),
                    render_check(result, report, check_view),
                    None,
                    conclusion,
                    found,
                    completed_at,
                ),
            )
        )
    return runs


def failure_update(reason: str, view: RunView, completed_at: str) -> dict[str, Any]:
    """The update that completes a run `neutral` when the audit could not finish."""
    return {
        "status": "completed",
        "conclusion": "neutral",
        "completed_at": completed_at,
        "output": {
            "title": "The audit could not finish",
            "summary": render_failure(reason, view),
        },
        "actions": [RERUN_BUTTON],
    }


def in_progress_create(
    name: str, head_sha: str, details_url: str, external_id: str, started_at: str
) -> dict[str, Any]:
    """The body that creates a run `in_progress` as soon as the job starts."""
    return {
        "name": name,
        "head_sha": head_sha,
        "status": "in_progress",
        "details_url": details_url,
        "external_id": external_id,
        "started_at": started_at,
        "output": {"title": "Auditing…", "summary": "ForgeGuard is auditing this commit."},
    }


def run_names(config: AuditConfig | None, codes: Sequence[str]) -> list[str]:
    """The runs an audit reports in: `ForgeGuard`, or one per check in per-check mode."""
    if config is not None and config.report == "per-check":
        return [decide.check_run_name(code) for code in codes]
    return [decide.check_run_name(None)]
