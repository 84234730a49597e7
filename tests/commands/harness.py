"""The app as a black box for the command tests: signed issue_comment deliveries in, GitHub changes out.

The real aiohttp app receives corpus-based deliveries, the real jobs run them
(`drain()` runs every queued job, retries included, without their backoff),
the real GitHub client talks to the fake GitHub and the real LLM wrapper to
the fake Anthropic, which plays a cooperative model (`tests.intake.scripted`)
plus the prose and revision tools.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from forgeguard_app.commands import progress_comment
from forgeguard_app.db import Database
from forgeguard_app.jobs import Worker
from forgeguard_app.settings import Settings
from tests.commands.corpus import comment_payload
from tests.fixtures.anthropic import FakeAnthropic, RecordedRequest, Scripted, tool_call
from tests.fixtures.appdriver import AppDriver
from tests.fixtures.github import FakeGitHub, FakeRepo
from tests.intake.scripted import scripted_model

PROSE = {
    "overview": "Shelf is a small lending library's catalogue and loan book, written for volunteers who "
    "run it in their spare time. A FastAPI service over PostgreSQL with a React front end.",
    "principles": [
        {"title": "Small and plain", "text": "Every screen does one job and says what it did."},
        {"title": "Data first", "text": "The database schema is the source of truth for loans."},
        {"title": "Tested edges", "text": "Every endpoint has a test before it ships."},
    ],
}
DARK_MODE = "\n## Dark mode\n\nEvery screen also comes in a dark theme.\n"


def prose_reply() -> Scripted:
    return tool_call("write_prose", PROSE)


def revise_reply(request: RecordedRequest) -> Scripted:
    """The model adds a dark mode to ui.md, returning the file whole as it received it plus the change."""
    text = "\n".join(request.user_texts())
    match = re.search(r'<file path="Forge/Contracts/ui.md">\n(.*?)\n</file>', text, re.S)
    assert match, "the revision request did not carry ui.md"
    return tool_call(
        "update_contracts",
        {
            "changes": [{"path": "Forge/Contracts/ui.md", "content": match.group(1) + DARK_MODE}],
            "summary": "Added a dark theme to the UI contract.",
        },
    )


def cooperative_model(request: RecordedRequest) -> Scripted:
    """The fake model's default: intake turns, prose and revisions."""
    if "write_prose" in request.tool_names:
        return prose_reply()
    if "update_contracts" in request.tool_names:
        return revise_reply(request)
    return scripted_model(request)


@dataclass
class Bench(AppDriver):
    """One repository with the app installed, a writer `octocat` and a reader `visitor`."""

    fake: FakeGitHub
    model: FakeAnthropic
    db: Database
    settings: Settings
    client: TestClient[web.Request, web.Application]
    worker: Worker
    repo: FakeRepo

    def issue(self, title: str = "Shelf: a lending library", body: str = "A catalogue and loans.") -> int:
        return self.fake.add_issue(self.repo, title, body)

    async def comment(
        self,
        number: int,
        body: str,
        *,
        user: str = "octocat",
        user_type: str = "User",
        drain: bool = True,
    ) -> dict[str, Any]:
        """A person comments in issue or pull request `number`: on GitHub first, then the app is told."""
        comment = self.fake.add_comment(self.repo, number, body, user=user)
        await self.deliver("issue_comment", self.payload("created", number, comment, user_type=user_type))
        if drain:
            await self.drain()
        return comment

    def payload(
        self, action: str, number: int, comment: dict[str, Any], *, user_type: str = "User"
    ) -> dict[str, Any]:
        issue = self.fake.issue(self.repo, number)
        return comment_payload(
            action,
            body=comment["body"],
            login=comment["user"]["login"],
            user_type=user_type,
            comment_id=comment["id"],
            issue_number=number,
            pull_request=issue.pull is not None,
            installation_id=self.repo.installation_id,
            owner=self.repo.owner,
            repo=self.repo.name,
            repository_id=self.repo.id,
            labels=tuple(issue.labels),
            title=issue.title,
        )

    def reactions(self, comment: dict[str, Any]) -> list[str]:
        return [r["content"] for r in self.fake.reactions if r["comment_id"] == comment["id"]]

    def app_comments(self, number: int) -> list[str]:
        """Bodies of the app's comments in issue or pull request `number`, oldest first."""
        key = (self.repo.full_name, number)
        return [c["body"] for c in self.fake.comments if c["issue_key"] == key and c["user"]["type"] == "Bot"]

    def progress_comment(self, number: int) -> str:
        found = [b for b in self.app_comments(number) if progress_comment.marker("intake", str(number)) in b]
        assert len(found) == 1, f"expected one progress comment in #{number}, found {len(found)}"
        return found[0]

    async def whole_intake(self, issue: int, answers: int = 7) -> None:
        """`/forge intake`, then one answer per section the issue's body did not settle."""
        await self.comment(issue, "/forge intake")
        for n in range(answers):
            await self.comment(issue, f"Answer {n + 1}: as you suggest.")

    def contracts_pull(self) -> int:
        pulls = [
            p for p in self.fake.pulls(self.repo) if p.pull and p.pull["head"].startswith("forge/contracts-")
        ]
        assert len(pulls) == 1, f"expected one contracts pull request, found {len(pulls)}"
        return pulls[0].number
