"""Rendering, validating, summarizing and revising the contracts."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import pytest
import yaml

from forgeguard_app.intake.contracts_paths import ALL_PATHS
from forgeguard_app.intake.contracts_prose import Principle, Prose, write_prose
from forgeguard_app.intake.contracts_render import EmptyValue, UnsafePath, render_contracts
from forgeguard_app.intake.contracts_revise import revise_contracts
from forgeguard_app.intake.contracts_summary import summarize_contracts
from forgeguard_app.intake.contracts_validate import ContractsInvalid, audit_files, validate_contracts
from forgeguard_app.intake.phases import parse_phases
from forgeguard_app.intake.sections import validate_section
from forgeguard_app.intake.state import Answers, IntakeState, answers_now
from forgeguard_app.llm import LLM
from tests.fixtures.anthropic import FakeAnthropic, tool_call
from tests.intake.scripted import SAMPLE

PROSE = Prose(
    overview="Shelf is a lending library for a small community: a catalogue, loans and reminders.",
    principles=(
        Principle("Small first", "Ship the smallest thing that lends a book."),
        Principle("Data is sacred", "Never lose a loan record."),
        Principle("Plain", "Readable over clever."),
    ),
)
PHASES = "Forge/Contracts/phases.md"
BOUNDARIES = "Forge/Contracts/boundaries.json"
PHYSICS = "Forge/Contracts/physics.yaml"


@pytest.fixture
def files() -> dict[str, str]:
    return render_contracts(Answers(SAMPLE), PROSE)


def test_all_ten_contracts_forge_json_and_evidence_are_rendered(files: dict[str, str]) -> None:
    assert list(files) == list(ALL_PATHS)
    assert len([p for p in files if p.startswith("Forge/Contracts/")]) == 10


def test_no_rendered_file_has_an_empty_value_or_template_residue(files: dict[str, str]) -> None:
    for path, text in files.items():
        assert "{{" not in text and "{%" not in text, path
        assert not re.search(r"(:\*\*|\|)\s*$", text, re.M) or path.endswith(".md"), path
        assert "None" not in text, path


def test_a_missing_answer_is_an_error_before_anything_is_rendered() -> None:
    intent = {k: v for k, v in SAMPLE["product_intent"].items() if k != "target_users"}
    with pytest.raises(Exception, match="target_users"):
        render_contracts(Answers({**SAMPLE, "product_intent": intent}), PROSE)


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ("tech_stack", "backend_framework"),
        ("tech_stack", "dependency_file"),
        ("deployment_target", "run_command"),
    ],
)
def test_an_empty_answer_value_is_refused_rather_than_rendered_blank(section: str, key: str) -> None:
    values = {**SAMPLE[section], key: "  "}
    with pytest.raises(EmptyValue):
        render_contracts(Answers({**SAMPLE, section: values}), PROSE)


def test_the_rendered_contracts_validate(files: dict[str, str]) -> None:
    assert validate_contracts(files) == []


def test_our_own_engine_passes_the_contracts_pull_request(files: dict[str, str]) -> None:
    report = audit_files(files)
    outcomes = {r.code: r.outcome for r in report.results}
    assert outcomes["A4"] == "pass" and outcomes["W3"] in ("pass", "warn")
    assert not [r.code for r in report.results if r.blocks]


def test_physics_yaml_lists_every_endpoint_under_paths(files: dict[str, str]) -> None:
    paths = yaml.safe_load(files[PHYSICS])["paths"]
    assert sorted(paths) == ["/books", "/books/{book_id}", "/health", "/loans", "/loans/{loan_id}"]
    assert sorted(paths["/books"]) == ["get", "post"]


def test_boundaries_json_carries_the_layers_and_their_rules(files: dict[str, str]) -> None:
    layers = json.loads(files[BOUNDARIES])["layers"]
    assert [(la["name"], la["glob"]) for la in layers] == [
        ("api", "app/api/**"),
        ("repositories", "app/repositories/**"),
    ]
    assert layers[1]["forbidden"] == [{"import": "fastapi", "reason": "no web framework in data access"}]


def test_phases_md_parses_with_the_builders_parser(files: dict[str, str]) -> None:
    phases = parse_phases(files[PHASES])
    assert [(p.number, p.name) for p in phases] == [(0, "Genesis"), (1, "Catalogue and loans")]
    assert phases[1].deliverables == SAMPLE["phase_breakdown"]["phases"][1]["deliverables"]


def test_sections_filled_with_defaults_are_marked_as_defaults() -> None:
    files = render_contracts(answers_now(IntakeState(title="Shelf")), PROSE)
    assert "**Default** — Tech stack was not discussed" in files["Forge/Contracts/stack.md"]
    assert "**Default**" in files[PHASES]
    assert json.loads(files["forge.json"])["defaults"] == [
        "api_endpoints",
        "architectural_boundaries",
        "database_schema",
        "deployment_target",
        "phase_breakdown",
        "product_intent",
        "tech_stack",
        "ui_requirements",
    ]
    assert validate_contracts(files) == []


def test_answered_sections_carry_no_default_mark(files: dict[str, str]) -> None:
    assert not any("**Default**" in text for text in files.values())


def test_a_broken_phases_md_is_refused_with_the_reason(files: dict[str, str]) -> None:
    broken = {**files, PHASES: files[PHASES].replace("## Phase 1 -- ", "## Phase one ")}
    problems = validate_contracts(broken)
    assert any("phases.md: line" in p and "is not '## Phase <N> -- <name>'" in p for p in problems)


def test_a_boundaries_json_that_does_not_parse_names_line_and_column(files: dict[str, str]) -> None:
    problems = validate_contracts({**files, BOUNDARIES: '{"layers": [\n  {"name": }\n]}'})
    assert problems == ["boundaries.json does not parse: Expecting value at line 2 column 12"]


def test_a_boundaries_pattern_that_is_not_a_regex_is_refused(files: dict[str, str]) -> None:
    data = json.loads(files[BOUNDARIES])
    data["layers"][0]["forbidden"] = [{"pattern": "([", "reason": "r"}]
    problems = validate_contracts({**files, BOUNDARIES: json.dumps(data)})
    assert len(problems) == 1 and "pattern '([' is not a valid regex" in problems[0]


def test_a_physics_yaml_without_routes_is_refused(files: dict[str, str]) -> None:
    assert validate_contracts({**files, PHYSICS: "info: {}\n"}) == [
        "physics.yaml has no routes under `paths:`"
    ]


def test_the_summary_describes_each_contract(files: dict[str, str]) -> None:
    summary = summarize_contracts(files)
    assert "| `Forge/Contracts/phases.md` | 2 phases: 0 Genesis, 1 Catalogue and loans |" in summary
    assert "6 routes: GET /health" in summary
    assert "/forge approve" in summary


LIVE = "Ping @team, see ![logo](https://example.com/x.png) and [docs](https://evil.example) <b>now</b>"


def _with(section: str, **values: object) -> Answers:
    return Answers({**SAMPLE, section: {**SAMPLE[section], **values}})


def test_mentions_images_and_links_in_answers_are_inert_in_every_contract() -> None:
    intent = {"summary": LIVE, "core_features": [LIVE], "target_users": [LIVE]}
    files = render_contracts(_with("product_intent", **intent), PROSE)
    blueprint = files["Forge/Contracts/blueprint.md"]
    assert "Ping @\u200bteam" in blueprint
    for text in files.values():
        assert "@team" not in text and "![logo](" not in text and "](https://" not in text
        assert "<b>" not in text


def test_the_models_prose_is_escaped_and_keeps_its_paragraphs() -> None:
    prose = Prose(overview=f"First paragraph.\n\n{LIVE}", principles=PROSE.principles)
    blueprint = render_contracts(Answers(SAMPLE), prose)["Forge/Contracts/blueprint.md"]
    assert "First paragraph.\n\nPing @\u200bteam, see !\\[logo\\]" in blueprint


def test_a_value_in_a_code_span_cannot_leave_it() -> None:
    deploy = {"run_command": "run` @team ![x](https://example.com/x.png) `"}
    stack_md = render_contracts(_with("deployment_target", **deploy), PROSE)["Forge/Contracts/stack.md"]
    line = next(line for line in stack_md.splitlines() if line.startswith("- Start command:"))
    assert line.count("`") == 2 and line.startswith("- Start command: `") and line.endswith("`")


def test_paths_globs_and_names_are_written_verbatim_in_code_spans(files: dict[str, str]) -> None:
    assert "- `Forge/Contracts/builder_contract.md`" in files["Forge/evidence/updatedifflog.md"]
    assert "`app/api/**`" in files["Forge/Contracts/blueprint.md"]
    assert "| `member_email` | text | not null |" in files["Forge/Contracts/schema.md"]
    assert "`pyproject.toml`" in files["Forge/Contracts/stack.md"]


def test_the_contracts_with_escaped_answers_still_pass_our_own_engine() -> None:
    files = render_contracts(_with("product_intent", summary=LIVE, name="Shelf_v2 *beta*"), PROSE)
    assert validate_contracts(files) == []


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [("tech_stack", "dependency_file", "py`project`.toml"), ("tech_stack", "dependency_file", "a\nb")],
)
def test_a_path_that_could_leave_its_code_span_is_refused_by_the_intake(
    section: str, key: str, value: str
) -> None:
    assert validate_section(section, {**SAMPLE[section], key: value})


def test_a_glob_with_a_backtick_is_refused_by_the_intake() -> None:
    layers = [{**SAMPLE["architectural_boundaries"]["layers"][0], "glob": "app/`x`/**"}]
    assert validate_section("architectural_boundaries", {"layers": layers})


def test_the_renderer_refuses_a_path_that_slipped_past_the_intake() -> None:
    with pytest.raises(UnsafePath):
        render_contracts(_with("tech_stack", dependency_file="py`project`.toml"), PROSE)


@pytest.fixture
async def llm(fake_anthropic: FakeAnthropic) -> AsyncIterator[LLM]:
    client = LLM(fake_anthropic.settings(), None, max_retries=0)
    yield client
    await client.close()


async def test_prose_comes_from_a_validated_tool_call(llm: LLM, fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.queue(
        tool_call("write_prose", {"overview": "too short", "principles": []}),
        tool_call(
            "write_prose",
            {
                "overview": PROSE.overview,
                "principles": [{"title": p.title, "text": p.text} for p in PROSE.principles],
            },
        ),
    )
    prose = await write_prose(llm, "claude-haiku-4-5", Answers(SAMPLE))
    assert prose == PROSE
    assert fake_anthropic.requests[1].tool_results()[0]["is_error"] is True


async def test_a_revision_changes_only_the_files_it_returns_and_keeps_human_edits(
    llm: LLM, fake_anthropic: FakeAnthropic, files: dict[str, str]
) -> None:
    edited = {**files, "Forge/Contracts/ui.md": files["Forge/Contracts/ui.md"] + "\nHand-written note.\n"}
    new_phases = files[PHASES].replace("Catalogue and loans", "Catalogue, loans and reminders")
    fake_anthropic.queue(
        tool_call(
            "update_contracts",
            {
                "changes": [{"path": PHASES, "content": new_phases}],
                "summary": "Phase 1 now covers reminders.",
            },
        )
    )
    revision = await revise_contracts(llm, "claude-haiku-4-5", edited, "add reminders to phase 1")
    assert revision.changed == [PHASES]
    assert revision.files["Forge/Contracts/ui.md"].endswith("Hand-written note.\n")
    assert revision.summary == "Phase 1 now covers reminders."
    assert "Hand-written note." in fake_anthropic.requests[0].user_texts()[0]
    assert fake_anthropic.requests[0].streamed


async def test_a_revision_that_breaks_the_phases_is_sent_back_with_the_reason(
    llm: LLM, fake_anthropic: FakeAnthropic, files: dict[str, str]
) -> None:
    broken = files[PHASES].replace("## Phase 1 -- ", "## Step 1 ").replace("## Phase 0 -- ", "## Step 0 ")
    fixed = files[PHASES].replace("Genesis", "Skeleton")
    fake_anthropic.queue(
        tool_call("update_contracts", {"changes": [{"path": PHASES, "content": broken}], "summary": "x"}),
        tool_call(
            "update_contracts", {"changes": [{"path": PHASES, "content": fixed}], "summary": "Renamed."}
        ),
    )
    revision = await revise_contracts(llm, "claude-haiku-4-5", files, "rename phase 0")
    feedback = fake_anthropic.requests[1].tool_results()[0]
    assert feedback["is_error"] is True and "no phase found" in feedback["content"]
    assert "Skeleton" in revision.files[PHASES]


async def test_a_revision_that_never_validates_raises(
    llm: LLM, fake_anthropic: FakeAnthropic, files: dict[str, str]
) -> None:
    fake_anthropic.respond_with(
        lambda _r: tool_call(
            "update_contracts", {"changes": [{"path": BOUNDARIES, "content": "{"}], "summary": "x"}
        )
    )
    with pytest.raises(ContractsInvalid, match=r"boundaries\.json does not parse"):
        await revise_contracts(llm, "claude-haiku-4-5", files, "break it")
    assert len(fake_anthropic.requests) == 3


async def test_a_revision_cannot_write_outside_the_contracts(
    llm: LLM, fake_anthropic: FakeAnthropic, files: dict[str, str]
) -> None:
    fake_anthropic.respond_with(
        lambda _r: tool_call(
            "update_contracts",
            {"changes": [{"path": ".github/workflows/x.yml", "content": "on: push"}], "summary": "x"},
        )
    )
    with pytest.raises(ContractsInvalid, match="is not one of"):
        await revise_contracts(llm, "claude-haiku-4-5", files, "add a workflow")
