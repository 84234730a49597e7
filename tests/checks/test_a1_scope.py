"""A1 Scope compliance: changed files against the diff log's claimed files."""

from __future__ import annotations

from checks.config import AuditConfig
from checks.engine import run_audit
from checks.gitsource import GitSource
from checks.source import WORKING_TREE
from tests.checks.gitaudit import DIFFLOG, audit, check, check_with_broken_reads, difflog, governed, result
from tests.fixtures.gitrepo import GitRepo


def start(repo: GitRepo) -> str:
    return repo.commit({"README.md": "hello\n", **governed()})


def test_passes_when_changed_files_match_the_claims(git_repo: GitRepo) -> None:
    base = start(git_repo)
    git_repo.commit(governed(["app/x.py", "app/y.py"], **{"app/x.py": "x\n", "app/y.py": "y\n"}))
    r = check(git_repo, "A1", base)
    assert r.outcome == "pass"
    assert r.detail == "Changed files match the claimed files (3 files)."


def test_fails_on_a_changed_file_that_is_not_claimed(git_repo: GitRepo) -> None:
    base = start(git_repo)
    git_repo.commit(governed(["app/x.py"], **{"app/x.py": "x\n", "app/b.py": "b\n", "app/a.py": "a\n"}))
    r = check(git_repo, "A1", base)
    assert r.outcome == "fail"
    assert r.detail == "Unclaimed in diff: app/a.py, app/b.py."
    assert [f.path for f in r.findings] == ["app/a.py", "app/b.py"]


def test_fails_on_a_claimed_file_that_did_not_change(git_repo: GitRepo) -> None:
    base = start(git_repo)
    git_repo.commit(governed(["app/x.py", "app/ghost.py"], **{"app/x.py": "x\n"}))
    r = check(git_repo, "A1", base)
    assert r.outcome == "fail"
    assert r.detail == "Claimed but not in diff: app/ghost.py."
    assert r.findings == []


def test_detail_names_both_kinds_with_sorted_paths(git_repo: GitRepo) -> None:
    base = start(git_repo)
    git_repo.commit(governed(["z.py", "c.py"], **{"z.py": "z\n", "b.py": "b\n", "a.py": "a\n"}))
    detail = check(git_repo, "A1", base).detail
    assert detail == "Unclaimed in diff: a.py, b.py. Claimed but not in diff: c.py."


def test_a_bullet_with_a_description_claims_its_path(git_repo: GitRepo) -> None:
    base = start(git_repo)
    log = difflog(["app/x.py - added foo", "`app/y.py` — fixed bar"])
    git_repo.commit({DIFFLOG: log, "app/x.py": "x\n", "app/y.py": "y\n"})
    assert check(git_repo, "A1", base).outcome == "pass"


def test_evidence_files_and_phases_may_change_unclaimed(git_repo: GitRepo) -> None:
    base = start(git_repo)
    git_repo.commit(
        governed(
            ["app/x.py"],
            **{
                "app/x.py": "x\n",
                "Forge/evidence/test_runs.md": "run\n",
                "Forge/evidence/audit_ledger.md": "# Audit Ledger\nmore\n",
                "Forge/Contracts/phases.md": "# Phases\n",
            },
        )
    )
    assert check(git_repo, "A1", base).outcome == "pass"


def test_other_contracts_are_not_on_the_allowlist(git_repo: GitRepo) -> None:
    base = start(git_repo)
    physics = "Forge/Contracts/physics.yaml"
    git_repo.commit(governed(["app/x.py"], **{"app/x.py": "x\n", physics: "paths: {}\n"}))
    assert check(git_repo, "A1", base).detail == "Unclaimed in diff: Forge/Contracts/physics.yaml."


def test_a_renamed_file_is_claimed_by_its_new_path_and_its_old_path_is_not_phantom(git_repo: GitRepo) -> None:
    body = "".join(f"line {i}\n" for i in range(20))
    base = git_repo.commit({"old.py": body, **governed()})
    git_repo.git("mv", "old.py", "new.py")
    git_repo.commit(governed(["new.py", "old.py"]))
    assert check(git_repo, "A1", base).outcome == "pass"


def test_paths_compare_case_sensitively(git_repo: GitRepo) -> None:
    base = start(git_repo)
    git_repo.commit(governed(["App/X.py"], **{"app/x.py": "x\n"}))
    r = check(git_repo, "A1", base)
    assert r.detail == "Unclaimed in diff: app/x.py. Claimed but not in diff: App/X.py."


def test_claimed_files_option_replaces_the_diff_log_claims(git_repo: GitRepo) -> None:
    base = start(git_repo)
    git_repo.commit(governed(["wrong.py"], **{"app/x.py": "x\n"}))
    assert check(git_repo, "A1", base, claimed_override=["app/x.py"]).outcome == "pass"


def test_diff_log_base_head_limits_the_judged_change_to_this_cycle(git_repo: GitRepo) -> None:
    base = start(git_repo)
    cycle_start = git_repo.commit({"earlier.py": "from an earlier cycle\n"})
    git_repo.commit({DIFFLOG: difflog(["app/x.py"], base_head=cycle_start), "app/x.py": "x\n"})
    assert check(git_repo, "A1", base).outcome == "pass"


def test_diff_log_base_head_that_is_not_an_ancestor_is_ignored(git_repo: GitRepo) -> None:
    base = start(git_repo)
    git_repo.git("checkout", "-q", "-b", "other")
    elsewhere = git_repo.commit({"other.py": "o\n"})
    git_repo.git("checkout", "-q", "main")
    git_repo.commit({"earlier.py": "e\n"})
    git_repo.commit({DIFFLOG: difflog(["app/x.py"], base_head=elsewhere), "app/x.py": "x\n"})
    assert check(git_repo, "A1", base).detail == "Unclaimed in diff: earlier.py."


def test_an_explicit_base_wins_over_base_head(git_repo: GitRepo) -> None:
    base = start(git_repo)
    cycle_start = git_repo.commit({"earlier.py": "e\n"})
    git_repo.commit({DIFFLOG: difflog(["app/x.py"], base_head=cycle_start), "app/x.py": "x\n"})
    r = check(git_repo, "A1", base, diff_log_base=False)
    assert r.detail == "Unclaimed in diff: earlier.py."


def test_the_working_tree_ignores_base_head(git_repo: GitRepo) -> None:
    start(git_repo)
    cycle_start = git_repo.commit({"earlier.py": "e\n"})
    git_repo.commit({DIFFLOG: difflog([], base_head=cycle_start)})
    git_repo.write({"README.md": "changed\n"})
    with GitSource(git_repo.path) as source:
        report = run_audit(source, source.working_tree_change(), AuditConfig())
    assert report.head == WORKING_TREE
    assert result(report, "A1").detail == "Unclaimed in diff: README.md."


def test_diff_log_md_is_accepted_in_place_of_updatedifflog(git_repo: GitRepo) -> None:
    base = git_repo.commit({"README.md": "hello\n", "Forge/evidence/test_runs_latest.md": "Status: PASS\n"})
    git_repo.commit({"Forge/evidence/diff_log.md": difflog(["app/x.py"]), "app/x.py": "x\n"})
    assert check(git_repo, "A1", base).outcome == "pass"


def test_updatedifflog_is_read_when_both_diff_logs_exist(git_repo: GitRepo) -> None:
    base = start(git_repo)
    git_repo.commit(
        {
            DIFFLOG: difflog(["app/x.py"]),
            "Forge/evidence/diff_log.md": difflog(["other.py"]),
            "app/x.py": "x\n",
        }
    )
    assert check(git_repo, "A1", base).outcome == "pass"


def test_fails_when_the_diff_log_is_missing(git_repo: GitRepo) -> None:
    base = git_repo.commit({"Forge/Contracts/boundaries.json": "{}\n"})
    git_repo.commit({"app/x.py": "x\n"})
    r = check(git_repo, "A1", base)
    assert (r.outcome, r.detail) == ("fail", "diff log missing")


def test_skips_without_a_governance_folder(git_repo: GitRepo) -> None:
    git_repo.commit({"app/x.py": "x\n"})
    r = check(git_repo, "A1")
    assert (r.outcome, r.detail) == ("skip", "no Forge governance folder")


def test_a_read_failure_is_an_error_with_a_one_line_message(git_repo: GitRepo) -> None:
    git_repo.commit(governed())
    r = check_with_broken_reads(git_repo, "A1")
    assert r.outcome == "error"
    assert "\n" not in r.detail and "disk error" in r.detail
    assert "Traceback" not in r.detail


def test_the_report_lists_the_diff_log_claims(git_repo: GitRepo) -> None:
    git_repo.commit(governed(["a.py", "b.py"]))
    assert audit(git_repo).claimed_files == ["a.py", "b.py"]


def test_a_long_list_of_paths_is_cut_in_the_detail_but_each_is_a_finding(git_repo: GitRepo) -> None:
    base = start(git_repo)
    git_repo.commit(governed([], **{f"m{i:02}.py": "x\n" for i in range(30)}))
    r = check(git_repo, "A1", base)
    assert r.detail.endswith(", m24.py and 5 more.")
    assert len(r.findings) == 30


def test_a_claimed_init_module_keeps_its_underscores(git_repo: GitRepo) -> None:
    base = git_repo.commit({"README.md": "x\n"})
    claims = "- app/__init__.py\n- **app/__main__.py** - the entry point\n"
    log = difflog().replace("## Files Changed\n- (none)\n", f"## Files Changed\n{claims}")
    git_repo.commit({**governed(), DIFFLOG: log, "app/__init__.py": "", "app/__main__.py": ""})
    r = check(git_repo, "A1", base)
    assert (r.outcome, r.detail) == ("pass", "Changed files match the claimed files (5 files).")
