"""`forgeguard audit` / `python -m checks`: options, output formats and exit codes."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

from checks.cli import WHOLE_HISTORY, main
from checks.source import EMPTY_TREE
from forgeguard_app.cli import main as forgeguard_main
from tests.checks.gitaudit import LEDGER, TEST_RUNS, governed
from tests.fixtures.gitrepo import GitRepo

Capture = pytest.CaptureFixture[str]
ROOT = pathlib.Path(__file__).resolve().parents[2]
# The four analysis checks are not what these tests are about; they judge the files on their own.
ONLY_ENGINE_CHECKS = "checks:\n" + "".join(f"  {c}: {{severity: off}}\n" for c in ("A4", "A9", "W1", "W3"))


CONFIG = ".github/forgeguard.yml"


def passing_repo(repo: GitRepo) -> GitRepo:
    repo.commit({**governed([CONFIG]), CONFIG: ONLY_ENGINE_CHECKS})
    return repo


def run(capsys: Capture, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_passing_audit_exits_0(git_repo: GitRepo, capsys: Capture) -> None:
    code, out, err = run(capsys, str(passing_repo(git_repo).path))
    assert code == 0, out
    assert out.startswith("=== AUDIT SCRIPT RESULT ===\n")
    assert "Overall: PASS" in out
    assert err == WHOLE_HISTORY + "\n"


def test_a_bare_audit_on_the_default_branch_says_it_audits_the_whole_history_and_how_to_audit_less(
    git_repo: GitRepo, capsys: Capture
) -> None:
    _, _, err = run(capsys, str(passing_repo(git_repo).path))
    assert "audits the whole history" in err
    assert "--base HEAD~1" in err and "--working-tree" in err


def test_an_explicit_base_audits_without_the_whole_history_note(git_repo: GitRepo, capsys: Capture) -> None:
    repo = passing_repo(git_repo)
    repo.commit({"more.txt": "x\n"})
    _, _, err = run(capsys, str(repo.path), "--base", "HEAD~1")
    assert err == ""


def test_ledger_on_a_repository_without_governance_refuses_and_writes_nothing(
    git_repo: GitRepo, capsys: Capture
) -> None:
    git_repo.commit({"app.py": "x = 1\n"})
    code, out, err = run(capsys, str(git_repo.path), "--ledger")
    assert code == 2 and out == ""
    assert "--ledger needs a governance folder" in err
    assert not (git_repo.path / "Forge").exists()


def test_a_failing_audit_exits_1(git_repo: GitRepo, capsys: Capture) -> None:
    passing_repo(git_repo).commit({TEST_RUNS: "Status: FAIL\n"})
    code, out, _ = run(capsys, str(git_repo.path))
    assert code == 1
    assert "A8 Test gate:              FAIL" in out


def test_a_folder_that_is_not_a_repository_exits_2_with_one_line(
    tmp_path: pathlib.Path, capsys: Capture
) -> None:
    code, out, err = run(capsys, str(tmp_path))
    assert code == 2
    assert out == ""
    assert err == f"forgeguard: {tmp_path} is not a git repository\n"


def test_an_unknown_commit_exits_2_with_one_line(git_repo: GitRepo, capsys: Capture) -> None:
    code, _, err = run(capsys, str(passing_repo(git_repo).path), "--base", "no-such-commit")
    assert code == 2
    assert err == "forgeguard: unknown commit 'no-such-commit'\n"


def test_an_unknown_head_exits_2(git_repo: GitRepo, capsys: Capture) -> None:
    code, _, err = run(capsys, str(passing_repo(git_repo).path), "--head", "deadbeef")
    assert (code, err) == (2, "forgeguard: unknown commit 'deadbeef'\n")


def test_a_repository_without_commits_exits_2(git_repo: GitRepo, capsys: Capture) -> None:
    code, _, err = run(capsys, str(git_repo.path))
    assert code == 2
    assert err.count("\n") == 1 and "no commits" in err


def test_an_unreadable_config_exits_2(git_repo: GitRepo, capsys: Capture) -> None:
    missing = str(git_repo.path / "missing.yml")
    code, _, err = run(capsys, str(passing_repo(git_repo).path), "--config", missing)
    assert code == 2
    assert err.startswith("forgeguard: cannot read the configuration") and err.count("\n") == 1


def test_a_config_file_given_on_the_command_line_is_used(
    git_repo: GitRepo, tmp_path: pathlib.Path, capsys: Capture
) -> None:
    passing_repo(git_repo).commit({TEST_RUNS: "Status: FAIL\n"})
    config = tmp_path / "relaxed.yml"
    config.write_text(ONLY_ENGINE_CHECKS + "  A3: {severity: warning}\n  A8: {severity: warning}\n")
    code, out, _ = run(capsys, str(git_repo.path), "--config", str(config))
    assert code == 0, out


def test_mistakes_in_the_repository_config_are_reported_and_the_audit_runs(
    git_repo: GitRepo, capsys: Capture
) -> None:
    git_repo.commit({**governed([CONFIG]), CONFIG: ONLY_ENGINE_CHECKS + "colour: blue\n"})
    code, out, _ = run(capsys, str(git_repo.path))
    assert code == 0
    assert "Configuration error: .github/forgeguard.yml: unknown key 'colour'" in out


def test_json_output_lists_all_twelve_checks(git_repo: GitRepo, capsys: Capture) -> None:
    code, out, _ = run(capsys, str(passing_repo(git_repo).path), "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert data["overall"] == "pass"
    assert [c["code"] for c in data["checks"]] == [
        "A1",
        "A2",
        "A3",
        "A4",
        "A5",
        "A6",
        "A7",
        "A8",
        "A9",
        "W1",
        "W2",
        "W3",
    ]
    assert data["change"]["base"] == EMPTY_TREE
    assert data["change"]["head"] == git_repo.head()
    assert data["phase"] == "Phase 3 -- Audit Engine"


def test_markdown_output_is_the_check_run_table(git_repo: GitRepo, capsys: Capture) -> None:
    _, out, _ = run(capsys, str(passing_repo(git_repo).path), "--format", "markdown")
    assert "| Check | Name | Severity | Outcome | Detail |" in out


def test_phase_option_is_reported(git_repo: GitRepo, capsys: Capture) -> None:
    _, out, _ = run(capsys, str(passing_repo(git_repo).path), "--phase", "Phase 7 -- Runner")
    assert "Phase: Phase 7 -- Runner\n" in out


def test_claimed_files_replace_the_diff_log_claims(git_repo: GitRepo, capsys: Capture) -> None:
    base = passing_repo(git_repo).head()
    git_repo.commit({"app/x.py": "x = 1\n"})
    code, out, _ = run(capsys, str(git_repo.path), "--base", base, "--claimed-files", "app/x.py")
    assert "A1 Scope compliance:       PASS" in out
    assert "Claimed files: app/x.py\n" in out
    assert code == 0


def test_ledger_option_appends_an_entry_creating_the_file(git_repo: GitRepo, capsys: Capture) -> None:
    files = {**governed([CONFIG]), CONFIG: ONLY_ENGINE_CHECKS}
    del files[LEDGER]
    git_repo.commit(files)
    code, _, err = run(capsys, str(git_repo.path), "--ledger")
    ledger = (git_repo.path / LEDGER).read_text(encoding="utf-8")
    assert code == 0
    assert ledger.startswith("# Audit Ledger")
    assert "## Audit Entry: Phase 3 -- Audit Engine -- Iteration 1\n" in ledger
    assert "Outcome: SIGNED-OFF (awaiting AUTHORIZED)" in ledger
    assert "iteration 1" in err


def test_working_tree_audits_uncommitted_changes_of_tracked_files(git_repo: GitRepo, capsys: Capture) -> None:
    passing_repo(git_repo)
    git_repo.write({TEST_RUNS: "Status: FAIL\n", "untracked.py": "x\n"})
    code, out, _ = run(capsys, str(git_repo.path), "--working-tree", "--format", "json")
    data = json.loads(out)
    assert code == 1
    assert data["change"]["files"] == 1
    assert data["change"]["head"] == "working-tree"


def test_working_tree_refuses_base_and_head(git_repo: GitRepo, capsys: Capture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([str(passing_repo(git_repo).path), "--working-tree", "--base", "HEAD"])
    assert exit_info.value.code == 2


def test_default_base_on_a_feature_branch_is_the_merge_base_with_main(
    git_repo: GitRepo, capsys: Capture
) -> None:
    passing_repo(git_repo)
    git_repo.git("checkout", "-q", "-b", "feature")
    git_repo.commit({"app/x.py": "x\n"})
    _, out, _ = run(capsys, str(git_repo.path), "--format", "json")
    assert json.loads(out)["change"]["files"] == 1


def test_default_base_on_the_default_branch_is_the_empty_tree(git_repo: GitRepo, capsys: Capture) -> None:
    passing_repo(git_repo)
    git_repo.git("checkout", "-q", "-b", "feature")
    git_repo.git("checkout", "-q", "main")
    _, out, _ = run(capsys, str(git_repo.path), "--format", "json")
    assert json.loads(out)["change"]["base"] == EMPTY_TREE


def test_default_base_follows_origin_head(git_repo: GitRepo, capsys: Capture) -> None:
    passing_repo(git_repo)
    git_repo.git("branch", "-m", "main", "trunk")
    git_repo.git("update-ref", "refs/remotes/origin/trunk", "HEAD")
    git_repo.git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/trunk")
    git_repo.git("checkout", "-q", "-b", "feature")
    git_repo.commit({"app/x.py": "x\n", "app/y.py": "y\n"})
    _, out, _ = run(capsys, str(git_repo.path), "--format", "json")
    assert json.loads(out)["change"]["files"] == 2


def test_a_one_branch_repository_without_main_audits_its_whole_history(
    git_repo: GitRepo, capsys: Capture
) -> None:
    passing_repo(git_repo)
    git_repo.git("branch", "-m", "main", "develop")
    _, out, _ = run(capsys, str(git_repo.path), "--format", "json")
    assert json.loads(out)["change"]["base"] == EMPTY_TREE


def test_without_a_default_branch_among_several_it_asks_for_base(git_repo: GitRepo, capsys: Capture) -> None:
    passing_repo(git_repo)
    git_repo.git("branch", "-m", "main", "develop")
    git_repo.git("branch", "other")
    code, _, err = run(capsys, str(git_repo.path))
    assert code == 2
    assert "pass --base" in err and err.count("\n") == 1


def test_forgeguard_audit_dispatches_to_this_command(git_repo: GitRepo, capsys: Capture) -> None:
    assert forgeguard_main(["audit", str(passing_repo(git_repo).path), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["overall"] == "pass"


def test_python_m_checks_is_the_same_command(git_repo: GitRepo) -> None:
    passing_repo(git_repo)
    proc = subprocess.run(
        [sys.executable, "-m", "checks", str(git_repo.path), "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["overall"] == "pass"


def test_a_repository_config_that_is_not_yaml_is_reported_and_the_defaults_apply(
    git_repo: GitRepo, capsys: Capture
) -> None:
    git_repo.commit({**governed([CONFIG]), CONFIG: "checks: {A1: [\n\xff"})
    code, out, _ = run(capsys, str(git_repo.path), "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert len(data["config_errors"]) == 1 and "invalid YAML" in data["config_errors"][0]
    assert len(data["checks"]) == 12


def _without_the_app_dependencies(*args: str, cwd: pathlib.Path) -> subprocess.CompletedProcess[str]:
    """`forgeguard ARGS` where the app's dependencies cannot be imported (as in the light install)."""
    code = (
        "import sys\n"
        "for name in ('aiohttp', 'asyncpg', 'dotenv', 'anthropic', 'pgserver'):\n"
        "    sys.modules[name] = None\n"
        "from forgeguard_app.cli import main\n"
        f"raise SystemExit(main({list(args)!r}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True)


def test_forgeguard_audit_runs_without_the_app_dependencies(git_repo: GitRepo) -> None:
    passing_repo(git_repo)
    done = _without_the_app_dependencies("audit", cwd=git_repo.path)
    assert done.returncode == 0, done.stderr
    assert "Overall: PASS" in done.stdout


def test_forgeguard_serve_without_the_app_dependencies_names_the_extra(tmp_path: pathlib.Path) -> None:
    done = _without_the_app_dependencies("serve", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().endswith("pip install 'forgeguard[app]'")
    assert "`forgeguard serve` needs the app's dependencies" in done.stderr
