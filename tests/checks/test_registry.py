"""The registry: twelve check modules in report order, each with CODE, NAME, wants and run."""

from __future__ import annotations

from types import ModuleType

import pytest

from checks.config import CHECK_CODES
from checks.registry import CHECKS, CheckSpec


def module_name(spec: CheckSpec) -> str:
    module = spec.load()
    assert isinstance(module, ModuleType)
    return module.__name__.removeprefix("checks.")


def test_the_twelve_modules_are_listed_in_report_order() -> None:
    assert tuple(module_name(spec) for spec in CHECKS) == (
        "a1_scope",
        "a2_minimal_diff",
        "a3_evidence",
        "a4_boundaries",
        "a5_difflog_gate",
        "a6_authorization",
        "a7_verification",
        "a8_test_gate",
        "a9_dependencies",
        "w1_secrets",
        "w2_ledger",
        "w3_physics",
    )
    assert tuple(spec.code for spec in CHECKS) == CHECK_CODES


@pytest.mark.parametrize("spec", CHECKS, ids=[spec.code for spec in CHECKS])
def test_each_module_names_itself_as_the_registry_does(spec: CheckSpec) -> None:
    module = spec.load()
    assert (spec.code, spec.name) == (module.CODE, module.NAME)
    assert callable(module.wants) and callable(module.run)


def test_only_a2_a9_and_w1_run_without_a_governance_folder() -> None:
    assert {spec.code for spec in CHECKS if not spec.governance} == {"A2", "A9", "W1"}
