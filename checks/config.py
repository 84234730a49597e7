"""The audit configuration (`.github/forgeguard.yml`), as data.

Parsing and validation live in `checks.config_file`; this module only holds
the shape so that every part of the engine can name it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from checks.model import Severity

ReportMode = Literal["summary", "per-check"]

CHECK_CODES: tuple[str, ...] = (
    "A1",
    "A2",
    "A3",
    "A4",
    "A5",
    "A6",
    "A7",
    "A8",
    "A9",
    "W1",
    "W2",
    "W3",
)


def default_severity(code: str) -> Severity:
    return "blocking" if code.startswith("A") else "warning"


@dataclass
class AuditConfig:
    """Settings of one repository's audit; every field has the spec's default."""

    governance_dir: str = "Forge"
    severities: dict[str, Severity] = field(default_factory=dict)
    paths_ignore: list[str] = field(default_factory=list)
    report: ReportMode = "summary"
    errors: list[str] = field(default_factory=list)
    """Mistakes found while reading the file; the defaults applied to those keys."""
    raw: dict[str, object] = field(default_factory=dict)
    """The whole parsed mapping, for sections other parts of ForgeGuard read (e.g. `builder`)."""
    audit_vendored: bool = False
    """True: A9 and W1 audit vendored code too (Linguist's vendor.yml, `_vendor/`, `vendor/`)."""
    a9_ignore: list[str] = field(default_factory=list)
    """Import names (and their submodules) A9 never questions (`checks: {A9: {ignore: […]}}`)."""
    a9_first_party: list[str] = field(default_factory=list)
    """Top-level import names that are the project's own (`checks: {A9: {first_party: […]}}`)."""

    def severity(self, code: str, *, governed: bool = True) -> Severity:
        """The configured severity, else the default; A2 is a warning where there is no Forge governance."""
        if code in self.severities:
            return self.severities[code]
        if code == "A2" and not governed:
            return "warning"
        return default_severity(code)
