"""POST /webhooks: every corpus example accepted, refusals store nothing, duplicates processed once."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from gidgethub.routing import Router
from gidgethub.sansio import Event

from forgeguard_app import installations
from forgeguard_app.context import EventContext, JobContext
from forgeguard_app.db import Database
from forgeguard_app.events import run_delivery
from forgeguard_app.settings import Settings
from tests.app.conftest import CORPUS, WEBHOOK_SECRET, corpus_examples, signed_headers

# The events the app acts on (spec app.md); `ping` is stored and ignored.
HANDLED = {
    "push",
    "pull_request",
    "check_suite",
    "check_run",
    "issue_comment",
    "issues",
    "installation",
    "installation_repositories",
}
PUSH = CORPUS / "webhooks" / "push" / "with-installation.payload.json"


async def stored(db: Database) -> list[dict[str, Any]]:
    return [dict(r) for r in await db.pool.fetch("SELECT id, event, status FROM deliveries")]


async def delivery_jobs(db: Database) -> list[str]:
    rows = await db.pool.fetch("SELECT payload->>'delivery_id' AS id FROM jobs WHERE kind = 'delivery'")
    return [r["id"] for r in rows]


def expected_status(row: dict[str, Any]) -> str:
    return "queued" if row["event"] in HANDLED and row["has_installation"] else "ignored"


async def test_every_corpus_example_is_answered_202_stored_and_queued_when_handled(
    client: TestClient[Any, Any], db: Database
) -> None:
    rows = corpus_examples()
    answers: dict[str, tuple[int, dict[str, Any]]] = {}
    delivery_of: dict[str, str] = {}
    for row in rows:
        body = (CORPUS / row["file"]).read_bytes()
        headers = signed_headers(body, row["event"])
        response = await client.post("/webhooks", data=body, headers=headers)
        answers[row["file"]] = (response.status, await response.json())
        delivery_of[row["file"]] = headers["X-GitHub-Delivery"]

    statuses = {r["id"]: (r["event"], r["status"]) for r in await stored(db)}
    queued = set(await delivery_jobs(db))
    wrong = []
    for row in rows:
        delivery, expected = delivery_of[row["file"]], expected_status(row)
        if answers[row["file"]] != (202, {"delivery": delivery, "status": expected}):
            wrong.append(f"{row['file']}: answered {answers[row['file']]}, expected {expected}")
        if statuses.get(delivery) != (row["event"], expected):
            wrong.append(f"{row['file']}: stored as {statuses.get(delivery)}")
        if (delivery in queued) != (expected == "queued"):
            wrong.append(f"{row['file']}: delivery job {'present' if delivery in queued else 'missing'}")
    assert wrong == []
    assert len(statuses) == len(rows) == 273
    assert sum(expected_status(r) == "queued" for r in rows) == len(queued) > 0


async def test_the_root_path_takes_deliveries_too(client: TestClient[Any, Any], db: Database) -> None:
    body = PUSH.read_bytes()
    response = await client.post("/", data=body, headers=signed_headers(body, "push"))
    assert response.status == 202
    assert (await response.json())["status"] == "queued"


async def test_a_wrong_signature_is_refused_and_nothing_stored(
    client: TestClient[Any, Any], db: Database
) -> None:
    body = PUSH.read_bytes()
    headers = signed_headers(body, "push")
    headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(b"not the secret", body, hashlib.sha256).hexdigest()
    response = await client.post("/webhooks", data=body, headers=headers)
    assert response.status == 401
    assert await stored(db) == []


async def test_a_body_changed_after_signing_is_refused(client: TestClient[Any, Any], db: Database) -> None:
    body = PUSH.read_bytes()
    headers = signed_headers(body, "push")
    response = await client.post(
        "/webhooks", data=body.replace(b"Codertocat", b"Codertocaz"), headers=headers
    )
    assert response.status == 401
    assert await stored(db) == []


async def test_a_missing_signature_is_refused(client: TestClient[Any, Any], db: Database) -> None:
    body = PUSH.read_bytes()
    headers = signed_headers(body, "push")
    del headers["X-Hub-Signature-256"]
    response = await client.post("/webhooks", data=body, headers=headers)
    assert response.status == 401
    assert await stored(db) == []


async def test_a_delivery_signed_only_with_sha1_is_refused(
    client: TestClient[Any, Any], db: Database
) -> None:
    body = PUSH.read_bytes()
    headers = signed_headers(body, "push")
    del headers["X-Hub-Signature-256"]
    headers["X-Hub-Signature"] = "sha1=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha1).hexdigest()
    response = await client.post("/webhooks", data=body, headers=headers)
    assert response.status == 401
    assert "SHA-1" in (await response.json())["error"]
    assert await stored(db) == []


@pytest.mark.parametrize("header", ["X-GitHub-Event", "X-GitHub-Delivery"])
async def test_a_missing_github_header_is_a_bad_request(
    client: TestClient[Any, Any], db: Database, header: str
) -> None:
    body = PUSH.read_bytes()
    headers = signed_headers(body, "push")
    del headers[header]
    response = await client.post("/webhooks", data=body, headers=headers)
    assert response.status == 400
    assert header in (await response.json())["error"]
    assert await stored(db) == []


async def test_a_signed_body_that_is_not_json_is_a_bad_request(
    client: TestClient[Any, Any], db: Database
) -> None:
    body = b"<xml>not json</xml>"
    response = await client.post("/webhooks", data=body, headers=signed_headers(body, "push"))
    assert response.status == 400
    assert await stored(db) == []


async def test_a_json_body_that_is_not_an_object_is_a_bad_request(
    client: TestClient[Any, Any], db: Database
) -> None:
    body = b"[1, 2, 3]"
    response = await client.post("/webhooks", data=body, headers=signed_headers(body, "push"))
    assert response.status == 400


async def test_a_body_over_25_mib_is_refused_with_413(client: TestClient[Any, Any], db: Database) -> None:
    body = b'{"padding": "' + b"x" * (26 * 1024 * 1024) + b'"}'
    response = await client.post("/webhooks", data=body, headers=signed_headers(body, "push"))
    assert response.status == 413
    assert await stored(db) == []


async def test_the_same_delivery_twice_is_stored_once_and_queued_once(
    client: TestClient[Any, Any], db: Database
) -> None:
    body = PUSH.read_bytes()
    headers = signed_headers(body, "push", "d6b5c6a0-8f43-11ee-9c3a-0242ac120002")
    first = await client.post("/webhooks", data=body, headers=headers)
    second = await client.post("/webhooks", data=body, headers=headers)
    assert [first.status, second.status] == [202, 202]
    assert [(await first.json())["status"], (await second.json())["status"]] == ["queued", "duplicate"]
    assert len(await stored(db)) == 1
    assert await delivery_jobs(db) == ["d6b5c6a0-8f43-11ee-9c3a-0242ac120002"]


async def run_delivery_jobs(db: Database, settings: Settings, router: Router) -> None:
    """What a worker would do with the queued delivery jobs."""
    for job_id, payload in await db.pool.fetch("SELECT id, payload::text FROM jobs WHERE kind = 'delivery'"):
        ctx = JobContext(
            db=db, settings=settings, github=None, llm=None, job_id=job_id, attempt=1, max_attempts=3
        )
        await run_delivery(ctx, json.loads(payload), router)


@pytest.fixture
def only_installations() -> tuple[Router, list[str]]:
    """Deliveries routed to the installation bookkeeping plus a recorder; the recorded delivery ids."""
    seen: list[str] = []
    recorder = Router()

    @recorder.register("installation")
    async def record(event: Event, ctx: EventContext) -> None:
        seen.append(event.delivery_id)

    return Router(installations.router, recorder), seen


async def test_a_duplicate_is_processed_once(
    client: TestClient[Any, Any],
    db: Database,
    settings: Settings,
    only_installations: tuple[Router, list[str]],
) -> None:
    body = (CORPUS / "webhooks" / "installation" / "created.payload.json").read_bytes()
    headers = signed_headers(body, "installation")
    for _ in range(2):
        await client.post("/webhooks", data=body, headers=headers)
    router, seen = only_installations
    await run_delivery_jobs(db, settings, router)
    assert seen == [headers["X-GitHub-Delivery"]]
    assert [r["status"] for r in await stored(db)] == ["processed"]


async def test_setup_mode_answers_503_naming_the_missing_credentials(
    setup_mode_client: TestClient[Any, Any], db: Database
) -> None:
    body = PUSH.read_bytes()
    response = await setup_mode_client.post("/webhooks", data=body, headers=signed_headers(body, "push"))
    assert response.status == 503
    message = (await response.json())["error"]
    assert "GITHUB_APP_ID" in message and "GITHUB_WEBHOOK_SECRET" in message and "/setup" in message
    assert await stored(db) == []


async def test_a_delivery_for_a_repository_removed_from_the_installation_is_ignored(
    client: TestClient[Any, Any],
    db: Database,
    settings: Settings,
    only_installations: tuple[Router, list[str]],
) -> None:
    removed = (CORPUS / "webhooks" / "installation_repositories" / "removed.payload.json").read_bytes()
    await client.post("/webhooks", data=removed, headers=signed_headers(removed, "installation_repositories"))
    await run_delivery_jobs(db, settings, only_installations[0])

    event = json.loads(removed)
    lost = event["repositories_removed"][0]
    push = json.loads(PUSH.read_bytes())
    push["installation"]["id"] = event["installation"]["id"]
    push["repository"]["id"] = lost["id"]
    push["repository"]["full_name"] = lost["full_name"]
    body = json.dumps(push).encode()
    response = await client.post("/webhooks", data=body, headers=signed_headers(body, "push"))
    assert (await response.json())["status"] == "ignored"


async def test_the_payload_is_stored_exactly_as_signed(client: TestClient[Any, Any], db: Database) -> None:
    body = PUSH.read_bytes()
    headers = signed_headers(body, "push")
    await client.post("/webhooks", data=body, headers=headers)
    stored_text = await db.pool.fetchval(
        "SELECT payload::text FROM deliveries WHERE id = $1", headers["X-GitHub-Delivery"]
    )
    assert stored_text.encode() == body
