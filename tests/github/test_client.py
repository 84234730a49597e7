"""The client against the fake GitHub: tokens, retries, rate limits, 401 refresh, ETags, counts, no leaks."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time

import aiohttp
import gidgethub
import pytest

from forgeguard_app.github.client import GitHubApp, graphql_url, operation_name
from tests.fixtures.github import FakeGitHub, FakeRepo
from tests.github.conftest import Sleeps

TREE = "/repos/octo/demo/git/trees/main"


@pytest.fixture
def repo(fake_github: FakeGitHub) -> FakeRepo:
    return fake_github.add_repo("octo", "demo", files={"README.md": "hello\n", "src/a.py": "x = 1\n"})


async def test_installation_token_is_minted_once_and_reused(
    app: GitHubApp, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    first = await app.installation_token(1)
    api = await app.installation_api(1)
    await api.getitem(TREE)
    assert await app.installation_token(1) == first
    assert fake_github.tokens_minted == [1]
    assert app.calls["token_mints"] == 1


async def test_a_token_inside_the_refresh_margin_is_replaced(
    app: GitHubApp, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    fake_github.token_ttl = dt.timedelta(minutes=4)  # less than the 5-minute margin
    first = await app.installation_token(1)
    second = await app.installation_token(1)
    assert first != second
    assert fake_github.tokens_minted == [1, 1]


async def test_concurrent_requests_mint_one_token(
    app: GitHubApp, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    tokens = await asyncio.gather(*(app.installation_token(1) for _ in range(20)))
    assert len(set(tokens)) == 1
    assert fake_github.tokens_minted == [1]


async def test_the_mint_request_is_signed_with_a_jwt_the_fake_verifies(
    app: GitHubApp, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    await app.installation_token(1)
    (mint,) = [r for r in fake_github.requests if r.operation == "apps/create-installation-access-token"]
    assert (mint.status, mint.auth) == (201, "jwt")


async def test_502_is_retried_with_backoff(
    app: GitHubApp, fake_github: FakeGitHub, repo: FakeRepo, sleeps: Sleeps
) -> None:
    fake_github.fault("GET", "/git/trees/", 502)
    api = await app.installation_api(1)
    tree = await api.getitem(TREE)
    assert {e["path"] for e in tree["tree"]} == {"README.md", "src"}
    assert [r.status for r in api.log] == [502, 200]
    assert len(sleeps) == 1 and 0.01 <= sleeps[0] <= 0.015


async def test_three_5xx_answers_give_up(app: GitHubApp, fake_github: FakeGitHub, repo: FakeRepo) -> None:
    fake_github.fault("GET", "/git/trees/", 503, times=5)
    api = await app.installation_api(1)
    with pytest.raises(gidgethub.GitHubBroken):
        await api.getitem(TREE)
    assert api.calls == 3


async def test_secondary_rate_limit_403_waits_for_retry_after(
    app: GitHubApp, fake_github: FakeGitHub, repo: FakeRepo, sleeps: Sleeps
) -> None:
    fake_github.fault("GET", "/git/trees/", 403, {"retry-after": "1"})
    api = await app.installation_api(1)
    await api.getitem(TREE)
    assert sleeps == [1.0]
    assert [r.status for r in api.log] == [403, 200]


async def test_429_is_retried_after_retry_after(
    app: GitHubApp, fake_github: FakeGitHub, repo: FakeRepo, sleeps: Sleeps
) -> None:
    fake_github.fault("POST", "/check-runs$", 429, {"retry-after": "2"})
    api = await app.installation_api(1)
    run = await api.post("/repos/octo/demo/check-runs", data={"name": "ForgeGuard", "head_sha": repo.sha()})
    assert run["status"] == "queued"
    assert sleeps == [2.0]
    assert len(fake_github.check_runs) == 1


async def test_exhausted_rate_limit_waits_until_reset(
    app: GitHubApp, fake_github: FakeGitHub, repo: FakeRepo, sleeps: Sleeps
) -> None:
    reset = int(time.time()) + 5
    fake_github.fault(
        "GET",
        "/git/trees/",
        403,
        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
        body={"message": "API rate limit exceeded for installation ID 1."},
    )
    api = await app.installation_api(1)
    await api.getitem(TREE)
    assert len(sleeps) == 1 and 4 <= sleeps[0] <= 7


async def test_a_403_that_is_not_a_rate_limit_is_not_retried(
    app: GitHubApp, fake_github: FakeGitHub, repo: FakeRepo, sleeps: Sleeps
) -> None:
    fake_github.fault("GET", "/git/trees/", 403, body={"message": "Resource not accessible by integration"})
    api = await app.installation_api(1)
    with pytest.raises(gidgethub.BadRequest, match="Resource not accessible"):
        await api.getitem(TREE)
    assert api.calls == 1 and sleeps == []


async def test_expired_token_answered_401_is_refreshed_once(
    app: GitHubApp, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    api = await app.installation_api(1)
    fake_github.expire_tokens()
    await api.getitem(TREE)
    assert [r.status for r in api.log] == [401, 200]
    assert fake_github.tokens_minted == [1, 1]


async def test_a_second_401_is_raised_not_retried_again(
    app: GitHubApp, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    fake_github.fault("GET", "/git/trees/", 401, times=3)
    api = await app.installation_api(1)
    with pytest.raises(gidgethub.BadRequest, match="Bad credentials"):
        await api.getitem(TREE)
    assert api.calls == 2


async def test_etag_304_is_answered_from_the_cache(
    app: GitHubApp, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    api = await app.installation_api(1)
    first = await api.getitem(TREE)
    remaining = fake_github.rate_limit_remaining
    second = await api.getitem(TREE)
    assert second == first
    assert [r.status for r in fake_github.requests[-2:]] == [200, 304]
    assert api.not_modified == 1 and api.log[-1].from_cache
    assert fake_github.rate_limit_remaining == remaining


async def test_the_etag_cache_is_shared_by_clients_of_one_installation(
    app: GitHubApp, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    await (await app.installation_api(1)).getitem(TREE)
    later = await app.installation_api(1)
    await later.getitem(TREE)
    assert later.not_modified == 1 and later.calls == 1


async def test_calls_are_counted_per_operation(
    app: GitHubApp, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    api = await app.installation_api(1)
    await api.getitem(TREE)
    await api.getitem("/repos/octo/demo/compare/main...main")
    await api.getitem("/repos/octo/demo/compare/main...main")
    assert api.operations() == {"git/get-tree": 1, "repos/compare-commits": 2}
    assert api.calls == 3


async def test_tokens_and_jwts_never_reach_the_log(
    app: GitHubApp, fake_github: FakeGitHub, repo: FakeRepo, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api = await app.installation_api(1)
    fake_github.fault("GET", "/git/trees/", 502)
    fake_github.fault("GET", "/compare/", 401)
    await api.getitem(TREE)
    await api.getitem("/repos/octo/demo/compare/main...main")
    with pytest.raises(gidgethub.BadRequest):
        await api.getitem("/repos/octo/demo/contents/missing.txt")
    assert caplog.records, "the client logs its requests at debug level"
    secrets = [*fake_github.tokens, app.jwt.get()]
    for secret in secrets:
        assert secret not in caplog.text
    assert "ghs_" not in caplog.text and "eyJ" not in caplog.text


async def test_graphql_goes_to_the_servers_graphql_endpoint(
    app: GitHubApp, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    api = await app.installation_api(1)
    data = await api.graphql(
        "query($o: String!, $n: String!) { repository(owner: $o, name: $n) "
        '{ f: object(expression: "main:README.md") { ... on Blob { text } } } }',
        o="octo",
        n="demo",
    )
    assert data["repository"]["f"]["text"] == "hello\n"
    assert api.log[-1].operation == "graphql"


def test_graphql_url_on_github_enterprise_server() -> None:
    assert graphql_url("https://ghe.example.com/api/v3") == "https://ghe.example.com/api/graphql"
    assert graphql_url("https://api.github.com") == "https://api.github.com/graphql"


def test_operation_names_follow_githubs_operation_ids() -> None:
    assert operation_name("GET", "/repos/o/r/compare/a...b/c") == "repos/compare-commits"
    assert operation_name("PATCH", "/repos/o/r/check-runs/4") == "checks/update"
    assert operation_name("DELETE", "/x") == "DELETE /x"


async def test_a_refused_jwt_is_signed_again_once(
    app: GitHubApp, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    fake_github.fault(
        "POST", "/access_tokens$", 401, body={"message": "'Issued at' claim ('iat') is in the future"}
    )
    await app.installation_token(1)
    mints = [r.status for r in fake_github.requests if r.operation == "apps/create-installation-access-token"]
    assert mints == [401, 201]
    assert app.jwt.signed == 2


async def test_answers_too_big_for_the_etag_cache_are_not_kept(
    fake_github: FakeGitHub, session: aiohttp.ClientSession, repo: FakeRepo
) -> None:
    small = GitHubApp(fake_github.settings(), session, etag_cache_bytes=1000)
    api = await small.installation_api(1)
    await api.getitem(TREE + "?recursive=1")
    await api.getitem(TREE + "?recursive=1")
    assert [r.status for r in api.log] == [200, 200]
    assert api.not_modified == 0
