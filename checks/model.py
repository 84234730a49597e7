"""The result model of an audit: findings, one result per check, the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Outcome = Literal["pass", "fail", "warn", "skip", "error"]
Severity = Literal["blocking", "warning", "off"]
Level = Literal["failure", "warning", "notice"]


@dataclass(frozen=True)
class Finding:
    """One thing a check found; with a line it becomes a Check Run annotation."""

    path: str
    message: str
    level: Level = "failure"
    start_line: int | None = None
    end_line: int | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "start_line": self.start_line,
            "end_line": self.end_line if self.end_line is not None else self.start_line,
            "message": self.message,
            "level": self.level,
        }


@dataclass
class CheckResult:
    """What one check concluded."""

    code: str
    name: str
    severity: Severity
    outcome: Outcome
    detail: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def blocks(self) -> bool:
        """True when this result makes the whole audit fail."""
        return self.severity == "blocking" and self.outcome in ("fail", "error")

    @property
    def applies(self) -> bool:
        """The check is switched on and did not skip."""
        return self.severity != "off" and self.outcome != "skip"

    @property
    def warns(self) -> bool:
        """A result that does not block but that someone should read."""
        return self.applies and not self.blocks and self.outcome in ("warn", "fail", "error")

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity,
            "outcome": self.outcome,
            "detail": self.detail,
            "findings": [f.to_json() for f in self.findings],
        }


@dataclass
class AuditReport:
    """The whole audit: all twelve results, in order A1…A9, W1…W3."""

    base: str
    head: str
    files: int
    phase: str
    claimed_files: list[str]
    results: list[CheckResult]
    governed: bool
    config_errors: list[str] = field(default_factory=list)
    timestamp: str = ""

    @property
    def overall(self) -> Literal["pass", "fail"]:
        return "fail" if any(r.blocks for r in self.results) else "pass"

    def to_json(self) -> dict[str, object]:
        return {
            "overall": self.overall,
            "phase": self.phase,
            "timestamp": self.timestamp,
            "governed": self.governed,
            "claimed_files": self.claimed_files,
            "config_errors": self.config_errors,
            "change": {"base": self.base, "head": self.head, "files": self.files},
            "checks": [r.to_json() for r in self.results],
        }
