"""Where the contracts live in a repository: the ten contracts, forge.json and the evidence skeletons."""

from __future__ import annotations

CONTRACTS_DIR = "Forge/Contracts"
EVIDENCE_DIR = "Forge/evidence"
MARKDOWN_CONTRACTS = (
    "blueprint",
    "manifesto",
    "stack",
    "schema",
    "phases",
    "ui",
    "builder_contract",
    "builder_directive",
)
CONTRACT_PATHS: tuple[str, ...] = (
    *(f"{CONTRACTS_DIR}/{name}.md" for name in MARKDOWN_CONTRACTS[:4]),
    f"{CONTRACTS_DIR}/physics.yaml",
    f"{CONTRACTS_DIR}/boundaries.json",
    *(f"{CONTRACTS_DIR}/{name}.md" for name in MARKDOWN_CONTRACTS[4:]),
)
EVIDENCE_PATHS = (
    f"{EVIDENCE_DIR}/updatedifflog.md",
    f"{EVIDENCE_DIR}/test_runs_latest.md",
    f"{EVIDENCE_DIR}/audit_ledger.md",
)
ALL_PATHS: tuple[str, ...] = (*CONTRACT_PATHS, "forge.json", *EVIDENCE_PATHS)
