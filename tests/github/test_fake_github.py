"""The fake GitHub itself: request validation, GitHub-shaped answers, git-backed behaviour."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import gidgethub
import pytest
from gidgethub import sansio

from forgeguard_app.github.auth import make_app_jwt
from forgeguard_app.github.client import GitHubApp, InstallationAPI
from tests.fixtures import openapi
from tests.fixtures.github import FakeGitHub, FakeRepo, read_tarball, sign_webhook


@pytest.fixture
def repo(fake_github: FakeGitHub) -> FakeRepo:
    return fake_github.add_repo("octo", "demo", files={"README.md": "hello\n", "src/a.py": "x = 1\n"})


@pytest.fixture
async def api(app: GitHubApp, repo: FakeRepo) -> InstallationAPI:
    return await app.installation_api(1)


def many_annotations(n: int) -> list[dict[str, object]]:
    return [
        {"path": "src/a.py", "start_line": 1, "end_line": 1, "annotation_level": "notice", "message": f"m{i}"}
        for i in range(n)
    ]


async def test_51_annotations_are_refused_with_422(
    api: InstallationAPI, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    fake_github.expect_invalid = True
    body = {
        "name": "x",
        "head_sha": repo.sha(),
        "output": {"title": "t", "summary": "s", "annotations": many_annotations(51)},
    }
    with pytest.raises(gidgethub.BadRequest) as raised:
        await api.post("/repos/octo/demo/check-runs", data=body)
    assert raised.value.status_code == 422
    ((operation, errors),) = fake_github.validation_errors
    assert operation == "checks/create"
    assert errors[0]["field"] == "output/annotations"
    assert fake_github.check_runs == []


async def test_an_unexpected_invalid_request_is_a_problem_that_fails_the_test(
    api: InstallationAPI, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    with pytest.raises(gidgethub.BadRequest):
        await api.post("/repos/octo/demo/check-runs", data={"name": "no head_sha"})
    problems = fake_github.problems()
    fake_github.expect_invalid = True  # this test examined the problem; let teardown pass
    assert len(problems) == 1
    assert problems[0].startswith("a request GitHub would refuse (422): checks/create")
    assert "'head_sha' is a required property" in problems[0]
    assert fake_github.problems() == []


async def test_50_annotations_are_accepted_and_stored(
    api: InstallationAPI, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    body = {
        "name": "x",
        "head_sha": repo.sha(),
        "output": {"title": "t", "summary": "s", "annotations": many_annotations(50)},
    }
    run = await api.post("/repos/octo/demo/check-runs", data=body)
    assert run["output"]["annotations_count"] == 50
    assert len(fake_github.annotations[run["id"]]) == 50


async def test_check_run_update_completes_and_appends_annotations(
    api: InstallationAPI, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    run = await api.post(
        "/repos/octo/demo/check-runs",
        data={"name": "ForgeGuard", "head_sha": repo.sha(), "status": "in_progress"},
    )
    out = {"title": "All checks passed", "summary": "s", "annotations": many_annotations(3)}
    done = await api.patch(
        f"/repos/octo/demo/check-runs/{run['id']}", data={"conclusion": "success", "output": out}
    )
    assert (done["status"], done["conclusion"], done["output"]["annotations_count"]) == (
        "completed",
        "success",
        3,
    )
    listed = await api.getitem(f"/repos/octo/demo/commits/{repo.sha()}/check-runs?check_name=ForgeGuard")
    assert listed["total_count"] == 1


@pytest.fixture
async def answers(
    fake_github: FakeGitHub, repo: FakeRepo, app: GitHubApp, session: aiohttp.ClientSession
) -> dict[str, tuple[int, Any]]:
    """One answer of the fake to each JSON operation of the subset, by operation id."""
    api = await app.installation_api(1)
    as_app = await app.app_api()
    sha = repo.sha()
    head = repo.commit({"src/a.py": "x = 2\n", "img.bin": b"\x00\x01"}, message="change a")
    got: dict[str, tuple[int, Any]] = {}
    got["apps/get-repo-installation"] = (200, await as_app.getitem("/repos/octo/demo/installation"))
    got["apps/create-installation-access-token"] = (
        201,
        await as_app.post("/app/installations/1/access_tokens", data={}),
    )
    code = fake_github.add_manifest_code()
    async with session.post(f"{fake_github.url}/app-manifests/{code}/conversions") as response:
        got["apps/create-from-manifest"] = (response.status, await response.json())
    run = await api.post("/repos/octo/demo/check-runs", data={"name": "ForgeGuard", "head_sha": head})
    got["checks/create"] = (201, run)
    got["checks/update"] = (
        200,
        await api.patch(f"/repos/octo/demo/check-runs/{run['id']}", data={"conclusion": "success"}),
    )
    got["checks/list-for-ref"] = (200, await api.getitem(f"/repos/octo/demo/commits/{head}/check-runs"))
    fake_github.set_permission("alice", "write")
    got["repos/get-collaborator-permission-level"] = (
        200,
        await api.getitem("/repos/octo/demo/collaborators/alice/permission"),
    )
    got["repos/compare-commits"] = (200, await api.getitem(f"/repos/octo/demo/compare/{sha}...{head}"))
    got["repos/get-content"] = (200, await api.getitem("/repos/octo/demo/contents/src/a.py"))
    blob = await api.post("/repos/octo/demo/git/blobs", data={"content": "x"})
    got["git/create-blob"] = (201, blob)
    entry = {"path": "b.txt", "mode": "100644", "type": "blob", "sha": blob["sha"]}
    tree = await api.post("/repos/octo/demo/git/trees", data={"base_tree": head, "tree": [entry]})
    got["git/create-tree"] = (201, tree)
    commit = await api.post(
        "/repos/octo/demo/git/commits", data={"message": "m", "tree": tree["sha"], "parents": [head]}
    )
    got["git/create-commit"] = (201, commit)
    got["git/create-ref"] = (
        201,
        await api.post("/repos/octo/demo/git/refs", data={"ref": "refs/heads/x", "sha": commit["sha"]}),
    )
    got["git/get-ref"] = (200, await api.getitem("/repos/octo/demo/git/ref/heads/x"))
    got["git/update-ref"] = (
        200,
        await api.patch("/repos/octo/demo/git/refs/heads/x", data={"sha": commit["sha"]}),
    )
    number = fake_github.add_issue(repo, "An issue")
    comment = await api.post(f"/repos/octo/demo/issues/{number}/comments", data={"body": "b"})
    got["issues/create-comment"] = (201, comment)
    got["issues/update-comment"] = (
        200,
        await api.patch(f"/repos/octo/demo/issues/comments/{comment['id']}", data={"body": "c"}),
    )
    got["reactions/create-for-issue-comment"] = (
        201,
        await api.post(
            f"/repos/octo/demo/issues/comments/{comment['id']}/reactions", data={"content": "eyes"}
        ),
    )
    got["pulls/create"] = (
        201,
        await api.post("/repos/octo/demo/pulls", data={"title": "t", "head": "x", "base": "main"}),
    )
    return got


JSON_OPERATIONS = [op for op in openapi.operations() if op != "repos/download-tarball-archive"]


@pytest.mark.parametrize("operation", JSON_OPERATIONS)
async def test_answers_match_githubs_response_schema(
    answers: dict[str, tuple[int, Any]], operation: str
) -> None:
    status, body = answers[operation]
    assert openapi.validate_response(operation, status, body) == []


async def test_a_pull_request_counts_its_commits_and_changes(api: InstallationAPI, repo: FakeRepo) -> None:
    repo.create_branch("topic")
    repo.commit({"one.txt": "1\n2\n"}, branch="topic")
    repo.commit({"two.txt": "3\n"}, branch="topic")
    pull = await api.post("/repos/octo/demo/pulls", data={"title": "t", "head": "topic", "base": "main"})
    assert (pull["commits"], pull["additions"], pull["deletions"], pull["changed_files"]) == (2, 3, 0, 2)


async def test_compare_lists_files_with_status_patch_and_previous_filename(
    api: InstallationAPI, repo: FakeRepo
) -> None:
    base = repo.sha()
    head = repo.commit(
        {"src/a.py": "x = 1\ny = 2\n", "new.txt": "n\n"}, renames={"README.md": "docs/README.md"}
    )
    data = await api.getitem(f"/repos/octo/demo/compare/{base}...{head}")
    files = {f["filename"]: f for f in data["files"]}
    assert files["docs/README.md"]["status"] == "renamed"
    assert files["docs/README.md"]["previous_filename"] == "README.md"
    assert files["new.txt"]["status"] == "added"
    assert files["src/a.py"]["patch"] == "@@ -1 +1,2 @@\n x = 1\n+y = 2"
    assert (data["status"], data["ahead_by"], data["total_commits"]) == ("ahead", 1, 1)


async def test_compare_caps_files_at_300_and_shows_them_only_on_the_first_page(
    api: InstallationAPI, repo: FakeRepo
) -> None:
    base = repo.sha()
    head = repo.commit({f"many/{i:04d}.txt": f"{i}\n" for i in range(301)})
    whole = await api.getitem(f"/repos/octo/demo/compare/{base}...{head}")
    second = await api.getitem(f"/repos/octo/demo/compare/{base}...{head}?per_page=100&page=2")
    assert len(whole["files"]) == 300
    assert second["files"] == []


async def test_git_data_api_builds_a_signed_commit_and_moves_the_branch(
    api: InstallationAPI, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    base = repo.sha()
    blob = await api.post("/repos/octo/demo/git/blobs", data={"content": "bmV3Cg==", "encoding": "base64"})
    tree = await api.post(
        "/repos/octo/demo/git/trees",
        data={
            "base_tree": base,
            "tree": [
                {"path": "Forge/new.txt", "mode": "100644", "type": "blob", "sha": blob["sha"]},
                {"path": "README.md", "mode": "100644", "type": "blob", "sha": None},
            ],
        },
    )
    commit = await api.post(
        "/repos/octo/demo/git/commits", data={"message": "Forge: add", "tree": tree["sha"], "parents": [base]}
    )
    assert commit["verification"]["verified"] is True
    await api.post(
        "/repos/octo/demo/git/refs", data={"ref": "refs/heads/forge/contracts-1", "sha": commit["sha"]}
    )
    ref = await api.getitem("/repos/octo/demo/git/ref/heads/forge/contracts-1")
    assert ref["object"]["sha"] == commit["sha"]
    assert repo.read(commit["sha"], "Forge/new.txt") == b"new\n"
    assert repo.read(commit["sha"], "README.md") is None


async def test_a_ref_update_that_is_not_a_fast_forward_is_refused(
    api: InstallationAPI, repo: FakeRepo
) -> None:
    old = repo.sha()
    repo.commit({"b.txt": "b\n"})
    with pytest.raises(gidgethub.BadRequest, match="not a fast forward"):
        await api.patch("/repos/octo/demo/git/refs/heads/main", data={"sha": old})


async def test_tarball_redirects_to_a_gzip_of_the_commit(api: InstallationAPI, repo: FakeRepo) -> None:
    data = await api.download(f"/repos/octo/demo/tarball/{repo.sha()}")
    assert read_tarball(data) == {"README.md": b"hello\n", "src/a.py": b"x = 1\n"}


async def test_contents_raw_and_json(api: InstallationAPI, repo: FakeRepo) -> None:
    raw = await api.download(
        "/repos/octo/demo/contents/src/a.py?ref=main", accept="application/vnd.github.raw"
    )
    meta = await api.getitem("/repos/octo/demo/contents/src/a.py?ref=main")
    assert raw == b"x = 1\n"
    assert (meta["type"], meta["encoding"], meta["size"]) == ("file", "base64", 6)


async def test_comments_reactions_labels_and_pulls(
    api: InstallationAPI, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    number = fake_github.add_issue(repo, "Build me a thing")
    comment = await api.post(f"/repos/octo/demo/issues/{number}/comments", data={"body": "working"})
    await api.patch(f"/repos/octo/demo/issues/comments/{comment['id']}", data={"body": "done"})
    reaction = await api.post(
        f"/repos/octo/demo/issues/comments/{comment['id']}/reactions", data={"content": "eyes"}
    )
    labels = await api.post(f"/repos/octo/demo/issues/{number}/labels", data={"labels": ["forge:intake"]})
    repo.create_branch("forge/contracts-1")
    repo.commit({"Forge/x.md": "x\n"}, branch="forge/contracts-1")
    pull = await api.post(
        "/repos/octo/demo/pulls",
        data={"title": "Forge contracts: thing", "head": "forge/contracts-1", "base": "main"},
    )
    listed = [c async for c in api.getiter(f"/repos/octo/demo/issues/{number}/comments")]
    assert [c["body"] for c in listed] == ["done"]
    assert reaction["content"] == "eyes"
    assert [label["name"] for label in labels] == ["forge:intake"]
    assert pull["number"] == number + 1 and pull["head"]["sha"] == repo.sha("forge/contracts-1")


async def test_collaborator_permission_is_configurable(
    api: InstallationAPI, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    fake_github.set_permission("alice", "maintain")
    alice = await api.getitem("/repos/octo/demo/collaborators/alice/permission")
    bob = await api.getitem("/repos/octo/demo/collaborators/bob/permission")
    assert (alice["permission"], alice["role_name"]) == ("write", "maintain")
    assert bob["permission"] == "none"


async def test_manifest_code_converts_once(fake_github: FakeGitHub, session: aiohttp.ClientSession) -> None:
    code = fake_github.add_manifest_code()
    async with session.post(f"{fake_github.url}/app-manifests/{code}/conversions") as first:
        created = await first.json()
    async with session.post(f"{fake_github.url}/app-manifests/{code}/conversions") as second:
        assert second.status == 404
    assert first.status == 201 and created["pem"] == fake_github.app_key


async def test_a_jwt_signed_with_another_key_is_refused(
    fake_github: FakeGitHub, session: aiohttp.ClientSession
) -> None:
    doc_key = openapi.example("apps/create-from-manifest", "response-201.default")["pem"]
    headers = {"authorization": f"Bearer {make_app_jwt(doc_key, fake_github.client_id)}"}
    async with session.post(
        f"{fake_github.url}/app/installations/1/access_tokens", headers=headers
    ) as response:
        assert response.status == 401
    assert fake_github.tokens == {}


async def test_a_request_without_a_token_gets_bad_credentials(
    fake_github: FakeGitHub, repo: FakeRepo, session: aiohttp.ClientSession
) -> None:
    async with session.get(f"{fake_github.url}/repos/octo/demo/git/trees/main") as response:
        assert response.status == 401
        assert (await response.json())["message"] == "Bad credentials"


def test_signed_webhook_verifies_with_gidgethub(fake_github: FakeGitHub) -> None:
    body = json.dumps({"zen": "Keep it logically awesome."}).encode()
    headers = sign_webhook(fake_github.webhook_secret, body, "ping")
    sansio.validate_event(body, signature=headers["x-hub-signature-256"], secret=fake_github.webhook_secret)
    event = sansio.Event.from_http(headers, body, secret=fake_github.webhook_secret)
    assert event.event == "ping"


def test_every_operation_of_the_subset_has_a_route() -> None:
    assert len(openapi.operations()) == 20
    for route in openapi.routes():
        assert route.operation in openapi.operations()


@pytest.mark.parametrize(
    "path",
    [
        "/repos/octo/demo/issues/99",
        "/repos/octo/demo/issues/comments/99",
        "/repos/octo/demo/check-runs/99",
        "/repos/octo/demo/pulls/1",
        "/repos/octo/nowhere/issues/1",
    ],
)
async def test_what_does_not_exist_is_githubs_404_not_a_fake_error(
    api: InstallationAPI, fake_github: FakeGitHub, repo: FakeRepo, path: str
) -> None:
    fake_github.add_issue(repo, "an issue, not a pull request")
    with pytest.raises(gidgethub.BadRequest) as raised:
        await api.getitem(path)
    assert raised.value.status_code == 404
    assert fake_github.problems() == []
