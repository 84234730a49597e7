"""What the request handlers share: settings, database, the GitHub client; kept on the aiohttp app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from forgeguard_app import __version__
from forgeguard_app.db import Database
from forgeguard_app.settings import Settings

if TYPE_CHECKING:
    from forgeguard_app.github.client import GitHubApp
    from forgeguard_app.llm import LLM
    from forgeguard_app.web.builds import BuildSource


@dataclass
class AppState:
    settings: Settings
    db: Database
    github: GitHubApp | None = None
    llm: LLM | None = None
    version: str = __version__
    builds: BuildSource | None = None
    """The builder's store, for /builds/{id} (None until the builder is wired in)."""


APP_STATE = web.AppKey("forgeguard_state", AppState)


def state_of(request: web.Request) -> AppState:
    return request.app[APP_STATE]
