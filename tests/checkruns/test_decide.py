"""Which deliveries are audited with which base and head, and what a report concludes."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest

from checks.config import CHECK_CODES
from checks.source import EMPTY_TREE
from forgeguard_app.checkruns import decide
from tests.checkruns.reports import make_report


@pytest.fixture
def corpus(shared_dir: pathlib.Path) -> Any:
    def load(name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((shared_dir / "github-corpus" / "webhooks" / name).read_text())
        return data

    return load


def test_branch_deletion_is_not_audited(corpus: Any) -> None:
    payload = corpus("push/with-installation.payload.json")
    payload["ref"] = "refs/heads/feature"
    assert payload["deleted"] is True
    assert decide.from_push(payload) is None


def test_tag_push_is_not_audited(corpus: Any) -> None:
    payload = corpus("push/with-installation.payload.json")
    payload.update(deleted=False, after="c" * 40)
    assert payload["ref"].startswith("refs/tags/")
    assert decide.from_push(payload) is None


def test_push_without_installation_is_not_audited(corpus: Any) -> None:
    payload = corpus("push/with-new-branch.payload.json")
    del payload["installation"]
    assert decide.from_push(payload) is None


def test_branch_push_audits_before_to_after(corpus: Any) -> None:
    payload = corpus("push/with-new-branch.payload.json")
    payload.update(ref="refs/heads/feature", before="d" * 40)
    request = decide.from_push(payload)
    assert request is not None
    assert (request.base, request.head_sha) == ("d" * 40, payload["after"])
    assert request.branch == "feature"
    assert request.order_key == "repo:codertocat/hello-world:ref:feature"


def test_branch_creating_push_is_compared_with_the_default_branch(corpus: Any) -> None:
    payload = corpus("push/with-new-branch.payload.json")
    payload["ref"] = "refs/heads/feature"
    request = decide.from_push(payload)
    assert request is not None
    assert request.base == payload["repository"]["default_branch"] == "master"


def test_first_push_of_the_default_branch_audits_its_whole_history(corpus: Any) -> None:
    payload = corpus("push/with-new-branch.payload.json")
    assert payload["ref"] == "refs/heads/master"
    request = decide.from_push(payload)
    assert request is not None
    assert request.base == EMPTY_TREE


def test_pull_request_opened_audits_base_sha_to_head_sha(corpus: Any) -> None:
    payload = corpus("pull_request/opened.payload.json")
    request = decide.from_pull_request(payload)
    assert request is not None
    assert request.base == payload["pull_request"]["base"]["sha"]
    assert request.head_sha == payload["pull_request"]["head"]["sha"]
    assert request.pull_number == payload["number"]
    assert request.order_key == f"repo:codertocat/hello-world:pr:{payload['number']}"


@pytest.mark.parametrize("action", ["synchronize", "reopened", "ready_for_review"])
def test_pull_request_actions_that_change_the_head_are_audited(corpus: Any, action: str) -> None:
    payload = corpus("pull_request/opened.payload.json")
    payload["action"] = action
    assert decide.from_pull_request(payload) is not None


def test_pull_request_labeled_is_not_audited(corpus: Any) -> None:
    assert decide.from_pull_request(corpus("pull_request/labeled.payload.json")) is None


def test_fork_pull_request_head_is_remembered_with_its_fork(corpus: Any) -> None:
    payload = corpus("pull_request/opened.payload.json")
    payload["pull_request"]["head"]["repo"]["full_name"] = "someone/Hello-World"
    head = decide.pull_request_head(payload)
    assert head is not None
    assert head.head_repo == "someone/Hello-World"
    assert (head.owner, head.repo) == ("Codertocat", "Hello-World")
    assert decide.from_pull_request(payload) is not None


def test_check_suite_requested_is_audited_like_its_push(corpus: Any) -> None:
    payload = corpus("check_suite/requested.payload.json")
    request = decide.from_check_suite(payload)
    suite = payload["check_suite"]
    assert request is not None
    assert (request.base, request.head_sha, request.reason) == (
        suite["before"],
        suite["after"],
        "check_suite",
    )
    push = corpus("push/with-new-branch.payload.json")
    push.update(
        before=suite["before"],
        after=suite["after"],
        ref="refs/heads/master",
        repository=payload["repository"],
        installation=payload["installation"],
    )
    push_request = decide.from_push(push)
    assert push_request is not None
    assert push_request.dedupe_key == request.dedupe_key


def test_check_suite_requested_without_a_branch_is_not_audited(corpus: Any) -> None:
    payload = corpus("check_suite/requested.payload.json")
    payload["check_suite"]["head_branch"] = None
    assert decide.from_check_suite(payload) is None


def test_check_suite_rerequested_always_audits_again(corpus: Any) -> None:
    request = decide.from_check_suite(corpus("check_suite/rerequested.payload.json"))
    assert request is not None
    assert request.reason == "rerequested"
    assert request.dedupe_key is None


def test_check_run_rerequested_of_another_apps_run_is_ignored(corpus: Any) -> None:
    payload = corpus("check_run/rerequested.payload.json")
    assert payload["check_run"]["name"] == "randscape"
    assert decide.from_check_run(payload) is None


def test_check_run_rerequested_of_a_forgeguard_run_audits_again(corpus: Any) -> None:
    payload = corpus("check_run/rerequested.payload.json")
    payload["check_run"]["name"] = "ForgeGuard A4"
    request = decide.from_check_run(payload)
    assert request is not None
    assert request.head_sha == payload["check_run"]["head_sha"]
    assert request.reason == "rerequested"


def test_requested_action_rerun_audits_with_the_pull_request_base(corpus: Any) -> None:
    payload = corpus("check_run/requested_action.payload.json")
    payload["check_run"]["name"] = "ForgeGuard"
    payload["requested_action"] = {"identifier": decide.RERUN_ACTION}
    request = decide.from_check_run(payload)
    pr = payload["check_run"]["pull_requests"][0]
    assert request is not None
    assert (request.pull_number, request.base) == (pr["number"], pr["base"]["sha"])


def test_requested_action_other_than_rerun_is_ignored(corpus: Any) -> None:
    payload = corpus("check_run/requested_action.payload.json")
    payload["check_run"]["name"] = "ForgeGuard"
    assert payload["requested_action"]["identifier"] != decide.RERUN_ACTION
    assert decide.from_check_run(payload) is None


def test_fallback_base_prefers_the_known_pull_request() -> None:
    head = decide.PullRequestHead("o", "r", "b" * 40, 7, "c" * 40, "main", "fork/r")
    assert decide.fallback_base(None, head, "d" * 40, "main") == "c" * 40
    assert decide.fallback_base(None, None, "d" * 40, "main") == "d" * 40
    assert decide.fallback_base(None, None, None, "main") == "main"


def test_all_passing_report_is_success_titled_all_checks_passed() -> None:
    report = make_report()
    assert decide.conclusion(report) == "success"
    assert decide.title(report) == "All checks passed"


def test_failed_blocking_checks_are_named_in_the_title_with_the_warning_count() -> None:
    report = make_report({"A1": "fail", "A7": "error", "W2": "warn"})
    assert decide.conclusion(report) == "failure"
    assert decide.title(report) == "2 of 12 checks failed: A1, A7 · 1 warning"


def test_warnings_alone_do_not_fail_the_audit() -> None:
    report = make_report({"W1": "warn", "W3": "warn"})
    assert decide.conclusion(report) == "success"
    assert decide.title(report) == "All checks passed · 2 warnings"


def test_change_without_files_is_neutral() -> None:
    report = make_report(files=0)
    assert decide.conclusion(report) == "neutral"
    assert decide.title(report) == "No changed files to audit"


def test_every_check_skipped_is_neutral() -> None:
    report = make_report(dict.fromkeys(CHECK_CODES, "skip"))
    assert decide.conclusion(report) == "neutral"


def test_per_check_conclusions() -> None:
    report = make_report({"A1": "fail", "A4": "skip", "W1": "warn"})
    by_code = {r.code: decide.check_conclusion(r) for r in report.results}
    assert (by_code["A1"], by_code["A2"], by_code["A4"], by_code["W1"]) == (
        "failure",
        "success",
        "skipped",
        "neutral",
    )


DECIDERS = {
    "push": decide.from_push,
    "pull_request": decide.from_pull_request,
    "check_suite": decide.from_check_suite,
    "check_run": decide.from_check_run,
}


def audited_examples(shared_dir: pathlib.Path, event: str) -> set[str]:
    """The corpus examples of `event` that are audited (the others decide None)."""
    audited = set()
    for path in sorted((shared_dir / "github-corpus" / "webhooks" / event).glob("*.json")):
        request = DECIDERS[event](json.loads(path.read_text()))
        if request is not None:
            assert len(request.head_sha) == 40
            audited.add(path.name)
    return audited


def test_corpus_pushes_audited_are_the_branch_pushes(shared_dir: pathlib.Path) -> None:
    assert audited_examples(shared_dir, "push") == {
        "with-new-branch.payload.json",
        "with-no-username-committer.payload.json",
    }


def test_corpus_check_suites_audited_are_requested_and_rerequested(shared_dir: pathlib.Path) -> None:
    assert audited_examples(shared_dir, "check_suite") == {
        "requested.payload.json",
        "requested.payload.with-email-with-special-characters.json",
        "requested.with-organization.payload.json",
        "rerequested.payload.json",
        "rerequested.with-organization.payload.json",
    }


def test_corpus_check_runs_of_other_apps_are_not_audited(shared_dir: pathlib.Path) -> None:
    assert audited_examples(shared_dir, "check_run") == set()


def test_corpus_pull_requests_audited_are_those_that_change_the_head(shared_dir: pathlib.Path) -> None:
    actions = {name.split(".")[0] for name in audited_examples(shared_dir, "pull_request")}
    assert actions == {"opened", "synchronize", "reopened", "ready_for_review"}
