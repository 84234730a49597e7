"""A7 Verification hierarchy order: Static, Runtime, Behavior, Contract in order."""

from __future__ import annotations

from tests.checks.gitaudit import DIFFLOG, check, check_with_broken_reads, difflog, governed
from tests.fixtures.gitrepo import GitRepo

ALL = "Static, Runtime, Behavior, Contract"


def a7(repo: GitRepo, verification: str) -> tuple[str, str]:
    repo.commit(governed(**{DIFFLOG: difflog(verification=verification)}))
    r = check(repo, "A7")
    return r.outcome, r.detail


def test_passes_with_the_four_keywords_in_order(git_repo: GitRepo) -> None:
    assert a7(git_repo, "- Static: ok\n- Runtime: ok\n- Behavior: ok\n- Contract: ok\n")[0] == "pass"


def test_behaviour_spelling_counts_as_behavior(git_repo: GitRepo) -> None:
    assert a7(git_repo, "- Static: ok\n- Runtime: ok\n- Behaviour: ok\n- Contract: ok\n")[0] == "pass"


def test_contracts_folder_in_the_static_line_does_not_break_the_order(git_repo: GitRepo) -> None:
    text = "- Static: ruff over app/ and Contracts/ clean\n- Runtime: ok\n- Behavior: ok\n- Contract: ok\n"
    assert a7(git_repo, text)[0] == "pass"


def test_a_labelled_line_is_preferred_to_an_earlier_mention(git_repo: GitRepo) -> None:
    text = (
        "We checked contract and runtime behaviour carefully.\n"
        "1. Static — ok\n2. Runtime — ok\n3. **Behavior** ok\n4. Contract — ok\n"
    )
    assert a7(git_repo, text)[0] == "pass"


def test_keywords_inside_prose_are_found_as_whole_words(git_repo: GitRepo) -> None:
    text = "static analysis passed, then a runtime smoke test, behavior tests, and the contract check.\n"
    assert a7(git_repo, text)[0] == "pass"


def test_substrings_are_not_keywords(git_repo: GitRepo) -> None:
    text = "- Staticky: x\n- Runtimes: x\n- Behavioral: x\n- Contractual: x\n"
    assert a7(git_repo, text) == ("fail", f"Missing verification keywords: {ALL}.")


def test_fails_naming_missing_keywords(git_repo: GitRepo) -> None:
    assert a7(git_repo, "- Static: ok\n- Behavior: ok\n") == (
        "fail",
        "Missing verification keywords: Runtime, Contract.",
    )


def test_fails_saying_which_order_was_seen(git_repo: GitRepo) -> None:
    outcome, detail = a7(git_repo, "- Runtime: ok\n- Static: ok\n- Behavior: ok\n- Contract: ok\n")
    assert outcome == "fail"
    assert detail == (
        "Verification keywords are out of order: saw Runtime, Static, Behavior, Contract; "
        "expected Static, Runtime, Behavior, Contract."
    )


def test_the_todo_skeleton_does_not_pass(git_repo: GitRepo) -> None:
    skeleton = "- TODO: Static, Runtime, Behavior, Contract\n"
    assert a7(git_repo, skeleton) == ("fail", f"Missing verification keywords: {ALL}.")


def test_labels_whose_value_is_only_todo_do_not_count(git_repo: GitRepo) -> None:
    skeleton = "- Static: TODO\n- Runtime: TODO\n- **Behavior**: TODO:\n- Contract: todo\n"
    assert a7(git_repo, skeleton)[1] == "Missing verification keywords: Static, Runtime, Behavior, Contract."


def test_fails_without_a_verification_section(git_repo: GitRepo) -> None:
    log = difflog().replace("## Verification", "## Checks")
    git_repo.commit(governed(**{DIFFLOG: log}))
    assert check(git_repo, "A7").detail == "The diff log has no ## Verification section."


def test_the_section_ends_at_the_next_level_two_heading(git_repo: GitRepo) -> None:
    log = difflog(verification="- Static: ok\n- Runtime: ok\n").replace(
        "## Minimal Diff Hunks", "## Notes\n- Behavior and Contract are next cycle\n## Minimal Diff Hunks"
    )
    git_repo.commit(governed(**{DIFFLOG: log}))
    assert check(git_repo, "A7").detail == "Missing verification keywords: Behavior, Contract."


def test_a_verification_heading_with_more_words_is_the_section(git_repo: GitRepo) -> None:
    log = difflog().replace("## Verification", "## Verification Evidence (this cycle)")
    git_repo.commit(governed(**{DIFFLOG: log}))
    assert check(git_repo, "A7").outcome == "pass"


def test_level_three_headings_stay_inside_the_section(git_repo: GitRepo) -> None:
    text = "### Static\nok\n### Runtime\nok\n### Behavior\nok\n### Contract\nok\n"
    assert a7(git_repo, text)[0] == "pass"


def test_fails_when_the_diff_log_is_missing(git_repo: GitRepo) -> None:
    git_repo.commit({"Forge/Contracts/boundaries.json": "{}\n"})
    assert check(git_repo, "A7").outcome == "fail"


def test_skips_without_a_governance_folder(git_repo: GitRepo) -> None:
    git_repo.commit({"a.py": "a\n"})
    assert check(git_repo, "A7").outcome == "skip"


def test_a_read_failure_is_an_error(git_repo: GitRepo) -> None:
    git_repo.commit(governed())
    assert check_with_broken_reads(git_repo, "A7").outcome == "error"
