"""Check-run payloads: the summary table, escaping, annotations in batches, byte-aware cuts."""

from __future__ import annotations

import json
import pathlib

import jsonschema
import pytest

from checks import render
from checks.config import CHECK_CODES, AuditConfig
from checks.model import Finding
from forgeguard_app.checkruns import report as rp
from tests.checkruns.reports import make_report

VIEW = rp.RunView(audit_url="https://forgeguard.example/audits/7")
NOW = "2026-11-21T12:00:00Z"


@pytest.fixture(scope="module")
def update_schema(shared_dir: pathlib.Path) -> jsonschema.Draft202012Validator:
    js = json.loads((shared_dir / "github-corpus/openapi/github-app-subset.jsonschema.json").read_text())
    return jsonschema.Draft202012Validator(
        {**js["operations"]["checks/update"]["request"], "$defs": js["$defs"]}
    )


def test_truncate_utf8_keeps_short_text_as_it_is() -> None:
    assert rp.truncate_utf8("héllo", 10, "[cut]") == "héllo"


def test_truncate_utf8_never_splits_a_character_and_fits_with_its_note() -> None:
    text = "é" * 40_000  # 80,000 bytes, no newline
    cut = rp.truncate_utf8(text, 65_535, "\n[cut]")
    assert len(cut.encode("utf-8")) <= 65_535
    assert cut.endswith("\n[cut]")
    assert set(cut.removesuffix("\n[cut]")) == {"é"}


def test_truncate_utf8_cuts_at_the_end_of_a_line_when_one_is_near() -> None:
    text = "".join(f"| row {i} | 🙂 |\n" for i in range(10_000))
    cut = rp.truncate_utf8(text, 1_000, "NOTE")
    assert cut.removesuffix("NOTE").endswith("|\n")


def test_md_escapes_markdown_html_and_mentions_in_untrusted_text() -> None:
    escaped = rp.md("x | <img src=x> [link](http://e) @octocat `code`\n# heading")
    assert (
        escaped == "x \\| &lt;img src=x&gt; \\[link\\](http:\u200b//e) @\u200boctocat \\`code\\` \\# heading"
    )


def test_summary_is_the_engines_markdown_summary_and_a_link_to_the_audit() -> None:
    report = make_report({"A1": "fail"})
    summary = rp.render_summary(report, VIEW)
    assert summary.startswith(render.summary_markdown(report))
    assert f"]({VIEW.audit_url})" in summary


def test_summary_is_the_table_of_all_twelve_checks() -> None:
    summary = rp.render_summary(make_report({"A1": "fail"}), VIEW)
    rows = [line for line in summary.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 13


def test_summary_of_an_ungoverned_repository_says_how_to_opt_in() -> None:
    summary = rp.render_summary(make_report({"A1": "skip"}, governed=False), VIEW)
    assert "to opt in" in summary


def test_summary_of_a_governed_repository_has_no_opt_in_note() -> None:
    assert "opt in" not in rp.render_summary(make_report(), VIEW)


def test_summary_lists_configuration_errors() -> None:
    report = make_report()
    report.config_errors.append("report must be one of summary, per-check, not 'loud'; using summary")
    summary = rp.render_summary(report, VIEW)
    assert "report must be one of summary, per-check, not 'loud'; using summary" in summary


def test_a_finding_cannot_break_out_of_its_table_cell() -> None:
    report = make_report({"A4": "fail"}, details={"A4": "evil | cell\n| injected | row |"})
    summary = rp.render_summary(report, VIEW)
    a4 = next(line for line in summary.splitlines() if line.startswith("| A4 "))
    assert a4.count(" | ") == 4
    assert not any(line.startswith("| injected") for line in summary.splitlines())


def test_text_lists_the_findings_of_checks_that_did_not_pass() -> None:
    finding = Finding("app/x.py", "[api] app/x.py:3 contains 'SELECT'", "failure", 3)
    text = rp.render_text(make_report({"A4": "fail"}, {"A4": [finding]}), VIEW)
    assert "### ❌ A4 Boundary compliance: Failed" in text
    assert "app/x.py line 3:" in text
    assert "A1 Scope" not in text


def test_annotation_levels_map_to_github_levels() -> None:
    findings = [Finding("a.py", "m", level, 1) for level in ("failure", "warning", "notice")]
    found, _ = rp.collect_annotations(make_report({"W1": "warn"}, {"W1": findings}).results)
    assert [a["annotation_level"] for a in found] == ["failure", "warning", "notice"]


def test_findings_without_a_line_are_not_annotations() -> None:
    found, left_out = rp.collect_annotations(
        make_report({"A1": "fail"}, {"A1": [Finding("a.py", "m")]}).results
    )
    assert (found, left_out) == ([], 0)


def test_annotation_end_line_defaults_to_start_line() -> None:
    found, _ = rp.collect_annotations(
        make_report({"A9": "fail"}, {"A9": [Finding("a.py", "m", "failure", 4)]}).results
    )
    assert (found[0]["start_line"], found[0]["end_line"], found[0]["title"]) == (4, 4, "A9 Dependency gate")


def test_120_findings_go_out_in_three_requests_the_last_one_completing(
    update_schema: jsonschema.Draft202012Validator,
) -> None:
    findings = [Finding(f"src/f{i}.py", f"finding {i}", "failure", i + 1) for i in range(120)]
    payloads = rp.summary_run(make_report({"A4": "fail"}, {"A4": findings}), VIEW, NOW)
    sizes = [len(u["output"].get("annotations", [])) for u in payloads.updates]
    assert sizes == [50, 50, 20]
    assert [u["status"] for u in payloads.updates] == ["in_progress", "in_progress", "completed"]
    assert payloads.updates[-1]["conclusion"] == "failure"
    for update in payloads.updates:
        update_schema.validate(update)


def test_annotations_are_capped_and_the_text_says_how_many_were_left_out() -> None:
    findings = [Finding("a.py", f"f{i}", "warning", i + 1) for i in range(rp.MAX_ANNOTATIONS + 3)]
    payloads = rp.summary_run(make_report({"W1": "warn"}, {"W1": findings}), VIEW, NOW)
    sent = sum(len(u["output"].get("annotations", [])) for u in payloads.updates)
    assert sent == rp.MAX_ANNOTATIONS
    assert "3 more findings with a line were not annotated" in payloads.updates[-1]["output"]["text"]


def test_huge_text_is_cut_to_65535_bytes_with_a_note(update_schema: jsonschema.Draft202012Validator) -> None:
    findings = [Finding(f"src/模块{i}.py", "é" * 200, "failure") for i in range(2_000)]
    payloads = rp.summary_run(make_report({"A1": "fail"}, {"A1": findings}), VIEW, NOW)
    text = payloads.updates[-1]["output"]["text"]
    assert len(text.encode("utf-8")) <= 65_535
    assert "Cut to 65,535 bytes" in text
    assert VIEW.audit_url in text
    update_schema.validate(payloads.updates[-1])


def test_per_check_mode_gives_one_run_per_check() -> None:
    runs = rp.per_check_runs(make_report({"A1": "fail", "W1": "warn"}), VIEW, NOW)
    assert [r.name for r in runs] == [f"ForgeGuard {code}" for code in CHECK_CODES]
    by_name = {r.name: r for r in runs}
    assert by_name["ForgeGuard A1"].conclusion == "failure"
    assert by_name["ForgeGuard W1"].conclusion == "neutral"
    assert by_name["ForgeGuard A1"].updates[-1]["output"]["title"] == "A1 Scope compliance: Failed"


def test_run_names_follow_the_report_mode() -> None:
    assert rp.run_names(AuditConfig(), ["A1", "A2"]) == ["ForgeGuard"]
    assert rp.run_names(AuditConfig(report="per-check"), ["A1", "A2"]) == ["ForgeGuard A1", "ForgeGuard A2"]


def test_failure_update_completes_neutral_and_says_how_to_rerun(
    update_schema: jsonschema.Draft202012Validator,
) -> None:
    update = rp.failure_update("GitHub answered 502 five times.", VIEW, NOW)
    assert (update["status"], update["conclusion"]) == ("completed", "neutral")
    assert "GitHub answered 502 five times." in update["output"]["summary"]
    assert "Re-run" in update["output"]["summary"]
    update_schema.validate(update)


def test_a_bare_url_from_the_repository_does_not_become_a_link_in_the_check_run() -> None:
    assert "https://" not in rp.md("see https://evil.example/login and www.evil.example")


def test_right_to_left_overrides_from_the_repository_do_not_reach_the_check_run() -> None:
    assert rp.md("invoice\u202egpj.exe") == "invoicegpj.exe"
