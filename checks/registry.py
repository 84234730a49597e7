"""The twelve checks, in report order, and how to load their modules.

Modules are imported lazily by the engine (each by a plain import statement
of its own), inside each check's own error handling, so a missing or broken
module is that check's `error` only, and an audit with checks turned off
does not pay for importing them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Protocol, cast, runtime_checkable

from checks.context import AuditContext, Verdict


class CheckModule(Protocol):
    """What every check module provides."""

    CODE: str
    NAME: str

    def wants(self, ctx: AuditContext) -> Iterable[str]: ...

    def run(self, ctx: AuditContext) -> Verdict: ...


@runtime_checkable
class Prepares(Protocol):
    """A check that can start its heavy work before the checks run (A9's parsing, W1's scanning):
    `prepare` submits batches to `ctx.workers` and leaves them in `ctx.memo` for `run`."""

    def prepare(self, ctx: AuditContext) -> None: ...


@dataclass(frozen=True)
class CheckSpec:
    code: str
    name: str
    importer: Callable[[], ModuleType]
    """Imports the check's module (the first time a check of that code runs)."""
    governance: bool
    """True when the check needs a governance folder (it is skipped without one)."""

    def load(self) -> CheckModule:
        return cast(CheckModule, self.importer())


def _a1() -> ModuleType:
    import checks.a1_scope as module

    return module


def _a2() -> ModuleType:
    import checks.a2_minimal_diff as module

    return module


def _a3() -> ModuleType:
    import checks.a3_evidence as module

    return module


def _a4() -> ModuleType:
    import checks.a4_boundaries as module

    return module


def _a5() -> ModuleType:
    import checks.a5_difflog_gate as module

    return module


def _a6() -> ModuleType:
    import checks.a6_authorization as module

    return module


def _a7() -> ModuleType:
    import checks.a7_verification as module

    return module


def _a8() -> ModuleType:
    import checks.a8_test_gate as module

    return module


def _a9() -> ModuleType:
    import checks.a9_dependencies as module

    return module


def _w1() -> ModuleType:
    import checks.w1_secrets as module

    return module


def _w2() -> ModuleType:
    import checks.w2_ledger as module

    return module


def _w3() -> ModuleType:
    import checks.w3_physics as module

    return module


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec("A1", "Scope compliance", _a1, True),
    CheckSpec("A2", "Minimal-diff discipline", _a2, False),
    CheckSpec("A3", "Evidence completeness", _a3, True),
    CheckSpec("A4", "Boundary compliance", _a4, True),
    CheckSpec("A5", "Diff log gate", _a5, True),
    CheckSpec("A6", "Authorization gate", _a6, True),
    CheckSpec("A7", "Verification hierarchy order", _a7, True),
    CheckSpec("A8", "Test gate", _a8, True),
    CheckSpec("A9", "Dependency gate", _a9, False),
    CheckSpec("W1", "No secrets in diff", _w1, False),
    CheckSpec("W2", "Audit ledger integrity", _w2, True),
    CheckSpec("W3", "Physics route coverage", _w3, True),
)
