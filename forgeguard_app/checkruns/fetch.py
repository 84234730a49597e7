"""What an audit reads from GitHub besides the change: the repository configuration.

The configuration comes from the default branch (the contents API without a
`ref`), so a pull request cannot change how it is judged.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import gidgethub

from checks.config import AuditConfig
from checks.config_file import CONFIG_PATH, parse_config

if TYPE_CHECKING:
    from forgeguard_app.github.client import InstallationAPI


def config_from_contents(data: object) -> AuditConfig:
    """The configuration in a contents-API answer (base64 JSON, or the raw text)."""
    if isinstance(data, str):
        return parse_config(data)
    if isinstance(data, dict) and data.get("type", "file") == "file" and isinstance(data.get("content"), str):
        if data.get("encoding", "base64") == "base64":
            return parse_config(base64.b64decode(data["content"]))
        return parse_config(data["content"])
    config = AuditConfig()
    config.errors.append(f"{CONFIG_PATH} is not a file; the defaults apply")
    return config


async def read_config(api: InstallationAPI, owner: str, repo: str) -> AuditConfig:
    """`.github/forgeguard.yml` of the default branch; the defaults when there is none."""
    try:
        data = await api.getitem(
            "/repos/{owner}/{repo}/contents/{path}",
            {"owner": owner, "repo": repo, "path": CONFIG_PATH},
        )
    except gidgethub.BadRequest as exc:
        if exc.status_code == 404:
            return AuditConfig()
        raise
    return config_from_contents(data)


def is_sha(rev: str) -> bool:
    """A full commit sha (40 lowercase hex digits)."""
    return len(rev) == 40 and all(c in "0123456789abcdef" for c in rev)
