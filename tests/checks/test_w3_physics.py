"""W3 Physics route coverage: routes of physics.yaml need a handler under the router folders."""

from __future__ import annotations

from checks import w3_physics as w3
from checks.config import AuditConfig
from checks.context import Verdict
from tests.checks.gitaudit import audit, result
from tests.checks.memsource import Files, make_ctx
from tests.fixtures.gitrepo import GitRepo

PHYSICS = "Forge/Contracts/physics.yaml"


def physics(*routes: str) -> str:
    body = "".join(f"  {r}:\n    get:\n      summary: x\n" for r in routes)
    return f"info:\n  title: t\npaths:\n{body}"


def run(files: Files) -> Verdict:
    return w3.run(make_ctx({"Forge/evidence/updatedifflog.md": "x", **files}))


def test_absent_physics_warns() -> None:
    verdict = run({"app.py": ""})
    assert (verdict.outcome, verdict.detail) == ("warn", "physics.yaml not found.")


def test_a_route_declared_in_a_router_file_is_covered() -> None:
    files = {
        PHYSICS: physics("/users"),
        "app/routers/accounts.py": '@router.get("/users")\ndef list_users(): ...\n',
    }
    verdict = run(files)
    assert (verdict.outcome, verdict.detail) == ("pass", "All 1 route(s) in physics.yaml have a handler.")


def test_an_uncovered_route_warns_with_a_finding_at_its_line() -> None:
    files = {PHYSICS: physics("/users", "/orders"), "app/routers/users.py": '@router.get("/users")\n'}
    verdict = run(files)
    assert verdict.outcome == "warn"
    assert verdict.detail == "Uncovered routes: /orders"
    assert [(f.path, f.start_line) for f in verdict.findings] == [(PHYSICS, 7)]


def test_parameters_compare_loosely_whatever_their_names() -> None:
    files = {
        PHYSICS: physics("/items/{id}", "/users/{user_id}/posts/{post_id}", "/files/{name}"),
        "routes/a.js": "router.get('/items/:item_id', h);\n",
        "routes/b.py": '@app.route("/users/<int:uid>/posts/<pid>")\n',
        "routes/c.ts": "app.get(`/files/${name}`, h);\n",
    }
    assert run(files).outcome == "pass"


def test_a_router_prefix_and_a_relative_path_in_one_file_cover_a_route() -> None:
    source = 'router = APIRouter(prefix="/projects")\n@router.get("/{project_id}")\n'
    assert run({PHYSICS: physics("/projects/{id}"), "app/api/projects_api.py": source}).outcome == "pass"


def test_a_literal_outside_the_router_folders_does_not_cover() -> None:
    files = {PHYSICS: physics("/orders"), "app/services/orders_service.py": 'URL = "/orders"\n'}
    assert run(files).outcome == "warn"


def test_subfolders_of_router_folders_count() -> None:
    files = {PHYSICS: physics("/orders"), "app/api/v1/shop/x.py": '@r.post("/orders")\n'}
    assert run(files).outcome == "pass"


def test_forge_json_router_dirs_replace_the_defaults() -> None:
    files = {
        "forge.json": '{"backend": {"router_dirs": ["server/endpoints"]}}',
        PHYSICS: physics("/orders", "/users"),
        "server/endpoints/o.py": '@r.get("/orders")\n',
        "app/routers/u.py": '@r.get("/users")\n',
    }
    assert run(files).detail == "Uncovered routes: /users"


def test_a_handler_file_named_after_the_first_segment_covers_as_a_fallback() -> None:
    files = {PHYSICS: physics("/health-check/deep"), "handlers/health_check.go": "func Handle() {}\n"}
    assert run(files).outcome == "pass"


def test_root_and_static_paths_are_skipped() -> None:
    verdict = run({PHYSICS: physics("/", "/static/{file}")})
    assert (verdict.outcome, verdict.detail) == ("pass", "No routes to cover in physics.yaml.")


def test_a_yaml_error_is_an_error_naming_the_line() -> None:
    verdict = run({PHYSICS: "paths:\n  /users:\n    get: [unclosed\n  /x: y\n"})
    assert verdict.outcome == "error"
    assert verdict.detail.startswith("physics.yaml does not parse:")
    assert verdict.detail.endswith("at line 4")


def test_indentation_other_than_two_spaces_still_gives_routes() -> None:
    text = "paths:\n    /users:\n        get: {}\n    /orders:\n        get: {}\n"
    files = {PHYSICS: text, "api/x.py": '"/users"\n"/orders"\n'}
    assert run(files).outcome == "pass"


def test_a_bom_and_undecodable_bytes_do_not_break_the_check() -> None:
    files: Files = {PHYSICS: "\ufeff" + physics("/users"), "api/x.py": b'"/users" \xff\n'}
    assert run(files).outcome == "pass"


def test_physics_that_is_not_a_mapping_has_no_routes() -> None:
    assert run({PHYSICS: "- just\n- a list\n"}).outcome == "pass"


def test_unsafe_yaml_tags_are_refused_as_an_error() -> None:
    verdict = run({PHYSICS: "paths: !!python/object/apply:os.system ['true']\n"})
    assert verdict.outcome == "error"


def test_wants_is_limited_to_the_contract_and_router_folder_sources() -> None:
    head = {
        "Forge/evidence/updatedifflog.md": "x",
        PHYSICS: physics("/a"),
        "app/routers/a.py": "",
        "app/routers/readme.md": "",
        "app/models/m.py": "",
    }
    assert sorted(w3.wants(make_ctx(head))) == [PHYSICS, "app/routers/a.py", "forge.json"]


# on a real git repository, through the engine


def test_git_uncovered_route_warns(git_repo: GitRepo) -> None:
    base = git_repo.commit({"Forge/evidence/updatedifflog.md": "x\n"})
    head = git_repo.commit({PHYSICS: physics("/users", "/orders"), "app/routers/u.py": '@r.get("/users")\n'})
    found = result(audit(git_repo, base, head), "W3")
    assert (found.outcome, found.detail) == ("warn", "Uncovered routes: /orders")


def test_huge_and_binary_router_files_are_passed_over() -> None:
    files: Files = {
        PHYSICS: physics("/users"),
        "api/huge.py": '"/users"\n' * (50 * 1024 * 1024 // 9),
        "api/blob.py": b'\0"/users"\0',
    }
    assert w3.run(make_ctx(files, files)).detail == "Uncovered routes: /users"


def test_run_on_a_repository_without_governance_folder_skips() -> None:
    verdict = w3.run(make_ctx({"physics.yaml": physics("/a")}, governance_dir=None))
    assert (verdict.outcome, verdict.detail) == ("skip", "no Forge governance folder")


def test_router_files_under_paths_ignore_do_not_cover() -> None:
    files = {PHYSICS: physics("/users"), "api/gen/u.py": '"/users"\n', "Forge/evidence/updatedifflog.md": "x"}
    ctx = make_ctx(files, config=AuditConfig(paths_ignore=["api/gen/"]))
    assert w3.run(ctx).outcome == "warn"
