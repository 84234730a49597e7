"""Who may run commands: write, maintain or admin on the repository, asked of GitHub.

The payload's `author_association` is never trusted: the permission comes from
`GET /repos/{owner}/{repo}/collaborators/{username}/permission`. Bots (the app
itself included) are ignored before anything is asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import gidgethub
from gidgethub.abc import GitHubAPI

ALLOWED_PERMISSIONS = frozenset({"admin", "write"})
ALLOWED_ROLES = frozenset({"admin", "maintain", "write"})


@dataclass(frozen=True)
class Permission:
    """What GitHub said about one user on one repository."""

    login: str
    permission: str
    """`admin`, `write`, `read` or `none` (`none` also when GitHub answered 404)."""
    role_name: str | None = None

    @property
    def allowed(self) -> bool:
        return self.permission in ALLOWED_PERMISSIONS or (self.role_name or "") in ALLOWED_ROLES

    def refusal(self) -> str:
        """The short reply a refused user gets."""
        level = self.role_name or self.permission
        held = "no access" if level == "none" else f"`{level}` access"
        return (
            f"@{self.login}, ForgeGuard commands need write, maintain or admin permission on this "
            f"repository; GitHub says you have {held}, so nothing was done."
        )


def is_bot(user: Mapping[str, Any] | None) -> bool:
    """A bot account, GitHub Apps (this one included) among them; a missing user counts as a bot."""
    if not user:
        return True
    login = str(user.get("login") or "")
    return user.get("type") == "Bot" or login.lower().endswith("[bot]")


def permission_from_response(login: str, data: Mapping[str, Any] | None) -> Permission:
    """Read GitHub's answer to the collaborator permission request."""
    if not data:
        return Permission(login=login, permission="none")
    role = data.get("role_name")
    return Permission(
        login=login,
        permission=str(data.get("permission") or "none"),
        role_name=str(role) if role else None,
    )


async def ask_permission(api: GitHubAPI, owner: str, repo: str, login: str) -> Permission:
    """Ask GitHub which permission `login` has; a user GitHub does not know as a collaborator has none."""
    try:
        data = await api.getitem(
            "/repos/{owner}/{repo}/collaborators/{username}/permission",
            {"owner": owner, "repo": repo, "username": login},
        )
    except gidgethub.BadRequest as exc:
        if exc.status_code == 404:
            return Permission(login=login, permission="none")
        raise
    return permission_from_response(login, data)
