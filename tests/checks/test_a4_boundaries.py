"""A4 Boundary compliance: layers, globs, import rules and comment-blind regex rules."""

from __future__ import annotations

import json

from checks import a4_boundaries as a4
from checks.config import AuditConfig
from checks.context import Verdict
from tests.checks.gitaudit import audit, result
from tests.checks.memsource import Files, make_ctx
from tests.fixtures.gitrepo import GitRepo

CONTRACT = "Forge/Contracts/boundaries.json"


def contract(*layers: dict[str, object], known: list[dict[str, str]] | None = None) -> str:
    doc: dict[str, object] = {"description": "test", "layers": list(layers)}
    if known is not None:
        doc["known_violations"] = known
    return json.dumps(doc)


def layer(name: str, glob: str, *forbidden: object, **extra: object) -> dict[str, object]:
    return {"name": name, "glob": glob, "forbidden": list(forbidden), **extra}


SQL = {"pattern": r"\bSELECT\b", "reason": "raw SQL belongs in the repository layer"}


def run(head: Files, base: Files | None = None, *, full: bool = False) -> Verdict:
    return a4.run(make_ctx(head, base, full=full))


def with_contract(text: str, files: Files, *, changed_contract: bool = False) -> tuple[Files, Files]:
    """(head, base): the contract exists at base too unless it is part of the change."""
    head = {CONTRACT: text, **files}
    base = {} if changed_contract else {CONTRACT: text}
    return head, base


def messages(verdict: Verdict) -> list[str]:
    return [f.message for f in verdict.findings]


def test_not_governed_is_a_skip_handled_by_the_engine_and_absent_contract_skips() -> None:
    verdict = run({"Forge/evidence/updatedifflog.md": "x", "app.py": "x = 1\n"})
    assert verdict.outcome == "skip"
    assert verdict.detail == f"{CONTRACT} not found."


def test_a_clean_layer_passes() -> None:
    head, base = with_contract(contract(layer("api", "app/api/*.py", SQL)), {"app/api/x.py": "x = 1\n"})
    verdict = run(head, base)
    assert verdict.outcome == "pass"
    assert verdict.detail == "No boundary violations in 1 file(s) across 1 layer(s)."


def test_a_regex_match_is_a_finding_with_the_spec_text() -> None:
    files = {"app/api/x.py": 'def f():\n    return db.run("SELECT * FROM t")\n'}
    head, base = with_contract(contract(layer("api", "app/api/*.py", SQL)), files)
    verdict = run(head, base)
    assert verdict.outcome == "fail"
    assert messages(verdict) == [
        r"[api] app/api/x.py:2 contains '\bSELECT\b' (raw SQL belongs in the repository layer)"
    ]
    assert verdict.findings[0].start_line == 2


def test_double_star_globs_cross_folders() -> None:
    files = {"app/api/v1/deep/x.py": 'q = "SELECT 1"\n'}
    head, base = with_contract(contract(layer("api", "app/api/**", SQL)), files)
    assert run(head, base).outcome == "fail"


def test_single_star_stays_within_one_folder() -> None:
    files = {"app/api/v1/x.py": 'q = "SELECT 1"\n', "app/api/y.py": "y = 1\n"}
    head, base = with_contract(contract(layer("api", "app/api/*.py", SQL)), files)
    assert run(head, base).outcome == "pass"


def test_regex_is_case_sensitive_so_select_in_a_comment_or_prose_does_not_fire() -> None:
    files = {"app/api/x.py": "# select the user\nchoice = 'select one'\n"}
    head, base = with_contract(contract(layer("api", "app/api/*.py", SQL)), files)
    assert run(head, base).outcome == "pass"


def test_regex_ignores_matches_inside_comments() -> None:
    files = {"app/api/x.py": "x = 1  # SELECT * FROM users\n", "app/api/y.ts": "// SELECT 1\n/* SELECT */\n"}
    head, base = with_contract(contract(layer("api", "app/api/*", SQL)), files)
    assert run(head, base).outcome == "pass"


def test_flags_i_opts_in_to_ignoring_case() -> None:
    rule = {**SQL, "flags": "i"}
    head, base = with_contract(contract(layer("api", "app/*.py", rule)), {"app/x.py": 'q = "select 1"\n'})
    assert run(head, base).outcome == "fail"


def test_layer_flags_i_applies_to_its_rules() -> None:
    lay = layer("api", "app/*.py", SQL, flags="i")
    head, base = with_contract(contract(lay), {"app/x.py": 'q = "select 1"\n'})
    assert run(head, base).outcome == "fail"


def test_import_rule_flags_the_import_and_its_submodules() -> None:
    rule = {"import": "asyncpg", "reason": "the engine is pure"}
    files = {"checks/a.py": "import asyncpg.pool\n", "checks/b.py": "from asyncpg import connect\n"}
    head, base = with_contract(contract(layer("engine", "checks/**", rule)), files)
    verdict = run(head, base)
    assert messages(verdict) == [
        "[engine] checks/a.py:1 contains 'asyncpg' (the engine is pure)",
        "[engine] checks/b.py:1 contains 'asyncpg' (the engine is pure)",
    ]


def test_docstring_mentioning_a_module_name_is_not_flagged() -> None:
    files = {"checks/a.py": '"""Never import asyncpg here."""\nNOTE = "asyncpg is the app\'s"\n'}
    head, base = with_contract(contract(layer("engine", "checks/**", "asyncpg")), files)
    assert run(head, base).outcome == "pass"


def test_a_bare_dotted_pattern_is_an_import_rule_in_python() -> None:
    files = {
        "checks/a.py": "from forgeguard_app.db import Database\n",
        "checks/b.py": "import forgeguard_apps\n",
    }
    head, base = with_contract(contract(layer("engine", "checks/**", "forgeguard_app")), files)
    assert [f.path for f in run(head, base).findings] == ["checks/a.py"]


def test_a_dotted_module_rule_matches_a_from_import_of_that_submodule() -> None:
    files = {"app/api/x.py": "from app import audit\n"}
    head, base = with_contract(contract(layer("api", "app/api/**", "app.audit")), files)
    assert run(head, base).outcome == "fail"


def test_relative_imports_are_resolved_against_the_package() -> None:
    files = {"app/api/x.py": "from ..db import session\n"}
    head, base = with_contract(contract(layer("api", "app/api/**", {"import": "app.db"})), files)
    assert run(head, base).outcome == "fail"


def test_a_bare_pattern_is_an_import_rule_in_js_and_ts() -> None:
    files = {
        "web/a.ts": "import { Pool } from 'pg';\n// pg is not allowed\n",
        "web/b.js": "const x = 'pg';\n",
    }
    head, base = with_contract(contract(layer("web", "web/**", "pg")), files)
    assert [(f.path, f.start_line) for f in run(head, base).findings] == [("web/a.ts", 1)]


def test_a_bare_pattern_is_a_regex_in_other_files() -> None:
    head, base = with_contract(contract(layer("docs", "docs/**", "asyncpg")), {"docs/a.md": "use asyncpg\n"})
    assert run(head, base).outcome == "fail"


def test_all_capital_words_stay_regex_rules_in_python() -> None:
    files = {"app/x.py": 'q = "DELETE FROM t"\n'}
    head, base = with_contract(contract(layer("api", "app/**", "DELETE")), files)
    assert run(head, base).outcome == "fail"


def test_only_changed_files_are_scanned_by_default() -> None:
    text = contract(layer("api", "app/**", SQL))
    base = {CONTRACT: text, "app/old.py": 'q = "SELECT 1"\n'}
    head = {**base, "app/new.py": "x = 1\n"}
    assert run(head, base).outcome == "pass"


def test_full_scans_every_layer_file() -> None:
    text = contract(layer("api", "app/**", SQL))
    base = {CONTRACT: text, "app/old.py": 'q = "SELECT 1"\n'}
    head = {**base, "app/new.py": "x = 1\n"}
    assert run(head, base, full=True).outcome == "fail"


def test_a_changed_contract_scans_every_layer_file() -> None:
    base = {CONTRACT: contract(layer("api", "app/**")), "app/old.py": 'q = "SELECT 1"\n'}
    head = {**base, CONTRACT: contract(layer("api", "app/**", SQL))}
    assert run(head, base).outcome == "fail"


def test_init_empty_and_binary_files_are_skipped() -> None:
    files: Files = {
        "app/__init__.py": 'q = "SELECT 1"\n',
        "app/empty.py": "",
        "app/blob.bin": b"\0SELECT\0",
    }
    head, base = with_contract(contract(layer("api", "app/**", SQL)), files)
    assert run(head, base).outcome == "pass"


def test_a_layer_matching_nothing_is_named_in_the_detail_and_does_not_fail() -> None:
    text = contract(layer("api", "app/**", SQL), layer("ui", "frontend/**/*.tsx", SQL))
    head, base = with_contract(text, {"app/x.py": "x = 1\n"})
    verdict = run(head, base)
    assert verdict.outcome == "pass"
    assert verdict.detail.endswith("Layers matching no file: ui (frontend/**/*.tsx).")


def test_known_violations_are_notices_that_do_not_fail() -> None:
    text = contract(layer("api", "app/**", SQL), known=[{"path": "app/legacy.py", "pattern": r"\bSELECT\b"}])
    head, base = with_contract(text, {"app/legacy.py": 'q = "SELECT 1"\n'})
    verdict = run(head, base)
    assert verdict.outcome == "pass"
    assert [f.level for f in verdict.findings] == ["notice"]
    assert "1 known violation(s) tolerated." in verdict.detail


def test_invalid_json_is_an_error_with_line_and_column() -> None:
    head, base = with_contract('{\n  "layers": [\n    {"name": "api",}\n  ]\n}', {"app/x.py": ""})
    verdict = run(head, base)
    assert verdict.outcome == "error"
    assert verdict.detail.startswith("boundaries.json does not parse:")
    assert "line 3 column 20" in verdict.detail


def test_an_invalid_regex_is_an_error_naming_layer_and_pattern() -> None:
    head, base = with_contract(contract(layer("api", "app/**", "SELECT (")), {"app/x.py": ""})
    verdict = run(head, base)
    assert verdict.outcome == "error"
    assert verdict.detail.startswith("boundaries.json: layer 'api' has an invalid pattern 'SELECT ('")


def test_a_contract_without_layers_is_an_error() -> None:
    head, base = with_contract('{"description": "x"}', {"app/x.py": ""})
    assert run(head, base).outcome == "error"


def test_bom_and_undecodable_bytes_do_not_break_the_check() -> None:
    text = "\ufeff" + contract(layer("api", "app/**", SQL))
    files: Files = {"app/x.py": b'\xef\xbb\xbfq = "SELECT \xff"\n'}
    head, base = with_contract(text, files)
    assert run(head, base).outcome == "fail"


def test_a_file_with_a_syntax_error_still_gets_regex_rules() -> None:
    files = {"app/x.py": 'def f(:\n    q = "SELECT 1"  # SELECT\n'}
    head, base = with_contract(contract(layer("api", "app/**", SQL)), files)
    assert [f.start_line for f in run(head, base).findings] == [2]


def test_wants_lists_the_contract_and_the_layer_files_of_the_change() -> None:
    text = contract(layer("api", "app/**", SQL))
    base = {CONTRACT: text, "app/old.py": "x\n"}
    head = {**base, "app/new.py": "x\n", "docs/a.md": "x\n"}
    assert list(a4.wants(make_ctx(head, base))) == [CONTRACT, "app/new.py"]


# on a real git repository, through the engine


def test_git_double_star_layer_finds_a_violation_in_a_subfolder(git_repo: GitRepo) -> None:
    base = git_repo.commit({CONTRACT: contract(layer("engine", "checks/**", "asyncpg")), "checks/a.py": ""})
    head = git_repo.commit({"checks/deep/er/b.py": "import asyncpg\n"})
    found = result(audit(git_repo, base, head), "A4")
    assert [f.message for f in found.findings] == [
        "[engine] checks/deep/er/b.py:1 contains 'asyncpg' (forbidden)"
    ]


def test_git_not_governed_repository_skips(git_repo: GitRepo) -> None:
    base = git_repo.commit({"a.py": ""})
    head = git_repo.commit({"b.py": ""})
    assert result(audit(git_repo, base, head), "A4").detail == "no Forge governance folder"


def test_a_50_megabyte_layer_file_is_noted_not_scanned() -> None:
    text = contract(layer("api", "app/**", SQL))
    head = {CONTRACT: text, "app/huge.py": 'q = "SELECT 1"\n' * (50 * 1024 * 1024 // 15)}
    verdict = a4.run(make_ctx(head, head, full=True))
    assert verdict.outcome == "pass"
    assert [(f.path, f.level) for f in verdict.findings] == [("app/huge.py", "notice")]


def test_run_on_a_repository_without_governance_folder_skips() -> None:
    verdict = a4.run(make_ctx({CONTRACT.removeprefix("Forge/Contracts/"): "{}"}, governance_dir=None))
    assert (verdict.outcome, verdict.detail) == ("skip", "no Forge governance folder")


def test_odd_shapes_in_the_contract_do_not_crash() -> None:
    doc = {"layers": [{"name": 7, "glob": "app/**", "forbidden": [SQL]}], "known_violations": "none"}
    head, base = with_contract(json.dumps(doc), {"app/x.py": 'q = "SELECT 1"\n'})
    assert messages(run(head, base)) == [
        r"[layer 1] app/x.py:1 contains '\bSELECT\b' (raw SQL belongs in the repository layer)"
    ]


def test_a_forbidden_entry_that_is_neither_string_nor_object_is_an_error() -> None:
    head, base = with_contract(contract(layer("api", "app/**", 42)), {"app/x.py": ""})
    verdict = run(head, base)
    assert (verdict.outcome, verdict.detail) == (
        "error",
        "boundaries.json: layer 'api': forbidden entries are strings or objects",
    )


def test_full_leaves_out_paths_ignore() -> None:
    text = contract(layer("api", "app/**", SQL))
    head = {CONTRACT: text, "app/vendor/lib.py": 'q = "SELECT 1"\n'}
    ctx = make_ctx(head, head, full=True, config=AuditConfig(paths_ignore=["app/vendor/**"]))
    assert a4.run(ctx).outcome == "pass"
