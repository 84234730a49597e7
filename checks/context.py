"""What every check is given: the change, the snapshots, the configuration."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from checks.config import AuditConfig
from checks.model import Finding, Outcome
from checks.pool import Workers
from checks.source import Change, ChangedFile, Snapshot, Source


def decode(data: bytes) -> str:
    """Text as the spec reads it: UTF-8, a BOM removed, bad bytes replaced."""
    text = data.decode("utf-8", errors="replace")
    return text[1:] if text.startswith("\ufeff") else text


class AnalysisCache(Protocol):
    """Per-file analysis results keyed by (kind, git blob id)."""

    def get(self, kind: str, blob_id: str) -> object | None: ...

    def put(self, kind: str, blob_id: str, value: object) -> None: ...


@dataclass
class Verdict:
    """What a check's `run` returns; the engine adds code, name and severity."""

    outcome: Outcome
    detail: str
    findings: list[Finding] = field(default_factory=list)


@dataclass
class AuditContext:
    """Everything a check may look at. Checks read files only through `head`/`base`."""

    source: Source
    change: Change
    """The audited change (paths_ignore already applied)."""
    head: Snapshot
    base: Snapshot | None
    """The snapshot at the change's base; None when the base is the empty tree."""
    config: AuditConfig
    governance_dir: str | None
    """"Forge", "" for a root `Contracts/`, or None when not Forge-governed."""
    full: bool = False
    claimed_override: list[str] | None = None
    cache: AnalysisCache | None = None
    scope_change: Change | None = None
    """The change A1 and A2 judge: `BASE_HEAD...head` when the diff log names one."""
    memo: dict[str, object] = field(default_factory=dict, repr=False)
    """Results computed once per audit and shared by the checks (e.g. the parsed diff log), and
    work a check's `prepare` started for its `run` to collect."""
    workers: Workers | None = field(default=None, repr=False)
    """The audit's process pool (`checks.pool`), when the engine runs one."""

    @property
    def governed(self) -> bool:
        return self.governance_dir is not None

    def gpath(self, rel: str) -> str:
        """A path under the governance folder, e.g. gpath('Contracts/boundaries.json')."""
        if not self.governance_dir:
            return rel
        return f"{self.governance_dir.rstrip('/')}/{rel}"

    def text(self, path: str, snapshot: Snapshot | None = None) -> str | None:
        """A file of head (or of `snapshot`) decoded as text, or None when absent."""
        data = (snapshot or self.head).read(path)
        return None if data is None else decode(data)

    def changed(self) -> list[ChangedFile]:
        return list(self.change.files)
