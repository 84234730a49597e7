"""Parsing `.github/forgeguard.yml` (spec §6) into an `AuditConfig`.

Mistakes never stop an audit: each unknown key or bad value becomes one line
in `AuditConfig.errors`, that key keeps its default, and the valid keys still
apply. Sections read by other parts of ForgeGuard (`builder:`) are kept in
`raw` untouched.
"""

from __future__ import annotations

import os
from typing import cast

import yaml

from checks.config import CHECK_CODES, AuditConfig, ReportMode
from checks.context import decode
from checks.model import Severity

CONFIG_PATH = ".github/forgeguard.yml"
SEVERITIES: tuple[Severity, ...] = ("blocking", "warning", "off")
REPORT_MODES: tuple[ReportMode, ...] = ("summary", "per-check")
KNOWN_KEYS = ("governance_dir", "checks", "paths_ignore", "audit_vendored", "report", "builder")
CHECK_OPTIONS: dict[str, tuple[str, ...]] = {"A9": ("ignore", "first_party")}
"""Settings a check takes besides `severity`."""


def parse_config(data: str | bytes, name: str = CONFIG_PATH) -> AuditConfig:
    """The configuration in `data`; mistakes are listed in `errors`, never raised."""
    text = decode(data) if isinstance(data, bytes) else data
    config = AuditConfig()
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        config.errors.append(f"{name}: invalid YAML{where} ({problem}); the defaults apply")
        return config
    if loaded is None:
        return config
    if not isinstance(loaded, dict):
        config.errors.append(
            f"{name}: expected a mapping of settings, found {_kind(loaded)}; the defaults apply"
        )
        return config
    config.raw = {str(k): v for k, v in loaded.items()}
    for key, value in config.raw.items():
        if key == "governance_dir":
            _governance_dir(config, name, value)
        elif key == "checks":
            _checks(config, name, value)
        elif key == "paths_ignore":
            _paths_ignore(config, name, value)
        elif key == "audit_vendored":
            if isinstance(value, bool):
                config.audit_vendored = value
            else:
                config.errors.append(
                    f"{name}: audit_vendored must be true or false, not {value!r}; using false"
                )
        elif key == "report":
            if value in REPORT_MODES:
                config.report = value
            else:
                config.errors.append(
                    f"{name}: report must be one of {', '.join(REPORT_MODES)}, not {value!r}; using summary"
                )
        elif key == "builder":
            if not isinstance(value, dict):
                config.errors.append(f"{name}: builder must be a mapping, found {_kind(value)}")
        else:
            config.errors.append(f"{name}: unknown key {key!r} (known: {', '.join(KNOWN_KEYS)}); ignored")
    return config


def load_config_file(path: str | os.PathLike[str]) -> AuditConfig:
    """Read and parse a configuration file; OSError when it cannot be read."""
    with open(path, "rb") as handle:
        data = handle.read()
    return parse_config(data, os.fspath(path))


def _governance_dir(config: AuditConfig, name: str, value: object) -> None:
    if not isinstance(value, str):
        config.errors.append(
            f"{name}: governance_dir must be a folder name, found {_kind(value)}; using Forge"
        )
        return
    folder = value.strip().strip("/")
    if folder.startswith("./"):
        folder = folder[2:]
    if folder in ("", "."):
        config.governance_dir = ""
    elif ".." in folder.split("/") or "\\" in folder:
        config.errors.append(
            f"{name}: governance_dir {value!r} must be a folder inside the repository; using Forge"
        )
    else:
        config.governance_dir = folder


def _checks(config: AuditConfig, name: str, value: object) -> None:
    if not isinstance(value, dict):
        config.errors.append(f"{name}: checks must be a mapping of check codes, found {_kind(value)}")
        return
    for raw_code, setting in value.items():
        code = str(raw_code).upper()
        if code not in CHECK_CODES:
            config.errors.append(f"{name}: checks.{raw_code} is not a check (A1–A9, W1–W3); ignored")
            continue
        if not isinstance(setting, dict):
            config.errors.append(
                f"{name}: checks.{code} must be a mapping like {{severity: warning}}; the default applies"
            )
            continue
        for option, option_value in setting.items():
            if option in CHECK_OPTIONS.get(code, ()):
                _names(config, name, code, str(option), option_value)
                continue
            if option_value is False:
                option_value = "off"  # YAML 1.1 reads an unquoted `off` as false
            if option != "severity":
                known = ", ".join(("severity", *CHECK_OPTIONS.get(code, ())))
                config.errors.append(
                    f"{name}: checks.{code}.{option} is not a setting (known: {known}); ignored"
                )
            elif option_value in SEVERITIES:
                config.severities[code] = cast(Severity, option_value)
            else:
                config.errors.append(
                    f"{name}: checks.{code}.severity must be blocking, warning or off, "
                    f"not {option_value!r}; the default applies"
                )


def _names(config: AuditConfig, name: str, code: str, option: str, value: object) -> None:
    """A list of import names for a check's option (`checks.A9.ignore`, `checks.A9.first_party`)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        config.errors.append(f"{name}: checks.{code}.{option} must be a list of names, found {_kind(value)}")
        return
    target = config.a9_ignore if option == "ignore" else config.a9_first_party
    for item in items:
        if isinstance(item, str) and item.strip():
            target.append(item.strip())
        else:
            config.errors.append(f"{name}: checks.{code}.{option} entry {item!r} is not a name; ignored")


def _paths_ignore(config: AuditConfig, name: str, value: object) -> None:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        config.errors.append(f"{name}: paths_ignore must be a list of patterns, found {_kind(value)}")
        return
    for item in items:
        if isinstance(item, str) and item.strip():
            config.paths_ignore.append(item.strip())
        else:
            config.errors.append(f"{name}: paths_ignore entry {item!r} is not a pattern; ignored")


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"{type(value).__name__} {value!r}"
