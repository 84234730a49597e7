"""POST /webhooks: verify the signature on the raw bytes, store the delivery and queue its job, answer 202."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiohttp import web
from gidgethub import BadRequest, ValidationFailure
from gidgethub.sansio import Event

from forgeguard_app.events import DELIVERY_JOB, delivery_order_key
from forgeguard_app.jobs import database_unavailable, describe_error, queue_job_sql
from forgeguard_app.logs import delivery_id_var
from forgeguard_app.web.state import state_of

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 25 * 1024 * 1024
HANDLED_EVENTS = frozenset(
    {
        "push",
        "pull_request",
        "check_suite",
        "check_run",
        "issue_comment",
        "issues",
        "installation",
        "installation_repositories",
    }
)
# Events about the installation itself are acted on whatever its state.
INSTALLATION_EVENTS = frozenset({"installation", "installation_repositories"})
MAX_DELIVERY_ID = 200


class Rejected(Exception):
    """A delivery refused before anything is stored."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Delivery:
    """A verified delivery, as it is stored."""

    id: str
    event: str
    action: str | None
    installation_id: int | None
    repository_id: int | None
    repository_full_name: str | None
    data: dict[str, Any]


def verify(headers: Mapping[str, str], body: bytes, secret: str) -> Delivery:
    """Check the signature over the raw body, then the headers and the JSON; raise Rejected.

    `headers` must answer lowercase names. Only `X-Hub-Signature-256` counts: a
    delivery signed with the SHA-1 header alone is refused.
    """
    signature = headers.get("x-hub-signature-256")
    if not signature:
        if headers.get("x-hub-signature"):
            raise Rejected(401, "only X-Hub-Signature-256 is accepted; the SHA-1 signature is not")
        raise Rejected(401, "the X-Hub-Signature-256 header is missing")
    event_name = headers.get("x-github-event", "").strip()
    delivery_id = headers.get("x-github-delivery", "").strip()
    sansio_headers = {
        "x-hub-signature-256": signature,
        "content-type": headers.get("content-type") or "application/json",
        "x-github-event": event_name,
        "x-github-delivery": delivery_id,
    }
    try:
        event = Event.from_http(sansio_headers, body, secret=secret)
    except ValidationFailure as exc:
        raise Rejected(401, "the signature does not match the payload") from exc
    except BadRequest as exc:
        raise Rejected(400, "the body must be JSON (application/json or form-encoded payload)") from exc
    except (ValueError, KeyError) as exc:
        raise Rejected(400, "the body is not valid JSON") from exc
    if not event_name:
        raise Rejected(400, "the X-GitHub-Event header is missing")
    if not delivery_id or len(delivery_id) > MAX_DELIVERY_ID or not delivery_id.isprintable():
        raise Rejected(400, "the X-GitHub-Delivery header is missing or malformed")
    if not isinstance(event.data, dict):
        raise Rejected(400, "the body must be a JSON object")
    return describe(event_name, delivery_id, event.data)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def describe(event_name: str, delivery_id: str, data: dict[str, Any]) -> Delivery:
    """The columns stored for a delivery."""
    installation = data.get("installation")
    repository = data.get("repository")
    action = data.get("action")
    return Delivery(
        id=delivery_id,
        event=event_name,
        action=action if isinstance(action, str) else None,
        installation_id=_int_or_none(installation.get("id")) if isinstance(installation, dict) else None,
        repository_id=_int_or_none(repository.get("id")) if isinstance(repository, dict) else None,
        repository_full_name=repository.get("full_name") if isinstance(repository, dict) else None,
        data=data,
    )


def needs_work(delivery: Delivery) -> bool:
    """A delivery the app handles and can act on, before asking whether the repository is installed."""
    return delivery.event in HANDLED_EVENTS and delivery.installation_id is not None


def setup_mode_message(missing: list[str]) -> str:
    return (
        f"ForgeGuard is in setup mode: {', '.join(missing)} "
        f"{'is' if len(missing) == 1 else 'are'} not configured. Open /setup to register the app."
    )


async def receive(request: web.Request) -> web.Response:
    """The webhook endpoint."""
    state = state_of(request)
    settings = state.settings
    if settings.setup_mode or not settings.webhook_secret:
        return web.json_response(
            {"error": setup_mode_message(settings.missing_credentials or ["GITHUB_WEBHOOK_SECRET"])},
            status=503,
        )
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return web.json_response({"error": "the payload is over 25 MiB"}, status=413)
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return web.json_response({"error": "the payload is over 25 MiB"}, status=413)
    try:
        delivery = verify(request.headers, body, settings.webhook_secret)
    except Rejected as exc:
        log.info("webhook refused (%d): %s", exc.status, exc.message)
        return web.json_response({"error": exc.message}, status=exc.status)

    token = delivery_id_var.set(delivery.id)
    try:
        try:
            status = await store(state.db.pool, delivery, body)
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            # Nothing was stored: GitHub redelivers a delivery that was not answered 2xx.
            log.warning(
                "delivery %s not stored, the database is unavailable: %s", delivery.id, describe_error(exc)
            )
            return web.json_response(
                {"error": "the database is unavailable; deliver again later"},
                status=503,
                headers={"Retry-After": "30"},
            )
        log.info("%s %s delivery %s", delivery.event, delivery.action or "-", status)
        return web.json_response({"delivery": delivery.id, "status": status}, status=202)
    finally:
        delivery_id_var.reset(token)


async def store(pool: asyncpg.Pool, delivery: Delivery, body: bytes) -> str:
    """Insert the delivery and queue its job in one statement; returns queued, duplicate or ignored.

    One statement, so one transaction and one round trip: whether the repository
    is covered by the installation (`forgeguard_repository_covered`, migration
    007), the delivery, and its `delivery` job (a `jobs` row, by `jobs.enqueue`'s
    own SQL; a worker hands it to pgqueuer).
    """
    needs = needs_work(delivery)
    status = await pool.fetchval(
        f"""
        WITH delivery AS (
            INSERT INTO deliveries (id, event, action, installation_id, repository_id,
                                    repository_full_name, payload, status)
            VALUES ($1, $2, $3, $4, $5, $6, $7::text::json,
                    CASE WHEN NOT $8::boolean THEN 'ignored'
                         WHEN $9::boolean THEN 'queued'
                         WHEN forgeguard_repository_covered($4, $5) THEN 'queued'
                         ELSE 'ignored' END)
            ON CONFLICT (id) DO NOTHING
            RETURNING id, status
        ), job AS (
            {queue_job_sql(kind="$10", payload="jsonb_build_object('delivery_id', id)", order_key="$11")}
            FROM delivery WHERE status = 'queued'
            RETURNING id
        )
        SELECT status FROM delivery
        """,  # noqa: S608 (only the constant job SQL is interpolated; values are parameters)
        delivery.id,
        delivery.event,
        delivery.action,
        delivery.installation_id,
        delivery.repository_id,
        delivery.repository_full_name,
        _json_text(delivery, body),
        needs,
        delivery.event in INSTALLATION_EVENTS,
        DELIVERY_JOB,
        delivery_order_key(delivery.repository_id),
    )
    return "duplicate" if status is None else str(status)


def _json_text(delivery: Delivery, body: bytes) -> str:
    """The payload as stored: the body verbatim when it is JSON, re-encoded when it was form-encoded."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return json.dumps(delivery.data)
    return text if text.lstrip().startswith("{") else json.dumps(delivery.data)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/webhooks", receive)
    app.router.add_post("/", receive)
