"""The intake's eight sections, their JSON schemas (data files in schemas/) and their validation."""

from __future__ import annotations

import copy
import difflib
import json
import pathlib
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from forgeguard_app.llm.client import validate_tool_input

HERE = pathlib.Path(__file__).parent
SCHEMAS_DIR = HERE / "schemas"
DEFAULTS_FILE = HERE / "defaults.json"


@dataclass(frozen=True)
class Section:
    """One part of the questionnaire."""

    key: str
    title: str
    asks: str
    """What the model should find out, in a sentence (part of the system prompt)."""


SECTIONS: tuple[Section, ...] = (
    Section(
        "product_intent", "Product intent", "what the project is, for whom, its core features and non-goals"
    ),
    Section(
        "tech_stack", "Tech stack", "language, backend and frontend frameworks, database, test framework"
    ),
    Section("database_schema", "Database schema", "the tables, their columns and constraints"),
    Section("api_endpoints", "API endpoints", "every HTTP route (method and path) and where handlers live"),
    Section("ui_requirements", "UI requirements", "the kind of interface, its screens and its style"),
    Section(
        "architectural_boundaries",
        "Architectural boundaries",
        "the code's layers (a glob each) and what each layer must never import or contain",
    ),
    Section(
        "deployment_target", "Deployment target", "where it runs, how it starts, its environment variables"
    ),
    Section(
        "phase_breakdown", "Phase breakdown", "the build phases in order, with deliverables and exit criteria"
    ),
)
SECTION_KEYS: tuple[str, ...] = tuple(s.key for s in SECTIONS)
BY_KEY = {s.key: s for s in SECTIONS}


class UnknownSection(ValueError):
    """A section name that is not one of the eight; says the closest one."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.suggestion = closest_section(name)
        hint = f" Did you mean `{self.suggestion}`?" if self.suggestion else ""
        super().__init__(
            f"There is no section called `{name}`.{hint} The sections: {', '.join(SECTION_KEYS)}."
        )


def closest_section(name: str) -> str | None:
    """The section key nearest to what a person typed (`stack` → `tech_stack`)."""
    wanted = name.strip().lower().replace("-", "_").replace(" ", "_")
    if wanted in BY_KEY:
        return wanted
    for key in SECTION_KEYS:
        if wanted and (wanted in key or key.startswith(wanted)):
            return key
    match = difflib.get_close_matches(wanted, SECTION_KEYS, n=1, cutoff=0.5)
    return match[0] if match else None


def resolve_section(name: str) -> str:
    """The section key for `edit <section>`, accepting prefixes and near misses; raises UnknownSection."""
    wanted = name.strip().lower().replace("-", "_").replace(" ", "_")
    if wanted in BY_KEY:
        return wanted
    candidates = [k for k in SECTION_KEYS if wanted and (wanted in k or k.startswith(wanted))]
    if len(candidates) == 1:
        return candidates[0]
    raise UnknownSection(name)


@cache
def _schema(key: str) -> str:
    return (SCHEMAS_DIR / f"{key}.json").read_text()


def schema(key: str) -> dict[str, Any]:
    """The JSON schema of a section (a fresh copy)."""
    if key not in BY_KEY:
        raise UnknownSection(key)
    result: dict[str, Any] = json.loads(_schema(key))
    return result


def schemas_document() -> str:
    """All eight schemas as one stable text for the system prompt (cached by the API)."""
    parts = []
    for section in SECTIONS:
        body = json.dumps(schema(section.key), indent=1, sort_keys=True)
        parts.append(f'<section_schema name="{section.key}">\n{body}\n</section_schema>')
    return "\n".join(parts)


def validate_section(key: str, data: Any) -> list[str]:
    """Why `data` cannot be recorded as section `key` (schema, then rules the schema cannot say)."""
    if key not in BY_KEY:
        return [f"unknown section {key!r}; the sections are {', '.join(SECTION_KEYS)}"]
    problems = validate_tool_input(schema(key), data)
    if problems:
        return problems
    check = _EXTRA_CHECKS.get(key)
    return check(data) if check else []


def _check_phases(data: dict[str, Any]) -> list[str]:
    numbers = [p["number"] for p in data["phases"]]
    if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
        return [f"phases: numbers must be unique and ascending, got {numbers}"]
    return []


def _check_endpoints(data: dict[str, Any]) -> list[str]:
    seen: set[tuple[str, str]] = set()
    problems = []
    for i, endpoint in enumerate(data["endpoints"]):
        key = (endpoint["method"], endpoint["path"])
        if key in seen:
            problems.append(f"endpoints/{i}: {key[0]} {key[1]} is listed twice")
        seen.add(key)
    return problems


def _check_boundaries(data: dict[str, Any]) -> list[str]:
    problems = []
    names = [layer["name"] for layer in data["layers"]]
    if len(set(names)) != len(names):
        problems.append(f"layers: names must be unique, got {names}")
    for i, layer in enumerate(data["layers"]):
        for j, rule in enumerate(layer["forbidden"]):
            if "pattern" in rule:
                try:
                    re.compile(rule["pattern"])
                except re.error as exc:
                    problems.append(
                        f"layers/{i}/forbidden/{j}/pattern: not a valid regular expression: {exc}"
                    )
    return problems


_EXTRA_CHECKS = {
    "phase_breakdown": _check_phases,
    "api_endpoints": _check_endpoints,
    "architectural_boundaries": _check_boundaries,
}


@lru_cache(maxsize=1)
def _defaults() -> str:
    return DEFAULTS_FILE.read_text()


def default_section(key: str, *, project_name: str) -> dict[str, Any]:
    """A sensible value for a section nobody answered (marked as a default in the contracts)."""
    if key == "product_intent":
        name = project_name.strip().splitlines()[0][:80] if project_name.strip() else "New project"
        return {
            "name": name,
            "summary": f"{name}: the project described in its intake issue.",
            "target_users": ["The team that opened the intake issue"],
            "core_features": ["The features described in the intake issue"],
            "non_goals": [],
        }
    data: dict[str, Any] = json.loads(_defaults())[key]
    return copy.deepcopy(data)
