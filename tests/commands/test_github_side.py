"""The GitHub side of commands on the fake GitHub: Git Data commits, reading back, progress, permission."""

from __future__ import annotations

import pytest

from forgeguard_app.commands import gitdata, progress_comment
from forgeguard_app.commands.permissions import ask_permission
from forgeguard_app.commands.reactions import EYES, react
from forgeguard_app.db import Database
from forgeguard_app.github.client import InstallationAPI
from tests.fixtures.github import FakeGitHub, FakeRepo


async def test_a_commit_creates_the_branch_from_the_default_branch_head(
    api: InstallationAPI, repo: FakeRepo
) -> None:
    main = repo.sha("main")
    result = await gitdata.commit_files(
        api,
        "octo-org",
        "hello",
        branch="forge/contracts-7",
        base_branch="main",
        files={"Forge/Contracts/stack.md": "# Stack\n"},
        message="forge: contracts",
    )
    assert result.created_branch and result.changed and result.parent == main
    assert repo.sha("forge/contracts-7") == result.sha
    assert repo.read(result.sha, "Forge/Contracts/stack.md") == b"# Stack\n"
    assert repo.read(result.sha, "README.md") == b"# hello\n"


async def test_the_commit_is_made_by_the_app_with_no_author_or_committer_set(
    api: InstallationAPI, repo: FakeRepo, fake_github: FakeGitHub
) -> None:
    result = await gitdata.commit_files(
        api, "octo-org", "hello", branch="b", base_branch="main", files={"a.txt": "a\n"}, message="m"
    )
    details = repo.commit_details([result.sha])[result.sha]
    assert details["author"]["name"] == fake_github.bot_login
    assert details["committer"]["name"] == fake_github.bot_login


async def test_a_second_commit_moves_the_branch_forward_and_keeps_other_files(
    api: InstallationAPI, repo: FakeRepo
) -> None:
    first = await gitdata.commit_files(
        api,
        "octo-org",
        "hello",
        branch="b",
        base_branch="main",
        files={"x.md": "1\n", "y.md": "1\n"},
        message="one",
    )
    second = await gitdata.commit_files(
        api, "octo-org", "hello", branch="b", base_branch="main", files={"x.md": "2\n"}, message="two"
    )
    assert second.parent == first.sha and not second.created_branch
    assert repo.read(second.sha, "x.md") == b"2\n"
    assert repo.read(second.sha, "y.md") == b"1\n"


async def test_committing_identical_content_makes_no_commit(api: InstallationAPI, repo: FakeRepo) -> None:
    first = await gitdata.commit_files(
        api, "octo-org", "hello", branch="b", base_branch="main", files={"x.md": "1\n"}, message="one"
    )
    again = await gitdata.commit_files(
        api, "octo-org", "hello", branch="b", base_branch="main", files={"x.md": "1\n"}, message="again"
    )
    assert not again.changed and again.sha == first.sha == repo.sha("b")


async def test_files_are_read_back_from_the_branch_with_human_edits(
    api: InstallationAPI, repo: FakeRepo
) -> None:
    await gitdata.commit_files(
        api,
        "octo-org",
        "hello",
        branch="b",
        base_branch="main",
        files={"Forge/Contracts/a.md": "app\n", "Forge/Contracts/sub/b.md": "b\n"},
        message="app",
    )
    repo.commit({"Forge/Contracts/a.md": "edited by a person\n"}, message="human edit", branch="b")
    files = await gitdata.read_tree(api, "octo-org", "hello", "Forge/Contracts", "b")
    assert files == {"Forge/Contracts/a.md": "edited by a person\n", "Forge/Contracts/sub/b.md": "b\n"}


async def test_a_missing_folder_reads_as_no_files(api: InstallationAPI) -> None:
    assert await gitdata.read_tree(api, "octo-org", "hello", "Forge/Contracts", "main") == {}


async def test_the_progress_comment_is_edited_in_place(
    api: InstallationAPI, repo: FakeRepo, fake_github: FakeGitHub, db: Database
) -> None:
    issue = fake_github.add_issue(repo, "Tasks app")
    async with db.pool.acquire() as conn:
        ids = [
            await progress_comment.show(
                api,
                conn,
                repository_id=repo.id,
                owner="octo-org",
                repo="hello",
                issue_number=issue,
                kind="intake",
                key=str(issue),
                text=text,
            )
            for text in ("first", "second")
        ]
    assert ids[0] == ids[1]
    mine = [c for c in fake_github.comments if progress_comment.marker("intake", str(issue)) in c["body"]]
    assert len(mine) == 1 and mine[0]["body"].endswith("second")


async def test_a_lost_record_finds_the_progress_comment_by_its_marker(
    api: InstallationAPI, repo: FakeRepo, fake_github: FakeGitHub, db: Database
) -> None:
    issue = fake_github.add_issue(repo, "Tasks app")
    async with db.pool.acquire() as conn:
        first = await progress_comment.show(
            api,
            conn,
            repository_id=repo.id,
            owner="octo-org",
            repo="hello",
            issue_number=issue,
            kind="intake",
            key=str(issue),
            text="first",
        )
        await conn.execute("DELETE FROM progress_comments")
        again = await progress_comment.show(
            api,
            conn,
            repository_id=repo.id,
            owner="octo-org",
            repo="hello",
            issue_number=issue,
            kind="intake",
            key=str(issue),
            text="again",
        )
    assert again == first
    assert len(fake_github.comments) == 1


async def test_a_deleted_progress_comment_is_posted_again(
    api: InstallationAPI, repo: FakeRepo, fake_github: FakeGitHub, db: Database
) -> None:
    issue = fake_github.add_issue(repo, "Tasks app")
    async with db.pool.acquire() as conn:
        first = await progress_comment.show(
            api,
            conn,
            repository_id=repo.id,
            owner="octo-org",
            repo="hello",
            issue_number=issue,
            kind="intake",
            key=str(issue),
            text="first",
        )
        fake_github.comments.clear()
        again = await progress_comment.show(
            api,
            conn,
            repository_id=repo.id,
            owner="octo-org",
            repo="hello",
            issue_number=issue,
            kind="intake",
            key=str(issue),
            text="again",
        )
    assert again != first
    assert [c["id"] for c in fake_github.comments] == [again]


def test_an_overlong_progress_text_is_cut_to_githubs_limit() -> None:
    body = progress_comment.compose("intake", "7", "x" * 100_000)
    assert len(body) < 65_536 and body.startswith(progress_comment.marker("intake", "7"))


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("admin", True),
        ("maintain", True),
        ("write", True),
        ("triage", False),
        ("read", False),
        ("none", False),
    ],
)
async def test_permission_is_asked_of_github(
    api: InstallationAPI, fake_github: FakeGitHub, role: str, allowed: bool
) -> None:
    fake_github.set_permission("someone", role)
    assert (await ask_permission(api, "octo-org", "hello", "someone")).allowed is allowed


async def test_a_reaction_on_a_comment_is_recorded(
    api: InstallationAPI, repo: FakeRepo, fake_github: FakeGitHub
) -> None:
    issue = fake_github.add_issue(repo, "x")
    comment = fake_github.add_comment(repo, issue, "/forge help")
    await react(api, "octo-org", "hello", comment["id"], EYES)
    assert [(r["comment_id"], r["content"]) for r in fake_github.reactions] == [(comment["id"], "eyes")]
