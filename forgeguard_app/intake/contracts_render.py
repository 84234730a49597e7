"""The ten Forge contracts, forge.json and the evidence skeletons, rendered from the structured answers.

Markdown contracts come from jinja2 templates with StrictUndefined and a
finalizer that refuses empty values, so no placeholder ever renders empty;
`physics.yaml`, `boundaries.json` and `forge.json` are dumped from data.

Escaping is per context (`forgeguard_app.markdown`): every value is Markdown
prose escaped by `md()` unless the template says otherwise; `| path` writes a
path, glob or name verbatim inside a code span (parsers read those back: the
diff log's files, schema.md's tables) and refuses one that could leave it;
`| code` puts other text in a code span through `markdown.code()`; `| paragraphs`
escapes prose of several paragraphs. So an answer's mention, image or link is
inert in a contract file.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jinja2
import yaml

from forgeguard_app.intake.contracts_paths import (
    ALL_PATHS,
    CONTRACTS_DIR,
    EVIDENCE_DIR,
    EVIDENCE_PATHS,
    MARKDOWN_CONTRACTS,
)
from forgeguard_app.intake.contracts_prose import Prose
from forgeguard_app.intake.sections import BY_KEY
from forgeguard_app.intake.state import Answers
from forgeguard_app.markdown import Trusted, code, markdown_env, md


class EmptyValue(ValueError):
    """A template value rendered empty: a contract would have a blank where an answer belongs."""


class UnsafePath(ValueError):
    """A path or name for a code span that could leave it (a backtick, whitespace or a control character)."""


class _Blank(str):
    """An intentionally empty output (e.g. no default note), exempt from the empty-value check."""

    __slots__ = ()


def _finalize(value: Any) -> Any:
    if isinstance(value, _Blank):
        return value
    if value is None or (isinstance(value, str) and not value.strip()):
        raise EmptyValue("a contract template rendered an empty value")
    return value


_UNSAFE_IN_PATH = re.compile(r"[`\s\x00-\x1f\x7f]")


def _path(value: object) -> Trusted:
    """A path, glob or name written verbatim (parsers read it back); refused when it could leave its
    code span. The intake's schemas refuse such answers already; this is the renderer's own guard."""
    text = str(value)
    if _UNSAFE_IN_PATH.search(text.strip()):
        raise UnsafePath(f"{text!r} cannot be written in a code span of a contract")
    return Trusted(text)


def _code(value: object, limit: int = 200) -> Trusted:
    """Other text shown as inline code (a start command, a screen's route): `markdown.code()`; a blank
    stays blank, for the finalizer to refuse."""
    text = str(value)
    return Trusted(code(text, limit) if text.strip() else "")


def _paragraphs(value: object) -> Trusted:
    """Prose of several paragraphs, each escaped by `md()`, the blank lines between them kept."""
    parts = [part for part in re.split(r"\n\s*\n", str(value)) if part.strip()]
    return Trusted("\n\n".join(md(part) for part in parts))


def _environment() -> jinja2.Environment:
    """The contracts' Markdown environment: every value escaped by `md()` unless a filter says how
    it is written (`path`, `code`, `paragraphs`); a blank value is refused."""
    env = markdown_env("templates/contracts", finalize=_finalize)
    env.filters["path"] = _path
    env.filters["code"] = _code
    env.filters["paragraphs"] = _paragraphs
    return env


def physics_data(answers: Answers) -> dict[str, Any]:
    """physics.yaml as data: the routes under `paths`, methods beneath them."""
    intent = answers["product_intent"]
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in answers["api_endpoints"]["endpoints"]:
        entry: dict[str, Any] = {"summary": endpoint["summary"]}
        if "auth" in endpoint:
            entry["auth"] = endpoint["auth"]
        paths.setdefault(endpoint["path"], {})[endpoint["method"].lower()] = entry
    return {
        "info": {"title": intent["name"], "description": f"The HTTP routes of {intent['name']}."},
        "paths": paths,
    }


def boundaries_data(answers: Answers) -> dict[str, Any]:
    """boundaries.json as data, in the shape A4 reads."""
    layers = []
    for layer in answers["architectural_boundaries"]["layers"]:
        forbidden = [dict(rule) for rule in layer["forbidden"]]
        layers.append(
            {
                "name": layer["name"],
                "description": layer["description"],
                "glob": layer["glob"],
                "forbidden": forbidden,
            }
        )
    return {"description": f"Layer boundaries of {answers['product_intent']['name']}.", "layers": layers}


def forge_json_data(answers: Answers) -> dict[str, Any]:
    stack = answers["tech_stack"]
    phases = answers["phase_breakdown"]["phases"]
    return {
        "project": answers["product_intent"]["name"],
        "contracts_dir": CONTRACTS_DIR,
        "evidence_dir": EVIDENCE_DIR,
        "current_phase": phases[0]["number"],
        "phases": [{"number": p["number"], "name": p["name"]} for p in phases],
        "backend": {
            "language": stack["language"],
            "framework": stack["backend_framework"],
            "dependency_file": stack["dependency_file"],
            "test_framework": stack["test_framework"],
            "router_dirs": list(answers["api_endpoints"]["router_dirs"]),
        },
        "defaults": sorted(answers.defaults),
    }


def render_contracts(answers: Answers, prose: Prose) -> dict[str, str]:
    """Every file of the contracts pull request, by repository path."""
    env = _environment()

    def default_note(key: str) -> str:
        if key not in answers.defaults:
            return _Blank("")
        return Trusted(
            f"\n> **Default** — {BY_KEY[key].title} was not discussed in the intake; these are ForgeGuard's "
            "defaults. Change them with `/forge revise <instructions>` or by editing this file.\n"
        )

    values = {
        "intent": answers["product_intent"],
        "stack": answers["tech_stack"],
        "tables": answers["database_schema"]["tables"],
        "endpoints": answers["api_endpoints"],
        "ui": answers["ui_requirements"],
        "boundaries": answers["architectural_boundaries"],
        "deploy": answers["deployment_target"],
        "phases": answers["phase_breakdown"]["phases"],
        "prose": prose,
        "default_note": default_note,
        "files": ALL_PATHS,
    }
    files: dict[str, str] = {}
    for name in MARKDOWN_CONTRACTS:
        files[f"{CONTRACTS_DIR}/{name}.md"] = env.get_template(f"{name}.md.j2").render(values)
    physics_header = f"# Routes of {answers['product_intent']['name']}; W3 checks that each has a handler.\n"
    if "api_endpoints" in answers.defaults:
        physics_header += "# Default: the API was not discussed in the intake.\n"
    files[f"{CONTRACTS_DIR}/physics.yaml"] = physics_header + yaml.safe_dump(
        physics_data(answers), sort_keys=False, allow_unicode=True
    )
    files[f"{CONTRACTS_DIR}/boundaries.json"] = json.dumps(boundaries_data(answers), indent=2) + "\n"
    files["forge.json"] = json.dumps(forge_json_data(answers), indent=2) + "\n"
    for path in EVIDENCE_PATHS:
        name = path.rsplit("/", 1)[1]
        files[path] = env.get_template(f"{name}.j2").render(values)
    return {path: files[path] for path in ALL_PATHS}
