"""Repository contents for the check-run tests: a Forge-governed project whose audit passes."""

from __future__ import annotations

from collections.abc import Iterable

LEDGER = "# Audit Ledger\n\nEntries are appended by the audit.\n"
PHYSICS = "paths:\n  /health:\n    get:\n      summary: liveness\n"
HEALTH = 'ROUTE = "/health"\n\n\ndef health() -> dict[str, str]:\n    return {"status": "ok"}\n'


def difflog(claimed: Iterable[str], todo_lines: int = 0) -> str:
    """A complete diff log claiming `claimed`, with `todo_lines` TODO: placeholders in its header."""
    todos = "".join(f"- TODO: fill in item {i}\n" for i in range(todo_lines))
    files = "".join(f"- {path}\n" for path in claimed) or "- (none)\n"
    return (
        "# Diff Log\n\n"
        "## Cycle Metadata\n- Cycle: 1\n\n"
        "## Cycle Status\n- Status: COMPLETE\n\n"
        f"## Notes\n{todos}\n"
        f"## Files Changed\n{files}\n"
        "## Verification\n- Static: ruff and mypy clean\n- Runtime: the app starts\n"
        "- Behavior: tests pass\n- Contract: boundaries hold\n\n"
        "## Minimal Diff Hunks\n(none)\n"
    )


def governed_files(claimed: Iterable[str] = ()) -> dict[str, str]:
    """A Forge-governed repository in which every check passes."""
    return {
        "README.md": "# Demo\n",
        "Forge/Contracts/phases.md": "# Phases\n\n## Phase 1 -- Demo\n",
        "Forge/Contracts/physics.yaml": PHYSICS,
        "Forge/evidence/test_runs_latest.md": "Status: PASS\n\n12 passed\n",
        "Forge/evidence/audit_ledger.md": LEDGER,
        "Forge/evidence/updatedifflog.md": difflog(claimed),
        "app/__init__.py": "",
        "app/api/__init__.py": "",
        "app/api/health.py": HEALTH,
    }


def module(n: int) -> str:
    """A small Python module importing only the standard library."""
    return f'"""Module {n}."""\n\nimport json\n\n\ndef value() -> str:\n    return json.dumps({n})\n'
