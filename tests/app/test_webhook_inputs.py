"""POST /webhooks and GET /audits/{id} answer any input with 2xx or 4xx, never 5xx (issue 10, items 8, 9)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import urllib.parse
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forgeguard_app.db import Database
from tests.app.conftest import CORPUS, WEBHOOK_SECRET, corpus_examples, signed_headers

PUSH = CORPUS / "webhooks" / "push" / "with-installation.payload.json"


def sign(body: bytes) -> str:
    return "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()


async def raw_post(
    client: TestClient[Any, Any], path: str, headers: list[tuple[bytes, bytes]], body: bytes
) -> int:
    """POST with header bytes exactly as given (the test client would encode them); the status code."""
    server = client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    lines = [b"POST " + path.encode() + b" HTTP/1.1", b"Host: localhost", b"Connection: close"]
    lines += [name + b": " + value for name, value in headers]
    lines.append(b"Content-Length: " + str(len(body)).encode())
    writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    return int(status_line.split()[1])


def header_bytes(
    body: bytes, event: bytes = b"push", signature: bytes | None = None
) -> list[tuple[bytes, bytes]]:
    return [
        (b"Content-Type", b"application/json"),
        (b"X-GitHub-Event", event),
        (b"X-GitHub-Delivery", b"72d3162e-cc78-11e3-81ab-4c9367dc0958"),
        (b"X-Hub-Signature-256", signature if signature is not None else sign(body).encode()),
    ]


async def stored_count(db: Database) -> int:
    return int(await db.pool.fetchval("SELECT count(*) FROM deliveries"))


async def test_a_non_ascii_byte_in_the_signature_is_refused_401(
    client: TestClient[Any, Any], db: Database
) -> None:
    body = PUSH.read_bytes()
    signature = sign(body).encode()[:-1] + b"\xe9"
    assert await raw_post(client, "/webhooks", header_bytes(body, signature=signature), body) == 401
    assert await stored_count(db) == 0


async def test_invalid_utf8_in_the_event_header_is_a_bad_request(
    client: TestClient[Any, Any], db: Database
) -> None:
    body = PUSH.read_bytes()
    assert await raw_post(client, "/webhooks", header_bytes(body, event=b"pu\xffsh"), body) == 400
    assert await stored_count(db) == 0


async def test_a_sha1_hmac_in_the_sha256_header_is_refused(
    client: TestClient[Any, Any], db: Database
) -> None:
    body = PUSH.read_bytes()
    headers = signed_headers(body, "push")
    headers["X-Hub-Signature-256"] = (
        "sha1=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha1).hexdigest()
    )
    response = await client.post("/webhooks", data=body, headers=headers)
    assert response.status == 401
    assert "sha256=" in (await response.json())["error"]
    assert await stored_count(db) == 0


async def test_an_unknown_charset_is_a_bad_request(client: TestClient[Any, Any], db: Database) -> None:
    body = PUSH.read_bytes()
    headers = signed_headers(body, "push")
    headers["Content-Type"] = "application/json; charset=x-no-such-charset"
    assert (await client.post("/webhooks", data=body, headers=headers)).status == 400


async def test_a_form_body_that_starts_with_a_brace_is_a_bad_request(
    client: TestClient[Any, Any], db: Database
) -> None:
    body = PUSH.read_bytes()
    headers = signed_headers(body, "push")
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    assert (await client.post("/webhooks", data=body, headers=headers)).status == 400
    assert await stored_count(db) == 0


async def test_a_form_encoded_delivery_is_stored_as_its_json(
    client: TestClient[Any, Any], db: Database
) -> None:
    payload = PUSH.read_bytes()
    body = urllib.parse.urlencode({"payload": payload.decode()}).encode()
    headers = signed_headers(body, "push")
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    response = await client.post("/webhooks", data=body, headers=headers)
    assert (response.status, (await response.json())["status"]) == (202, "queued")
    text = await db.pool.fetchval("SELECT payload::text FROM deliveries")
    assert json.loads(text) == json.loads(payload)


def push_with(path: list[str | int], value: Any) -> bytes:
    data = json.loads(PUSH.read_bytes())
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["installation", "id"], 2**64),
        (["repository", "id"], 2**63),
        (["repository", "id"], -(2**63) - 1),
        (["repository", "full_name"], 12345),
        (["installation"], "an installation"),
        (["action"], {"not": "a string"}),
        (["repository", "full_name"], "octo\x00cat/hello"),
        (["pusher", "email"], "nul \x00 inside"),
        (["pusher", "name"], "lone \ud800 surrogate"),
    ],
    ids=lambda v: str(v)[:20],
)
async def test_a_signed_but_malformed_field_is_a_bad_request(
    client: TestClient[Any, Any], db: Database, path: list[str | int], value: Any
) -> None:
    body = push_with(path, value)
    response = await client.post("/webhooks", data=body, headers=signed_headers(body, "push"))
    assert response.status == 400
    assert await stored_count(db) == 0


async def test_deeply_nested_json_is_a_bad_request(client: TestClient[Any, Any], db: Database) -> None:
    body = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert (await client.post("/webhooks", data=body, headers=signed_headers(body, "push"))).status == 400


@pytest.mark.parametrize("audit_id", ["9223372036854775808", "99999999999999999999999", "-1", "٣", "1e3"])
async def test_an_audit_id_out_of_range_is_not_found(client: TestClient[Any, Any], audit_id: str) -> None:
    assert (await client.get(f"/audits/{audit_id}")).status == 404


# --- fuzzing ------------------------------------------------------------------------------

ODD_STRINGS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["\x00", "\ud800", "\udfff", "\u202e", "é", "\n", "", " " * 3, "{", "%ff"]),
)
ODD_VALUES = st.one_of(
    ODD_STRINGS,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**63 - 1, 2**63, 2**64, True, None, 1.5, float("1e308")]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)
EXAMPLES = [
    row
    for row in corpus_examples()
    if row["event"] in {"push", "pull_request", "issue_comment", "installation", "check_run", "check_suite"}
]


def json_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            paths += json_paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for i, inner in enumerate(value[:3]):
            paths += json_paths(inner, (*prefix, i))
    return paths


@st.composite
def mutated_delivery(draw: st.DrawFn) -> tuple[list[tuple[bytes, bytes]], bytes]:
    row = draw(st.sampled_from(EXAMPLES))
    data = json.loads((CORPUS / row["file"]).read_bytes())
    paths = [p for p in json_paths(data) if p]
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        path = draw(st.sampled_from(paths))
        target = data
        try:
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = draw(ODD_VALUES)
        except (KeyError, IndexError, TypeError):
            pass
    body = json.dumps(data, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        chunk = draw(st.binary(min_size=1, max_size=8))
        at = draw(st.integers(min_value=0, max_value=len(body)))
        body = body[:at] + chunk + body[at:]
    form = draw(st.booleans()) and draw(st.booleans())
    if form:
        body = b"payload=" + urllib.parse.quote_from_bytes(body).encode()
    content_type = draw(
        st.sampled_from(
            [
                b"application/json",
                b"application/json; charset=utf-8",
                b"application/json; charset=latin-1",
                b"application/json; charset=nope",
                b"text/plain",
                b"application/x-www-form-urlencoded",
                b"application/json; charset=\xff",
            ]
        )
        if not form
        else st.just(b"application/x-www-form-urlencoded")
    )
    event = draw(st.one_of(st.just(row["event"].encode()), st.binary(max_size=10)))
    delivery = draw(st.one_of(st.uuids().map(lambda u: str(u).encode()), st.binary(max_size=10)))
    signature = sign(body).encode()
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        signature = draw(st.one_of(st.binary(max_size=80), st.just(b"sha1=" + signature[7:47])))
    headers = [
        (b"Content-Type", content_type),
        (b"X-GitHub-Event", event),
        (b"X-GitHub-Delivery", delivery),
        (b"X-Hub-Signature-256", signature),
    ]
    headers = [(name, value.replace(b"\r", b"").replace(b"\n", b"")) for name, value in headers]
    return headers, body


async def test_fuzzed_corpus_deliveries_never_get_a_5xx(client: TestClient[Any, Any], db: Database) -> None:
    loop = asyncio.get_running_loop()
    seen: list[tuple[int, bytes]] = []

    @settings(
        max_examples=300,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(mutated_delivery())
    def post_one(delivery: tuple[list[tuple[bytes, bytes]], bytes]) -> None:
        headers, body = delivery
        status = asyncio.run_coroutine_threadsafe(raw_post(client, "/webhooks", headers, body), loop).result()
        seen.append((status, body[:60]))
        assert status < 500, (headers, body[:300])

    await asyncio.to_thread(post_one)
    statuses = {status for status, _ in seen}
    assert 202 in statuses and 400 in statuses


async def test_fuzzed_audit_ids_never_get_a_5xx(client: TestClient[Any, Any]) -> None:
    rng = random.Random(10)
    ids = ["0", "00", "+1", " 1", "1 ", "0x10", "1_000", "١", "²", "9" * 19, "9" * 400, str(2**63 - 1)]
    ids += [str(rng.randint(-(2**70), 2**70)) for _ in range(30)]
    for audit_id in ids:
        response = await client.get("/audits/" + urllib.parse.quote(audit_id))
        assert response.status in (200, 404), audit_id
