"""`.github/forgeguard.yml` (spec §6): valid keys apply, mistakes are reported with defaults."""

from __future__ import annotations

import pathlib

import pytest

from checks.config_file import load_config_file, parse_config


def test_an_empty_file_gives_the_defaults() -> None:
    config = parse_config("")
    assert config.governance_dir == "Forge"
    assert config.report == "summary"
    assert config.paths_ignore == []
    assert config.errors == []
    assert config.severity("A1") == "blocking"
    assert config.severity("W1") == "warning"


def test_every_documented_key_applies() -> None:
    config = parse_config(
        "governance_dir: governance\n"
        "checks:\n  A5: {severity: warning}\n  W1: {severity: blocking}\n  A9: {severity: off}\n"
        "paths_ignore: ['vendor/**', '*.min.js']\n"
        "report: per-check\n"
    )
    assert config.errors == []
    assert config.governance_dir == "governance"
    assert [config.severity(code) for code in ("A5", "W1", "A9")] == ["warning", "blocking", "off"]
    assert config.paths_ignore == ["vendor/**", "*.min.js"]
    assert config.report == "per-check"


def test_an_unknown_key_is_reported_and_the_valid_keys_still_apply() -> None:
    config = parse_config("colour: blue\nreport: per-check\n")
    assert config.report == "per-check"
    assert len(config.errors) == 1
    assert "unknown key 'colour'" in config.errors[0]


def test_an_unknown_severity_is_reported_and_the_default_applies() -> None:
    config = parse_config("checks:\n  A5: {severity: loud}\n  A6: {severity: warning}\n")
    assert config.severity("A5") == "blocking"
    assert config.severity("A6") == "warning"
    assert any("checks.A5.severity" in e and "'loud'" in e for e in config.errors)


def test_an_unknown_check_code_is_reported() -> None:
    config = parse_config("checks:\n  Z9: {severity: off}\n")
    assert any("Z9" in e for e in config.errors)


def test_a_check_code_in_lower_case_is_accepted() -> None:
    assert parse_config("checks:\n  a5: {severity: off}\n").severity("A5") == "off"


def test_an_unknown_report_mode_keeps_summary() -> None:
    config = parse_config("report: everything\n")
    assert config.report == "summary"
    assert len(config.errors) == 1


def test_invalid_yaml_is_one_error_naming_the_line_and_the_defaults_apply() -> None:
    config = parse_config("report: summary\nchecks: [unclosed\n  x: {\n")
    assert config.report == "summary"
    assert len(config.errors) == 1
    assert "invalid YAML at line" in config.errors[0]


def test_a_document_that_is_not_a_mapping_is_reported() -> None:
    config = parse_config("- just\n- a list\n")
    assert config.errors and "expected a mapping" in config.errors[0]


def test_the_builder_section_is_allowed_and_kept_in_raw() -> None:
    config = parse_config("builder:\n  max_cost_usd: 5\n  pause_timeout: 600\n")
    assert config.errors == []
    assert config.raw["builder"] == {"max_cost_usd": 5, "pause_timeout": 600}


def test_undecodable_bytes_and_a_bom_do_not_stop_parsing() -> None:
    config = parse_config(b"\xef\xbb\xbfreport: per-check\n# \xff\xfe comment\n")
    assert config.report == "per-check"
    assert config.errors == []


def test_a_governance_dir_outside_the_repository_is_refused() -> None:
    config = parse_config("governance_dir: ../elsewhere\n")
    assert config.governance_dir == "Forge"
    assert len(config.errors) == 1


def test_a_governance_dir_of_dot_means_the_root() -> None:
    assert parse_config("governance_dir: .\n").governance_dir == ""


def test_paths_ignore_entries_that_are_not_patterns_are_reported() -> None:
    config = parse_config("paths_ignore: ['docs/**', 3, '']\n")
    assert config.paths_ignore == ["docs/**"]
    assert len(config.errors) == 2


def test_load_config_file_raises_when_the_file_cannot_be_read(tmp_path: pathlib.Path) -> None:
    with pytest.raises(OSError):
        load_config_file(tmp_path / "missing.yml")
