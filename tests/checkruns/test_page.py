"""The page behind a check run's Details link: the audit's state, nothing private."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from checks.model import Finding
from forgeguard_app.checkruns import store
from forgeguard_app.checkruns.decide import AuditRequest
from forgeguard_app.db import Database
from forgeguard_app.server import create_app
from forgeguard_app.settings import Settings
from forgeguard_app.web.state import AppState
from tests.checkruns.reports import make_report

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client(db: Database) -> AsyncIterator[Client]:
    """The app as `forgeguard serve` builds it, so the Details link's route is really there."""
    test_client = TestClient(TestServer(create_app(AppState(settings=Settings(), db=db))))
    await test_client.start_server()
    yield test_client
    await test_client.close()


async def completed_audit(db: Database) -> int:
    request = AuditRequest(1, "secret-org", "secret-repo", "b" * 40, "a" * 40, None, "push", "main", "main")
    audit_id = await store.create_audit(db.pool, request)
    assert audit_id is not None
    report = make_report({"A1": "fail"}, {"A1": [Finding("private/path.py", "changed but not claimed")]})
    await store.save_report(db.pool, audit_id, report, report_mode="summary")
    await store.finish_audit(
        db.pool, audit_id, conclusion="failure", title="1 of 12 checks failed: A1", api_calls=6
    )
    return audit_id


async def test_audit_page_shows_conclusion_title_and_the_twelve_outcomes(
    db: Database, client: Client
) -> None:
    audit_id = await completed_audit(db)
    response = await client.get(f"/audits/{audit_id}")
    html = await response.text()
    assert response.status == 200
    assert "failure" in html
    assert "1 of 12 checks failed: A1" in html
    assert html.count("<tr><td>A") + html.count("<tr><td>W") == 12


async def test_audit_page_names_no_repository_and_no_path(db: Database, client: Client) -> None:
    audit_id = await completed_audit(db)
    html = await (await client.get(f"/audits/{audit_id}")).text()
    assert "secret-org" not in html
    assert "secret-repo" not in html
    assert "private/path.py" not in html


async def test_unknown_audit_is_404(client: Client) -> None:
    response = await client.get("/audits/999999")
    assert response.status == 404
