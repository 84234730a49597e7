"""POST /webhooks: verify the signature on the raw bytes, store the delivery and queue its job, answer 202."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiohttp import web
from aiohttp.helpers import parse_mimetype

from forgeguard_app.db import MAX_ID
from forgeguard_app.events import DELIVERY_JOB, delivery_order_key
from forgeguard_app.jobs import database_unavailable, describe_error, queue_job_sql
from forgeguard_app.logs import delivery_id_var
from forgeguard_app.redeliver import Missed
from forgeguard_app.web.state import state_of

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 25 * 1024 * 1024
UNVERIFIED_BYTES = 64 * 1024 * 1024
"""What the bodies not yet verified may hold at once, all requests together; over it, 503."""
BODY_TIMEOUT = 30.0
"""Seconds a client has to send a body (GitHub sends one in well under a second)."""
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


class BodyBudget:
    """Bytes the unverified bodies of all requests in flight may hold together."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0

    def take(self, size: int) -> bool:
        if self.held + size > self.limit:
            return False
        self.held += size
        return True

    def give_back(self, size: int) -> None:
        self.held -= size


BODY_BUDGET = web.AppKey("forgeguard_body_budget", BodyBudget)
MISSED = web.AppKey("forgeguard_missed_deliveries", Missed)


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
    form_encoded: bool = False


SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")
EVENT_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
# A NUL or a lone surrogate can only come in as a \u escape: look for one before walking the payload.
SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def verify(headers: Mapping[str, str], body: bytes, secret: str) -> Delivery:
    """Check the signature over the raw body, then the headers and the JSON; raise Rejected.

    `headers` must answer lowercase names. Only `X-Hub-Signature-256: sha256=…`
    counts: a SHA-1 HMAC, in either header, is refused. Header values may hold
    any bytes (aiohttp keeps undecodable ones as surrogates), so nothing here
    assumes ASCII.
    """
    signature = headers.get("x-hub-signature-256")
    if not signature:
        if headers.get("x-hub-signature"):
            raise Rejected(401, "only X-Hub-Signature-256 is accepted; the SHA-1 signature is not")
        raise Rejected(401, "the X-Hub-Signature-256 header is missing")
    match = SIGNATURE.fullmatch(signature.strip())
    if match is None:
        raise Rejected(401, "X-Hub-Signature-256 must be sha256= and the HMAC's 64 hex digits")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().encode()
    if not hmac.compare_digest(expected, match.group(1).lower().encode()):
        raise Rejected(401, "the signature does not match the payload")
    event_name = headers.get("x-github-event", "").strip()
    delivery_id = headers.get("x-github-delivery", "").strip()
    if not event_name:
        raise Rejected(400, "the X-GitHub-Event header is missing")
    if EVENT_NAME.fullmatch(event_name) is None:
        raise Rejected(400, "the X-GitHub-Event header is malformed")
    if (
        not delivery_id
        or len(delivery_id) > MAX_DELIVERY_ID
        or not delivery_id.isascii()
        or not delivery_id.isprintable()
    ):
        raise Rejected(400, "the X-GitHub-Delivery header is missing or malformed")
    data, form_encoded = decode_body(headers.get("content-type") or "application/json", body)
    if not isinstance(data, dict):
        raise Rejected(400, "the body must be a JSON object")
    if SUSPECT_ESCAPE.search(body) is not None or form_encoded:
        _refuse_unstorable_text(data)
    return describe(event_name, delivery_id, data, form_encoded=form_encoded)


def decode_body(content_type: str, body: bytes) -> tuple[Any, bool]:
    """The JSON value of a body GitHub sends as UTF-8 JSON or as a form's `payload`; whether form-encoded."""
    if not content_type.isascii() or not content_type.isprintable():
        raise Rejected(400, "the Content-Type header is malformed")
    mime = parse_mimetype(content_type)
    media = f"{mime.type}/{mime.subtype}"
    charset = mime.parameters.get("charset") or "utf-8"
    if not isinstance(charset, str) or charset.strip().lower().replace("-", "") != "utf8":
        raise Rejected(400, "the body must be UTF-8 (charset=utf-8)")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected(400, "the body is not valid UTF-8") from None
    form_encoded = media == "application/x-www-form-urlencoded"
    if form_encoded:
        try:
            fields = urllib.parse.parse_qs(text, errors="strict", max_num_fields=10)
        except ValueError:  # UnicodeDecodeError from a %-escape, or too many fields
            raise Rejected(400, "the form-encoded body is malformed") from None
        if list(fields) != ["payload"] or len(fields["payload"]) != 1:
            raise Rejected(400, "a form-encoded delivery must hold one field, payload")
        text = fields["payload"][0]
    elif media != "application/json":
        raise Rejected(400, "the body must be application/json or application/x-www-form-urlencoded")
    try:
        return json.loads(text), form_encoded
    except (ValueError, RecursionError):
        raise Rejected(400, "the body is not valid JSON") from None


def _refuse_unstorable_text(data: Any) -> None:
    """400 for a NUL or a lone surrogate anywhere (PostgreSQL text cannot hold them)."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise Rejected(400, "the payload holds a lone surrogate") from None
            if "\x00" in value:
                raise Rejected(400, "the payload holds a NUL character")


def _field(obj: Any, key: str, kind: type) -> Any:
    """`obj[key]` when it has the type GitHub sends (or is absent or null); 400 otherwise."""
    if obj is None:
        return None
    if not isinstance(obj, dict):
        raise Rejected(400, f"the payload's {key} is not where GitHub puts it")
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise Rejected(400, f"the payload's {key} is a {type(value).__name__}, not a {kind.__name__}")
    if isinstance(value, int) and not 0 < value <= MAX_ID:
        raise Rejected(400, f"the payload's {key} is out of range")
    return value


def describe(
    event_name: str, delivery_id: str, data: dict[str, Any], *, form_encoded: bool = False
) -> Delivery:
    """The columns stored for a delivery; 400 when one of them is not of the type GitHub sends."""
    installation = data.get("installation")
    repository = data.get("repository")
    if installation is not None and not isinstance(installation, dict):
        raise Rejected(400, "the payload's installation is not an object")
    if repository is not None and not isinstance(repository, dict):
        raise Rejected(400, "the payload's repository is not an object")
    return Delivery(
        id=delivery_id,
        event=event_name,
        action=_field(data, "action", str),
        installation_id=_field(installation, "id", int),
        repository_id=_field(repository, "id", int),
        repository_full_name=_field(repository, "full_name", str),
        data=data,
        form_encoded=form_encoded,
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
    budget = request.app[BODY_BUDGET]
    taken = 0
    try:
        chunks: list[bytes] = []
        size = 0
        expected = request.content_length
        if expected is not None:
            if expected > MAX_BODY_BYTES:
                return web.json_response({"error": "the payload is over 25 MiB"}, status=413)
            if not budget.take(expected):
                return _busy()
            taken = expected
        async with asyncio.timeout(BODY_TIMEOUT):
            async for chunk in request.content.iter_any():
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    return web.json_response({"error": "the payload is over 25 MiB"}, status=413)
                if size > taken:
                    if not budget.take(size - taken):
                        return _busy()
                    taken = size
        body = b"".join(chunks)
        del chunks
        delivery = verify(request.headers, body, settings.webhook_secret)
    except TimeoutError:
        log.info("webhook refused (408): the body took over %.0f s", BODY_TIMEOUT)
        return web.json_response({"error": "the body was not sent in time"}, status=408)
    except Rejected as exc:
        log.info("webhook refused (%d): %s", exc.status, exc.message)
        return web.json_response({"error": exc.message}, status=exc.status)
    finally:
        budget.give_back(taken)

    token = delivery_id_var.set(delivery.id)
    try:
        try:
            status = await store(state.db.pool, delivery, body)
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            # Nothing was stored, and GitHub does not redeliver by itself: once the database
            # answers again, forgeguard_app.redeliver asks GitHub for this delivery again.
            request.app[MISSED].note()
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
    """The payload as stored: the body verbatim when it was JSON, re-encoded when it was form-encoded."""
    return json.dumps(delivery.data) if delivery.form_encoded else body.decode("utf-8")


def _busy() -> web.Response:
    log.warning("webhook refused (503): unverified bodies already hold %d MiB", UNVERIFIED_BYTES >> 20)
    return web.json_response(
        {"error": "too many deliveries are arriving at once; deliver again later"},
        status=503,
        headers={"Retry-After": "5"},
    )


def add_routes(app: web.Application) -> None:
    app[BODY_BUDGET] = BodyBudget(UNVERIFIED_BYTES)
    app[MISSED] = Missed()
    app.router.add_post("/webhooks", receive)
    app.router.add_post("/", receive)
