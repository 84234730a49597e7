"""run_audit: isolation of check failures, severities, governance, ignores, prefetching."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
from collections.abc import Iterable

import pytest

from checks import a5_difflog_gate, a9_dependencies, w1_secrets
from checks.config import CHECK_CODES, AuditConfig
from checks.config_file import parse_config
from checks.context import AuditContext, Verdict
from checks.gitsource import GitSnapshot
from tests.checks.gitaudit import DIFFLOG, TEST_RUNS, audit, difflog, governed, result
from tests.fixtures.gitrepo import GitRepo

MINE = ("A1", "A2", "A3", "A5", "A6", "A7", "A8", "W2")


def test_every_report_lists_the_twelve_checks_in_order(git_repo: GitRepo) -> None:
    git_repo.commit({"a.py": "a\n"})
    report = audit(git_repo)
    assert tuple(r.code for r in report.results) == CHECK_CODES


def test_an_exception_in_one_check_is_its_error_and_the_others_still_run(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_repo.commit(governed())

    def broken(ctx: AuditContext) -> Verdict:
        raise ValueError("bad regex\nat position 3")

    monkeypatch.setattr(a5_difflog_gate, "run", broken)
    report = audit(git_repo)
    a5 = result(report, "A5")
    assert a5.outcome == "error"
    assert a5.detail == "the A5 check broke: ValueError: bad regex at position 3"
    assert [result(report, code).outcome for code in ("A3", "A7", "A8")] == ["pass", "pass", "pass"]
    assert report.overall == "fail"


def test_a_module_that_fails_to_import_is_that_checks_error(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_repo.commit(governed())
    monkeypatch.setitem(sys.modules, "checks.a3_evidence", None)
    report = audit(git_repo)
    a3 = result(report, "A3")
    assert a3.outcome == "error"
    assert a3.detail.startswith("the A3 check could not be loaded")
    assert result(report, "A8").outcome == "pass"


def test_a_check_returning_something_else_than_a_verdict_is_an_error(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_repo.commit(governed())
    monkeypatch.setattr(a5_difflog_gate, "run", lambda ctx: "pass")
    detail = result(audit(git_repo), "A5").detail
    assert detail == "the A5 check broke: TypeError: run() returned str, not a Verdict"


def test_a_broken_wants_is_that_checks_error(git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    git_repo.commit(governed())

    def wants(ctx: AuditContext) -> Iterable[str]:
        raise RuntimeError("cannot list")

    monkeypatch.setattr(a5_difflog_gate, "wants", wants)
    assert result(audit(git_repo), "A5").outcome == "error"


def test_severity_warning_turns_a_failure_into_a_warning_and_the_audit_passes(git_repo: GitRepo) -> None:
    git_repo.commit(governed(**{TEST_RUNS: "Status: FAIL\n"}))
    config = AuditConfig(severities={"A3": "warning", "A8": "warning"})
    report = audit(git_repo, config=config)
    assert [result(report, c).outcome for c in ("A3", "A8")] == ["warn", "warn"]
    assert result(report, "A8").severity == "warning"
    assert all(result(report, c).outcome != "fail" for c in MINE)


def test_findings_of_a_check_turned_into_a_warning_are_warnings(git_repo: GitRepo) -> None:
    base = git_repo.commit(governed())
    git_repo.commit({"unclaimed.py": "x\n"})
    report = audit(git_repo, base, config=AuditConfig(severities={"A1": "warning"}))
    assert [(f.path, f.level) for f in result(report, "A1").findings] == [("unclaimed.py", "warning")]


def test_a_failing_blocking_check_fails_the_audit(git_repo: GitRepo) -> None:
    git_repo.commit(governed(**{TEST_RUNS: "Status: FAIL\n"}))
    report = audit(git_repo)
    assert result(report, "A8").outcome == "fail"
    assert report.overall == "fail"


def test_a_w_check_configured_blocking_turns_its_warning_into_a_failure(git_repo: GitRepo) -> None:
    files = governed()
    del files["Forge/evidence/audit_ledger.md"]
    git_repo.commit(files)
    report = audit(git_repo, config=AuditConfig(severities={"W2": "blocking"}))
    assert result(report, "W2").outcome == "fail"


def test_warnings_never_fail_the_audit(git_repo: GitRepo) -> None:
    files = governed()
    del files["Forge/evidence/audit_ledger.md"]
    git_repo.commit(files)
    config = AuditConfig(severities={c: "off" for c in ("A4", "A9", "W1", "W3")})
    report = audit(git_repo, config=config)
    assert result(report, "W2").outcome == "warn"
    assert report.overall == "pass"


def test_off_is_a_skip_saying_so(git_repo: GitRepo) -> None:
    git_repo.commit(governed())
    r = result(audit(git_repo, config=AuditConfig(severities={"A7": "off"})), "A7")
    assert (r.outcome, r.detail, r.severity) == ("skip", "turned off in configuration", "off")


def test_without_governance_the_governance_checks_skip_and_a2_a9_w1_run(git_repo: GitRepo) -> None:
    git_repo.commit({"app.py": "print(1)\n"})
    report = audit(git_repo)
    assert report.governed is False
    skipped = {r.code for r in report.results if r.detail == "no Forge governance folder"}
    assert skipped == {"A1", "A3", "A4", "A5", "A6", "A7", "A8", "W2", "W3"}
    assert all(result(report, c).outcome != "skip" for c in ("A2", "A9", "W1"))


def test_a_root_contracts_folder_governs_with_root_evidence(git_repo: GitRepo) -> None:
    git_repo.commit(
        {
            "Contracts/phases.md": "# Phases\n",
            "evidence/updatedifflog.md": difflog(),
            "evidence/test_runs_latest.md": "Status: PASS\n",
        }
    )
    report = audit(git_repo)
    assert report.governed is True
    assert [result(report, c).outcome for c in ("A3", "A8")] == ["pass", "pass"]


def test_a_configured_governance_folder_is_used(git_repo: GitRepo) -> None:
    files = {path.replace("Forge/", "gov/"): body for path, body in governed().items()}
    git_repo.commit(files)
    report = audit(git_repo, config=parse_config("governance_dir: gov\n"))
    assert report.governed is True
    assert result(report, "A8").outcome == "pass"


def test_ignored_paths_are_not_part_of_the_change(git_repo: GitRepo) -> None:
    base = git_repo.commit(governed())
    git_repo.commit(governed(["app/x.py"], **{"app/x.py": "x\n", "vendor/lib/y.py": "y\n"}))
    config = parse_config("paths_ignore: ['vendor/**']\n")
    report = audit(git_repo, base, config=config)
    assert result(report, "A1").outcome == "pass"
    assert report.files == 2


def test_ignored_paths_are_not_listed_to_checks_that_scan_every_file(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_repo.commit(governed(**{"app/x.py": "x\n", "vendor/lib/y.py": "y\n"}))
    listed: list[str] = []

    def listing(ctx: AuditContext) -> Verdict:
        listed.extend(ctx.head.paths())
        return Verdict("pass", "listed")

    monkeypatch.setattr(a5_difflog_gate, "run", listing)
    audit(git_repo, config=parse_config("paths_ignore: ['vendor/**']\n"), full=True)
    assert "app/x.py" in listed
    assert not any(path.startswith("vendor/") for path in listed)


def test_head_is_prefetched_once_with_every_file_the_checks_want(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_repo.commit(governed())
    calls: list[list[str]] = []
    original = GitSnapshot.prefetch

    def recording(self: GitSnapshot, paths: Iterable[str]) -> None:
        calls.append(list(paths))
        original(self, paths)

    monkeypatch.setattr(GitSnapshot, "prefetch", recording)
    audit(git_repo)
    assert len(calls) == 1
    assert {DIFFLOG, TEST_RUNS, "Forge/evidence/audit_ledger.md"} <= set(calls[0])


def test_the_phase_comes_from_the_diff_log(git_repo: GitRepo) -> None:
    git_repo.commit(governed())
    assert audit(git_repo).phase == "Phase 3 -- Audit Engine"


def test_an_explicit_phase_is_reported(git_repo: GitRepo) -> None:
    git_repo.commit(governed())
    assert audit(git_repo, phase="Phase 9 -- Custom").phase == "Phase 9 -- Custom"


def test_the_phase_is_unknown_without_a_diff_log(git_repo: GitRepo) -> None:
    git_repo.commit({"a.py": "a\n"})
    assert audit(git_repo).phase == "unknown"


def test_timestamp_is_utc_with_a_z(git_repo: GitRepo) -> None:
    git_repo.commit({"a.py": "a\n"})
    assert audit(git_repo).timestamp == "2026-11-21T12:00:00Z"


def test_configuration_errors_are_carried_into_the_report(git_repo: GitRepo) -> None:
    git_repo.commit({"a.py": "a\n"})
    report = audit(git_repo, config=parse_config("checks: [\n"))
    assert len(report.config_errors) == 1


def test_bad_input_never_crashes_the_audit(git_repo: GitRepo) -> None:
    base = git_repo.commit(governed())
    git_repo.write(
        {
            DIFFLOG: b"\xef\xbb\xbf# Log\n\xff\xfe\x00 broken bytes\n## Verification\n\xc3(\n",
            TEST_RUNS: b"\xff\xfeS\x00t\x00",
            "big.bin": b"\x00" * (50 * 1024 * 1024),
            "image.png": b"\x89PNG\r\n\x1a\n\x00\xff",
            "ünïcødé dir/naïve file.py": "x = 'é'\n",
        }
    )
    os.symlink("loop-b", git_repo.path / "loop-a")
    os.symlink("loop-a", git_repo.path / "loop-b")
    git_repo.commit()
    report = audit(git_repo, base, config=parse_config("checks: {A1: [\n"))
    assert len(report.results) == 12
    assert all(result(report, code).outcome != "error" for code in MINE)
    assert report.config_errors


def _git_processes_for_a_one_file_change(
    root: pathlib.Path, files: int, monkeypatch: pytest.MonkeyPatch
) -> int:
    repo = GitRepo(root)
    base = repo.commit({**governed(), **{f"pkg/m{i}.py": f"import os\nx = {i}\n" for i in range(files)}})
    repo.commit({"pkg/m1.py": "import os\nx = 2\n"})
    spawned: list[object] = []
    real_popen = subprocess.Popen

    class CountingPopen(real_popen):  # type: ignore[misc, valid-type]
        def __init__(self, args: object, *rest: object, **kwargs: object) -> None:
            spawned.append(args)
            super().__init__(args, *rest, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(subprocess, "Popen", CountingPopen)
        audit(repo, base)
    return len(spawned)


def test_the_git_processes_of_an_audit_do_not_grow_with_the_repository(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = _git_processes_for_a_one_file_change(tmp_path / "small", 5, monkeypatch)
    large = _git_processes_for_a_one_file_change(tmp_path / "large", 400, monkeypatch)
    assert large == small


def _big_project(git_repo: GitRepo) -> None:
    """Enough Python (and text) for A9 and W1 to use the audit's process pool."""
    files = {f"pkg/m{i}.py": f"import os\nVALUE_{i} = {i}\n" for i in range(240)}
    files["pkg/__init__.py"] = ""
    files["pkg/uses.py"] = "import requests\n"
    files["pkg/broken.py"] = "def f(:\n"
    files["big.txt"] = "word " * 1_000_000
    files["deploy.env"] = "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEZ\n"
    files["pyproject.toml"] = '[project]\nname = "pkg"\ndependencies = []\n'
    git_repo.commit(files)


def test_checks_started_early_on_the_pool_report_what_they_report_when_run_alone(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    _big_project(git_repo)
    early = audit(git_repo, full=True)
    monkeypatch.delattr(a9_dependencies, "prepare")
    monkeypatch.delattr(w1_secrets, "prepare")
    alone = audit(git_repo, full=True)

    assert [(r.code, r.outcome, r.detail, r.findings) for r in early.results] == [
        (r.code, r.outcome, r.detail, r.findings) for r in alone.results
    ]
    a9 = result(early, "A9")
    assert a9.outcome == "fail" and "'requests'" in a9.detail and "syntax error" in str(a9.findings)
    assert any(f.path == "pkg/broken.py" for f in a9.findings)
    assert "deploy.env" in result(early, "W1").detail


def test_a_prepare_that_fails_leaves_its_check_to_do_the_work(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    _big_project(git_repo)

    def broken(ctx: AuditContext) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(a9_dependencies, "prepare", broken)
    a9 = result(audit(git_repo, full=True), "A9")
    assert a9.outcome == "fail" and "'requests'" in a9.detail
