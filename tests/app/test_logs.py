"""Logging: secrets never reach a log line; JSON lines carry the delivery and job ids."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from forgeguard_app.logs import configure, delivery_id_var, job_id_var, redact

# GitHub's documented example token and JWT shapes (corpus: installation-token example).
SECRETS = [
    "ghs_16C7e42F292c6912E7710c838347Ae178B4a",
    "ghp_R2d2C3p0R2d2C3p0R2d2C3p0R2d2C3p0R2d2",
    "gho_16C7e42F292c6912E7710c838347Ae178B4a",
    "ghu_16C7e42F292c6912E7710c838347Ae178B4a",
    "ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d16D5B1A9Dc86A1498",
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRS",
    "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMjM0NSIsImlhdCI6MTcwMDAwMDAwMH0.c2lnbmF0dXJlLWJ5dGVz",
]


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure("debug", "json", stream)
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize("secret", SECRETS)
def test_token_shapes_are_redacted(secret: str) -> None:
    assert secret not in redact(f"calling GitHub with {secret} now")


@pytest.mark.parametrize("prefix", ["Authorization: token ", "Authorization: Bearer ", "token=", "bearer "])
def test_the_value_after_token_or_bearer_is_redacted(prefix: str) -> None:
    assert "s3cr3tV4lue99" not in redact(f"{prefix}s3cr3tV4lue99 sent")


def test_ordinary_text_is_kept() -> None:
    text = "installation 957387 repository Codertocat/Hello-World push to refs/heads/main"
    assert redact(text) == text


def test_a_token_passed_as_a_log_argument_is_redacted(captured: io.StringIO) -> None:
    logging.getLogger("forgeguard_app.test").info("minted %s for %d", SECRETS[0], 42)
    [line] = lines(captured)
    assert line["message"] == "minted [REDACTED] for 42"


def test_a_token_inside_an_exception_is_redacted(captured: io.StringIO) -> None:
    try:
        raise RuntimeError(f"401 with Authorization: Bearer {SECRETS[6]}")
    except RuntimeError:
        logging.getLogger("forgeguard_app.test").exception("request failed")
    output = captured.getvalue()
    assert SECRETS[6] not in output and "RuntimeError" in output


def test_json_lines_carry_the_delivery_and_job_ids_in_context(captured: io.StringIO) -> None:
    log = logging.getLogger("forgeguard_app.test")
    delivery = delivery_id_var.set("72d3162e-cc78-11e3-81ab-4c9367dc0958")
    job = job_id_var.set(17)
    try:
        log.info("inside")
    finally:
        job_id_var.reset(job)
        delivery_id_var.reset(delivery)
    log.info("outside")
    inside, outside = lines(captured)
    assert (inside["delivery_id"], inside["job_id"]) == ("72d3162e-cc78-11e3-81ab-4c9367dc0958", 17)
    assert "delivery_id" not in outside and "job_id" not in outside
    assert {inside["level"], inside["logger"]} == {"info", "forgeguard_app.test"}


def test_text_format_shows_the_delivery_id(captured: io.StringIO) -> None:
    stream = io.StringIO()
    configure("info", "text", stream)
    token = delivery_id_var.set("abc-123")
    try:
        logging.getLogger("forgeguard_app.test").info("stored")
    finally:
        delivery_id_var.reset(token)
    assert "[delivery=abc-123] stored" in stream.getvalue()
