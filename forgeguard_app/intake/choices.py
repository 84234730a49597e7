"""The choices of past intakes (per installation, from finished intakes), offered as suggestions.

Only choices are kept (stack, deployment, interface kind, layer layout),
never conversation text, and they are looked up by installation id only, so
one installation never sees another's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from forgeguard_app.db import Database

REMEMBERED: dict[str, tuple[str, ...]] = {
    "tech_stack": (
        "language",
        "language_version",
        "backend_framework",
        "frontend_framework",
        "database",
        "test_framework",
        "dependency_file",
    ),
    "deployment_target": ("platform", "run_command"),
    "ui_requirements": ("kind", "style"),
}


def choices_of(sections: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The choices worth remembering from recorded sections."""
    choices: dict[str, Any] = {}
    for key, fields in REMEMBERED.items():
        section = sections.get(key)
        if section:
            picked = {f: section[f] for f in fields if f in section}
            if picked:
                choices[key] = picked
    boundaries = sections.get("architectural_boundaries")
    if boundaries:
        choices["architectural_boundaries"] = {
            "layers": [{"name": la["name"], "glob": la["glob"]} for la in boundaries.get("layers", [])]
        }
    return choices


def describe(choices: Mapping[str, Any]) -> str | None:
    """A one-line reminder for people: "Last time you chose FastAPI and PostgreSQL — same here?"."""
    stack = choices.get("tech_stack", {})
    picks = [stack[f] for f in ("backend_framework", "frontend_framework", "database") if stack.get(f)]
    picks = [p for p in picks if str(p).lower() != "none"]
    platform = choices.get("deployment_target", {}).get("platform")
    if platform:
        picks.append(f"deploying on {platform}")
    if not picks:
        return None
    listed = picks[0] if len(picks) == 1 else ", ".join(picks[:-1]) + " and " + picks[-1]
    return f"Last time you chose {listed} — same here?"


async def remember(
    db: Database, *, installation_id: int, intake_id: int, sections: Mapping[str, Any]
) -> None:
    """Keep the choices of a finished intake (replacing what this intake left before)."""
    choices = choices_of(sections)
    if not choices:
        return
    await db.pool.execute(
        """
        INSERT INTO intake_memory (installation_id, intake_id, choices) VALUES ($1, $2, $3)
        ON CONFLICT (intake_id) DO UPDATE SET choices = excluded.choices, created_at = now()
        """,
        installation_id,
        intake_id,
        choices,
    )


async def recall(db: Database, installation_id: int, *, exclude_intake: int | None = None) -> dict[str, Any]:
    """The latest remembered choice of each section for this installation (empty when none)."""
    rows = await db.pool.fetch(
        """
        SELECT choices FROM intake_memory
        WHERE installation_id = $1 AND intake_id IS DISTINCT FROM $2
        ORDER BY created_at DESC, id DESC LIMIT 20
        """,
        installation_id,
        exclude_intake,
    )
    merged: dict[str, Any] = {}
    for row in rows:
        for key, value in row["choices"].items():
            merged.setdefault(key, value)
    return merged
