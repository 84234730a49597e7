"""The pure decisions of the review commands: when approval is refused and what a decided PR answers."""

from __future__ import annotations

import datetime as dt

from forgeguard_app.commands.contracts_pr import branch_name, pr_body, pr_title, rejection_notice
from forgeguard_app.commands.review import approval_problem, closed_reply, rejection_text, revision_text
from forgeguard_app.commands.status import pull_line
from forgeguard_app.commands.store import ContractsPull

PHASES = """# Phases

## Phase 0 -- Genesis

**Objective:** A skeleton that boots.

**Deliverables:**
- GET /health

**Exit criteria:**
- pytest passes
"""


def pull(state: str, reason: str | None = None) -> ContractsPull:
    return ContractsPull(
        repository_id=1,
        issue_number=7,
        installation_id=1,
        owner="octo-org",
        repo="shelf",
        pull_number=8,
        branch="forge/contracts-7",
        base_branch="main",
        project="Shelf",
        head_sha="a" * 40,
        state=state,
        decided_by=None if state == "open" else "octocat",
        decided_at=None if state == "open" else dt.datetime(2026, 11, 21, tzinfo=dt.UTC),
        decided_sha=None if state == "open" else "a" * 40,
        reason=reason,
    )


def test_phases_in_the_builders_format_are_approvable() -> None:
    assert approval_problem(PHASES) is None


def test_phases_that_do_not_parse_are_not_approvable_and_the_reply_says_why() -> None:
    problem = approval_problem("# Phases\n\nWe will see.\n")
    assert problem is not None and "does not parse" in problem and "- " in problem


def test_a_missing_phases_file_is_not_approvable() -> None:
    problem = approval_problem(None)
    assert problem is not None and "missing" in problem


def test_an_open_pull_request_takes_review_commands() -> None:
    assert closed_reply(pull("open")) is None


def test_an_approved_pull_request_takes_no_more_review_commands() -> None:
    reply = closed_reply(pull("approved"))
    assert reply is not None and "already approved by @\u200boctocat" in reply


def test_a_rejected_pull_request_points_to_new_contracts() -> None:
    reply = closed_reply(pull("rejected", "wrong stack"))
    assert reply is not None and "`/forge contracts`" in reply


def test_the_pull_request_names_the_project_and_refers_to_the_issue_without_closing_it() -> None:
    body = pr_body(project="Shelf", issue_number=7, summary="### Forge contracts", branch=branch_name(7))
    assert pr_title("Shelf") == "Forge contracts: Shelf"
    assert "refs #7" in body and "closes" not in body.lower()
    assert "`forge/contracts-7`" in body


def test_a_revision_says_what_changed_and_where() -> None:
    text = revision_text("octocat", "b" * 40, "Added a dark theme.", ["Forge/Contracts/ui.md"])
    assert "bbbbbbbbbbbb" in text and "Added a dark theme." in text and "`Forge/Contracts/ui.md`" in text


HOSTILE = "@octo-org/team ![pixel](https://evil.example/p.png) [click](https://evil.example) #12"


def test_the_contracts_pr_title_neither_mentions_nor_references() -> None:
    title = pr_title(HOSTILE)
    assert "@octo-org" not in title and "#12" not in title and "https://" not in title


def test_the_contracts_pr_body_escapes_the_project_name() -> None:
    body = pr_body(project=HOSTILE, issue_number=7, summary="### Forge contracts", branch="forge/contracts-7")
    assert "@octo-org" not in body and "#12" not in body and "https://" not in body
    assert "![pixel](" not in body and "[click](" not in body
    assert "### Forge contracts" in body and "`forge/contracts-7`" in body


def test_a_rejection_reason_is_echoed_inert() -> None:
    text = rejection_text(HOSTILE)
    assert text.startswith("Rejected and closed. Reason kept: ")
    assert "@octo-org" not in text and "![pixel](" not in text and "[click](" not in text


def test_the_rejection_notice_in_the_issue_pings_nobody() -> None:
    notice = rejection_notice(8, "octocat", HOSTILE)
    assert "@octocat" not in notice and "@octo-org" not in notice and "![pixel](" not in notice


def test_status_of_a_rejected_pull_request_echoes_the_reason_inert_and_pings_nobody() -> None:
    line = pull_line(pull("rejected", reason=HOSTILE))
    assert "@octocat" not in line and "@octo-org" not in line and "![pixel](" not in line
    assert "rejected by @\u200boctocat" in line


def test_a_decided_pull_request_does_not_ping_who_decided() -> None:
    assert "@octocat" not in (closed_reply(pull("rejected")) or "")
