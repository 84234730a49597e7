"""App JWTs, installation token parsing and secret redaction."""

from __future__ import annotations

import datetime as dt
import json
import pathlib

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from forgeguard_app.github.auth import (
    JWT_BACKDATE,
    AppJWT,
    InstallationToken,
    TokenCache,
    make_app_jwt,
    redact,
)
from tests.fixtures.github import FakeGitHub
from tests.fixtures.openapi import CORPUS, example

DOC_KEY = example("apps/create-from-manifest", "response-201.default")["pem"]
"""GitHub's public documentation key: fine for signing tests, never a real credential."""


def public_key(pem: str) -> RSAPublicKey:
    key = load_pem_private_key(pem.encode(), password=None).public_key()
    assert isinstance(key, RSAPublicKey)
    return key


def test_jwt_is_rs256_and_verifies_with_the_apps_public_key() -> None:
    token = make_app_jwt(DOC_KEY, "Iv1.8a61f9b3a7aba766", now=1_700_000_000)
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = jwt.decode(token, public_key(DOC_KEY), algorithms=["RS256"], options={"verify_exp": False})
    assert claims["iss"] == "Iv1.8a61f9b3a7aba766"


def test_jwt_issued_at_is_back_dated_by_60_seconds() -> None:
    token = make_app_jwt(DOC_KEY, "1", now=1_700_000_000)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iat"] == 1_700_000_000 - JWT_BACKDATE == 1_699_999_940


def test_jwt_expires_within_ten_minutes_of_now() -> None:
    token = make_app_jwt(DOC_KEY, "1", now=1_700_000_000)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert 1_700_000_000 < claims["exp"] <= 1_700_000_000 + 600
    assert claims["exp"] - claims["iat"] <= 600


def test_jwt_does_not_verify_with_another_key(fake_github: FakeGitHub) -> None:
    token = make_app_jwt(DOC_KEY, "1")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, fake_github.public_key, algorithms=["RS256"])


def test_cached_jwt_is_reused_until_a_minute_before_expiry() -> None:
    now = [1_700_000_000.0]
    signer = AppJWT(DOC_KEY, "1", clock=lambda: now[0])
    first = signer.get()
    now[0] += 7 * 60
    assert signer.get() == first
    now[0] += 60 + 1
    assert signer.get() != first
    assert signer.signed == 2


def test_installation_token_parsed_from_the_documentation_example() -> None:
    token = InstallationToken.from_response(
        example("apps/create-installation-access-token", "response-201.default")
    )
    assert token.token == "ghs_16C7e42F292c6912E7710c838347Ae178B4a"
    assert token.expires_at == dt.datetime(2016, 7, 11, 22, 14, 10, tzinfo=dt.UTC)
    assert token.permissions == {"issues": "write", "contents": "read"}
    assert token.repository_selection == "selected"


def test_installation_token_parsed_from_recorded_traffic() -> None:
    folder = CORPUS / "recorded/pygithub/apps/create-installation-access-token"
    recorded = folder / "GithubIntegration.testGetAccessToken.1.json"
    body = json.loads(pathlib.Path(recorded).read_text())["response_body"]
    token = InstallationToken.from_response(body)
    assert token.expires_at == dt.datetime(2024, 11, 25, 1, 0, 2, tzinfo=dt.UTC)
    assert token.permissions["issues"] == "write"


def test_installation_token_repr_hides_the_token() -> None:
    token = InstallationToken.from_response(
        example("apps/create-installation-access-token", "response-201.default")
    )
    assert "ghs_" not in repr(token)


def test_token_is_fresh_only_beyond_the_margin() -> None:
    expires = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    token = InstallationToken("ghs_x", expires)
    assert token.fresh(expires - dt.timedelta(minutes=6), margin=300)
    assert not token.fresh(expires - dt.timedelta(minutes=4), margin=300)


async def test_token_cache_refreshes_a_token_inside_the_margin() -> None:
    now = [dt.datetime(2030, 1, 1, tzinfo=dt.UTC)]
    minted: list[int] = []

    async def mint(installation_id: int) -> InstallationToken:
        minted.append(installation_id)
        return InstallationToken(f"ghs_{len(minted):020d}", now[0] + dt.timedelta(hours=1))

    cache = TokenCache(mint, margin=300, clock=lambda: now[0])
    first = await cache.get(7)
    now[0] += dt.timedelta(minutes=54)
    assert await cache.get(7) == first
    now[0] += dt.timedelta(minutes=2)
    assert (await cache.get(7)).token != first.token
    assert minted == [7, 7]


def test_redact_removes_installation_tokens() -> None:
    assert redact("token ghs_16C7e42F292c6912E7710c838347Ae178B4a failed") == "token [REDACTED] failed"


def test_redact_removes_jwts() -> None:
    token = make_app_jwt(DOC_KEY, "1")
    assert token not in redact(f"Authorization: Bearer {token}")
    assert "eyJ" not in redact(f"jwt={token}")


def test_redact_removes_given_secrets_and_query_tokens() -> None:
    text = redact("GET https://codeload.example/x.tar.gz?token=ABCDEF123 with s3cr3t-value", "s3cr3t-value")
    assert "ABCDEF123" not in text and "s3cr3t-value" not in text
