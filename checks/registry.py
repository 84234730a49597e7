"""The twelve checks, in report order, and how to load their modules.

Modules are imported lazily by the engine, inside each check's own error
handling, so a missing or broken module is that check's `error` only.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
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
    module: str
    governance: bool
    """True when the check needs a governance folder (it is skipped without one)."""

    def load(self) -> CheckModule:
        module: ModuleType = importlib.import_module(f"checks.{self.module}")
        return cast(CheckModule, module)


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec("A1", "Scope compliance", "a1_scope", True),
    CheckSpec("A2", "Minimal-diff discipline", "a2_minimal_diff", False),
    CheckSpec("A3", "Evidence completeness", "a3_evidence", True),
    CheckSpec("A4", "Boundary compliance", "a4_boundaries", True),
    CheckSpec("A5", "Diff log gate", "a5_difflog_gate", True),
    CheckSpec("A6", "Authorization gate", "a6_authorization", True),
    CheckSpec("A7", "Verification hierarchy order", "a7_verification", True),
    CheckSpec("A8", "Test gate", "a8_test_gate", True),
    CheckSpec("A9", "Dependency gate", "a9_dependencies", False),
    CheckSpec("W1", "No secrets in diff", "w1_secrets", False),
    CheckSpec("W2", "Audit ledger integrity", "w2_ledger", True),
    CheckSpec("W3", "Physics route coverage", "w3_physics", True),
)

MODULES: tuple[str, ...] = tuple(spec.module for spec in CHECKS)
