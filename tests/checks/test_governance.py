"""Finding the governance folder (spec §1)."""

from __future__ import annotations

from checks.governance import detect


def test_forge_with_contracts_is_the_governance_folder() -> None:
    assert detect(["Forge/Contracts/boundaries.json", "app.py"]) == "Forge"


def test_forge_with_only_evidence_is_the_governance_folder() -> None:
    assert detect(["Forge/evidence/updatedifflog.md"]) == "Forge"


def test_a_forge_folder_without_contracts_or_evidence_is_not_governance() -> None:
    assert detect(["Forge/README.md", "Forge/scripts/run.ps1"]) is None


def test_root_contracts_make_the_root_the_governance_folder() -> None:
    assert detect(["Contracts/boundaries.json", "evidence/updatedifflog.md"]) == ""


def test_forge_wins_over_root_contracts() -> None:
    assert detect(["Contracts/x.md", "Forge/evidence/audit_ledger.md"]) == "Forge"


def test_the_folder_name_is_configurable() -> None:
    assert detect(["governance/Contracts/physics.yaml"], "governance") == "governance"
    assert detect(["Forge/Contracts/physics.yaml"], "governance") is None


def test_a_repository_without_any_is_not_governed() -> None:
    assert detect(["src/app.py", "docs/Contracts.md"]) is None
