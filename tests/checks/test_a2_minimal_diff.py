"""A2 Minimal-diff discipline: renames fail; copies, mode changes and rename-like names pass."""

from __future__ import annotations

from checks.config import AuditConfig
from tests.checks.gitaudit import DIFFLOG, check, check_with_broken_reads, difflog, governed
from tests.fixtures.gitrepo import GitRepo

BODY = "".join(f"line {i}\n" for i in range(30))


def test_passes_without_renames(git_repo: GitRepo) -> None:
    base = git_repo.commit({"a.py": BODY})
    git_repo.commit({"a.py": BODY + "more\n"})
    r = check(git_repo, "A2", base)
    assert r.outcome == "pass"


def test_fails_on_a_rename_naming_old_and_new_paths_in_a_governed_repository(git_repo: GitRepo) -> None:
    base = git_repo.commit({"old.py": BODY, "keep.py": "k\n", **governed()})
    git_repo.git("mv", "old.py", "new.py")
    git_repo.commit()
    r = check(git_repo, "A2", base)
    assert (r.outcome, r.severity) == ("fail", "blocking")
    assert r.detail.startswith("Rename detected: old.py -> new.py. ")
    assert "`checks: {A2: {severity: warning}}` in .github/forgeguard.yml makes it a warning" in r.detail
    assert [f.path for f in r.findings] == ["new.py"]


def test_every_rename_is_listed_and_is_one_finding(git_repo: GitRepo) -> None:
    base = git_repo.commit({"a.py": BODY, "b.py": BODY.upper()})
    git_repo.git("mv", "a.py", "a2.py")
    git_repo.git("mv", "b.py", "b2.py")
    git_repo.commit()
    r = check(git_repo, "A2", base)
    assert r.detail.startswith("Rename detected: a.py -> a2.py; b.py -> b2.py. ")
    assert len(r.findings) == 2


def test_a_file_merely_named_rename_is_not_a_rename(git_repo: GitRepo) -> None:
    base = git_repo.commit({"a.py": "a\n"})
    git_repo.commit({"rename.py": "def rename(): ...\n", "docs/renamed_things.md": "rename -> x\n"})
    assert check(git_repo, "A2", base).outcome == "pass"


def test_a_copy_passes(git_repo: GitRepo) -> None:
    base = git_repo.commit({"src.py": BODY})
    git_repo.commit({"src.py": BODY + "changed\n", "copy.py": BODY})
    assert check(git_repo, "A2", base).outcome == "pass"


def test_a_mode_change_passes(git_repo: GitRepo) -> None:
    base = git_repo.commit({"run.sh": "echo hi\n"})
    (git_repo.path / "run.sh").chmod(0o755)
    git_repo.commit()
    assert check(git_repo, "A2", base).outcome == "pass"


def test_without_governance_a_rename_is_a_warning_that_says_how_to_make_it_blocking(
    git_repo: GitRepo,
) -> None:
    base = git_repo.commit({"old.py": BODY})
    git_repo.git("mv", "old.py", "new.py")
    git_repo.commit()
    r = check(git_repo, "A2", base)
    assert (r.outcome, r.severity) == ("warn", "warning")
    assert "`checks: {A2: {severity: blocking}}` in .github/forgeguard.yml makes it blocking" in r.detail


def test_without_governance_a_configured_severity_still_applies(git_repo: GitRepo) -> None:
    base = git_repo.commit({"old.py": BODY})
    git_repo.git("mv", "old.py", "new.py")
    git_repo.commit()
    config = AuditConfig(severities={"A2": "blocking"})
    assert check(git_repo, "A2", base, config=config).outcome == "fail"


def test_a_rename_before_the_diff_log_base_head_is_not_judged(git_repo: GitRepo) -> None:
    base = git_repo.commit({"old.py": BODY, **governed()})
    git_repo.git("mv", "old.py", "new.py")
    cycle_start = git_repo.commit()
    git_repo.commit({DIFFLOG: difflog(["x.py"], base_head=cycle_start), "x.py": "x\n"})
    assert check(git_repo, "A2", base).outcome == "pass"


def test_turned_off_in_configuration_is_a_skip(git_repo: GitRepo) -> None:
    git_repo.commit({"a.py": "a\n"})
    config = AuditConfig(severities={"A2": "off"})
    r = check(git_repo, "A2", config=config)
    assert (r.outcome, r.detail) == ("skip", "turned off in configuration")


def test_a2_reads_no_files_so_broken_reads_do_not_break_it(git_repo: GitRepo) -> None:
    git_repo.commit({"a.py": "a\n"})
    assert check_with_broken_reads(git_repo, "A2").outcome == "pass"
