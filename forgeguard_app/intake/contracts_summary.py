"""The contracts pull request's body: one line per contract saying what it holds (escaped by `md()`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml

from forgeguard_app.intake.contracts_paths import ALL_PATHS, EVIDENCE_DIR
from forgeguard_app.intake.phases import parse_phases
from forgeguard_app.markdown import md


def summarize_contracts(files: Mapping[str, str]) -> str:
    """The pull request body: one line per contract saying what it holds."""
    lines = ["### Forge contracts", "", "| file | what it holds |", "| --- | --- |"]
    for path in ALL_PATHS:
        if path not in files:
            continue
        lines.append(f"| `{path}` | {md(_describe(path, files), 300)} |")
    forge = _json(files.get("forge.json"))
    defaults = forge.get("defaults") if isinstance(forge, dict) else None
    if defaults:
        lines += [
            "",
            "Sections filled with defaults (not discussed in the intake): "
            + ", ".join(f"`{d}`" for d in defaults)
            + ".",
        ]
    lines += [
        "",
        "Review by comment: `/forge revise <instructions>`, `/forge approve`, `/forge reject <reason>`.",
    ]
    return "\n".join(lines) + "\n"


def _json(text: str | None) -> Any:
    try:
        return json.loads(text or "")
    except json.JSONDecodeError:
        return None


def _describe(path: str, files: Mapping[str, str]) -> str:
    text = files[path]
    name = path.rsplit("/", 1)[-1]
    if name == "physics.yaml":
        data = yaml.safe_load(text) or {}
        routes = [
            f"{m.upper()} {p}" for p, methods in (data.get("paths") or {}).items() for m in methods or {}
        ]
        return f"{len(routes)} routes: " + ", ".join(routes[:8]) + (" …" if len(routes) > 8 else "")
    if name == "boundaries.json":
        layers = (_json(text) or {}).get("layers", [])
        return f"{len(layers)} layers: " + ", ".join(f"{la.get('name')} ({la.get('glob')})" for la in layers)
    if name == "phases.md":
        try:
            phases = parse_phases(text)
        except ValueError as exc:
            return f"does not parse: {exc}"
        return f"{len(phases)} phases: " + ", ".join(f"{p.number} {p.name}" for p in phases)
    if name == "schema.md":
        tables = [line[4:].strip("` ") for line in text.splitlines() if line.startswith("## ")]
        return f"{len(tables)} tables" + (": " + ", ".join(tables) if tables else "")
    if name == "forge.json":
        return "project metadata for the builder and the audit (language, dependency file, router folders)"
    if path.startswith(EVIDENCE_DIR):
        return "evidence skeleton for the builder's cycles"
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return name
