"""Why contract files may not be committed: their formats, and our own audit engine on them.

`validate_contracts` checks that every contract is there and not empty, that
boundaries.json, physics.yaml and forge.json parse in the shapes A4 and W3
read, that phases.md parses with the builder's parser, and then runs our own
engine on the files as a one-commit repository (base: git's empty tree), as it
will run on the pull request: A4 and W3 must accept the contracts (no `error`,
no boundary failure) and no blocking check may fail, so a freshly opened
contracts pull request passes its own audit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import yaml

from checks.config import AuditConfig
from checks.engine import run_audit
from checks.memory_source import MemorySource
from checks.model import AuditReport
from forgeguard_app.intake.contracts_paths import CONTRACT_PATHS, CONTRACTS_DIR
from forgeguard_app.intake.phases import phases_problems


class ContractsInvalid(ValueError):
    """The contracts do not validate; `problems` lists why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("the contracts do not validate: " + "; ".join(problems))
        self.problems = problems


def audit_files(files: Mapping[str, str]) -> AuditReport:
    """The engine's report on a repository made of exactly `files`."""
    source = MemorySource(files, message="Forge contracts")
    return run_audit(source, source.change(source.base.commit, source.head.commit), AuditConfig(), full=True)


def engine_problems(files: Mapping[str, str]) -> list[str]:
    """What our own engine objects to in the contracts (empty when the audit passes)."""
    report = audit_files(files)
    problems = []
    for result in report.results:
        if result.outcome == "error" or (result.code in ("A4", "W3") and result.outcome == "fail"):
            problems.append(f"{result.code} {result.name} cannot use the contracts: {result.detail}")
        elif result.blocks:
            problems.append(f"{result.code} {result.name} fails on the contracts: {result.detail}")
    return problems


def boundaries_problems(data: Any) -> list[str]:
    """Where boundaries.json departs from the shape A4 reads (spec checks.md, A4)."""
    if not isinstance(data, dict) or not isinstance(data.get("layers"), list):
        return ["boundaries.json must be an object with a `layers` list"]
    problems = []
    for i, layer in enumerate(data["layers"]):
        where = f"boundaries.json layer {i + 1}"
        if not isinstance(layer, dict):
            problems.append(f"{where} is not an object")
            continue
        for key in ("name", "glob"):
            if not isinstance(layer.get(key), str) or not layer[key].strip():
                problems.append(f"{where} needs a `{key}` string")
        rules = layer.get("forbidden")
        if not isinstance(rules, list):
            problems.append(f"{where} needs a `forbidden` list")
            continue
        for rule in rules:
            pattern = rule.get("pattern") if isinstance(rule, dict) else rule
            if isinstance(rule, dict) and "import" in rule:
                if not isinstance(rule["import"], str) or not rule["import"]:
                    problems.append(f"{where}: an `import` rule needs a module name")
                continue
            if not isinstance(pattern, str) or not pattern:
                problems.append(f"{where}: every forbidden rule needs a `pattern` or an `import`")
                continue
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.append(
                    f"{where} ({layer.get('name')}): pattern {pattern!r} is not a valid regex: {exc}"
                )
    return problems


def validate_contracts(files: Mapping[str, str]) -> list[str]:
    """Why these files may not be committed as contracts (empty when they may)."""
    problems: list[str] = []
    for path in (*CONTRACT_PATHS, "forge.json"):
        if path not in files:
            problems.append(f"{path} is missing")
        elif not files[path].strip():
            problems.append(f"{path} is empty")
    boundaries = files.get(f"{CONTRACTS_DIR}/boundaries.json")
    if boundaries:
        try:
            problems.extend(boundaries_problems(json.loads(boundaries)))
        except json.JSONDecodeError as exc:
            problems.append(
                f"boundaries.json does not parse: {exc.msg} at line {exc.lineno} column {exc.colno}"
            )
    physics = files.get(f"{CONTRACTS_DIR}/physics.yaml")
    if physics:
        try:
            loaded = yaml.safe_load(physics)
        except yaml.YAMLError as exc:
            problems.append(f"physics.yaml does not parse: {exc}")
        else:
            if (
                not isinstance(loaded, dict)
                or not isinstance(loaded.get("paths"), dict)
                or not loaded["paths"]
            ):
                problems.append("physics.yaml has no routes under `paths:`")
    forge = files.get("forge.json")
    if forge:
        try:
            json.loads(forge)
        except json.JSONDecodeError as exc:
            problems.append(f"forge.json does not parse: {exc.msg} at line {exc.lineno} column {exc.colno}")
    phases = files.get(f"{CONTRACTS_DIR}/phases.md")
    if phases:
        problems.extend(f"phases.md: {p}" for p in phases_problems(phases))
    if not problems:
        problems.extend(engine_problems(files))
    return problems
