"""Fixtures for the platform tests: settings with credentials, the web app on a test client."""

from __future__ import annotations

import json
import pathlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from forgeguard_app.cli import sign
from forgeguard_app.db import Database
from forgeguard_app.server import create_app
from forgeguard_app.settings import Settings
from forgeguard_app.web.state import AppState
from tests.fixtures.manifest_conversions import FakeConversions

WEBHOOK_SECRET = "It's a Secret to Everybody"
CORPUS = pathlib.Path(__file__).resolve().parents[3] / "shared" / "github-corpus"

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture(scope="session")
def private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture
def settings(private_key_pem: str, tmp_path: pathlib.Path) -> Settings:
    """Configured credentials; .env in the test's folder."""
    return Settings(
        app_id="4242",
        private_key=private_key_pem,
        webhook_secret=WEBHOOK_SECRET,
        data_dir=tmp_path / "data",
        env_file=tmp_path / ".env",
        public_url="http://127.0.0.1:3000",
    )


@pytest.fixture
async def client(aiohttp_client: ClientFactory, db: Database, settings: Settings) -> TestClient[Any, Any]:
    """The app (no workers) on a test client."""
    return await aiohttp_client(create_app(AppState(settings=settings, db=db)))


@pytest.fixture
async def setup_mode_client(
    aiohttp_client: ClientFactory, db: Database, settings: Settings
) -> TestClient[Any, Any]:
    """The app without GitHub credentials."""
    bare = replace(settings, app_id=None, private_key=None, webhook_secret=None)
    return await aiohttp_client(create_app(AppState(settings=bare, db=db)))


def corpus_examples() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads((CORPUS / "webhooks" / "index.json").read_text())
    return rows


def signed_headers(body: bytes, event: str, delivery_id: str | None = None) -> dict[str, str]:
    """The headers GitHub sends with `body`."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/044aadd",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(body, WEBHOOK_SECRET),
    }


@pytest.fixture
async def conversions(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> tuple[FakeConversions, str]:
    """GitHub's manifest conversion on a local server, and its base URL."""
    fake = FakeConversions()
    server = await aiohttp_server(fake.app, host="127.0.0.1")
    return fake, str(server.make_url("")).rstrip("/")


@pytest.fixture
async def setup_client(
    aiohttp_client: ClientFactory,
    db: Database,
    settings: Settings,
    conversions: tuple[FakeConversions, str],
) -> TestClient[Any, Any]:
    """The app in setup mode (no credentials), its GitHub the conversion fake."""
    bare = replace(settings, app_id=None, private_key=None, webhook_secret=None, api_url=conversions[1])
    return await aiohttp_client(create_app(AppState(settings=bare, db=db)))
