"""Reading the diff log (spec §3): sections, claimed files, BASE_HEAD, status, phase, header."""

from __future__ import annotations

import pytest

from checks.difflog import claim_path, parse, split_claimed


def claims(body: str, heading: str = "## Files Changed") -> list[str]:
    return parse(f"# Log\n\n{heading}\n{body}\n## Verification\n- Static\n").claimed


def test_a_bullet_with_a_description_claims_only_its_path() -> None:
    assert claims("- app/x.py - added foo\n") == ["app/x.py"]


@pytest.mark.parametrize(
    "bullet",
    [
        "app/x.py — added foo",
        "app/x.py – added foo",
        "app/x.py (new module)",
        "app/x.py: added foo",
        "`app/x.py` - added foo",
        '"app/x.py" - added foo',
        "'app/x.py'",
        "**`app/x.py`** — added",
        "./app/x.py",
        "[x] app/x.py - done",
    ],
)
def test_every_separator_and_wrapper_leaves_the_bare_path(bullet: str) -> None:
    assert claims(f"- {bullet}\n") == ["app/x.py"]


def test_a_wrapped_path_keeps_a_separator_that_is_part_of_its_name() -> None:
    assert claims("- `docs/a - b.md` - notes\n") == ["docs/a - b.md"]


def test_a_path_with_spaces_is_kept_up_to_the_separator() -> None:
    assert claims("- docs/my notes.md - rewritten\n") == ["docs/my notes.md"]


def test_none_and_none_detected_claim_nothing() -> None:
    assert claims("- (none)\n") == []
    assert claims("- (none detected)\n") == []


def test_table_rows_claim_their_first_cell_and_skip_header_and_separator() -> None:
    table = "| File | Change |\n| --- | --- |\n| `app/x.py` | added |\n| app/y.py | fixed |\n"
    assert claims(table) == ["app/x.py", "app/y.py"]


def test_created_and_modified_sections_with_trailing_text_are_claims_too() -> None:
    text = (
        "## Files Created (this cycle)\n- a.py\n\n"
        "## Files Modified\n- b.py\n- a.py\n\n"
        "## Notes\n- not/a/claim.py\n"
    )
    assert parse(text).claimed == ["a.py", "b.py"]


def test_indented_sub_bullets_describe_a_file_and_claim_nothing() -> None:
    assert claims("- app/x.py\n  - added foo\n  - removed bar.\n- app/y.py\n") == ["app/x.py", "app/y.py"]


def test_nested_paths_under_a_group_label_are_the_claims() -> None:
    text = "- Backend\n  - app/x.py - added\n  - `setup.cfg`\n- Frontend:\n  - web/a.ts\n- README.md\n"
    assert claims(text) == ["app/x.py", "setup.cfg", "web/a.ts", "README.md"]


def test_numbered_items_are_bullets() -> None:
    assert claims("1. app/x.py\n2) app/y.py\n") == ["app/x.py", "app/y.py"]


def test_base_head_is_read_from_a_plain_line_or_a_bullet() -> None:
    assert parse("## Cycle Metadata\nBASE_HEAD: abc1234\n").base_head == "abc1234"
    assert parse("## Cycle Metadata\n- BASE_HEAD: `abc1234` (start)\n").base_head == "abc1234"
    assert parse("## Cycle Metadata\n- **BASE_HEAD:** abc1234\n").base_head == "abc1234"


def test_base_head_outside_cycle_metadata_is_not_read() -> None:
    assert parse("## Notes\nBASE_HEAD: abc1234\n").base_head is None


def test_cycle_status_is_read_from_its_bullet() -> None:
    assert parse("## Cycle Status\n- Status: IN_PROCESS\n").status == "IN_PROCESS"


def test_header_is_everything_before_minimal_diff_hunks() -> None:
    log = parse("# Log\nTODO: a\n## Minimal Diff Hunks\nTODO: b\n")
    assert log.header == "# Log\nTODO: a"


def test_header_is_the_whole_text_without_minimal_diff_hunks() -> None:
    assert parse("# Log\nbody\n").header == "# Log\nbody\n"


def test_phase_is_the_first_phase_n_to_the_end_of_its_line() -> None:
    log = parse("# Diff Log: Phase 3 -- Audit Engine\n\nPhase 4 later\n")
    assert log.phase == "Phase 3 -- Audit Engine"


def test_phase_is_none_without_a_phase_number() -> None:
    assert parse("# Diff log\nPhase: planning\n").phase is None


def test_crlf_line_endings_are_read_like_lf() -> None:
    text = "## Files Changed\r\n- a.py - x\r\n- b.py\r\n\r\n## Cycle Metadata\r\nBASE_HEAD: abc1234\r\n"
    log = parse(text)
    assert log.claimed == ["a.py", "b.py"]
    assert log.base_head == "abc1234"


def test_level_three_headings_do_not_start_a_section() -> None:
    log = parse("## Files Changed\n### Backend\n- a.py\n### Frontend\n- b.ts\n")
    assert log.claimed == ["a.py", "b.ts"]


def test_claim_path_of_a_bare_separator_claims_nothing() -> None:
    assert claim_path("  ") is None


def test_claimed_files_option_splits_on_commas_and_normalizes() -> None:
    assert split_claimed(" ./a.py, b/c.py,,a.py ") == ["a.py", "b/c.py"]


def test_a_claimed_dunder_file_keeps_its_underscores() -> None:
    text = "## Files Changed\n- `shelf/__init__.py`\n- __app/x.py__ — bold\n- pkg/__main__.py\n"
    assert parse(text).claimed == ["shelf/__init__.py", "app/x.py", "pkg/__main__.py"]
