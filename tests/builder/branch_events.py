"""The deliveries GitHub sends about a build's branch, pull request and issue, made from corpus payloads.

Each maker starts from a real payload in `shared/github-corpus/webhooks`,
points it at the bench's repository and fills in what the event is about
(the branch move, the pull request, the issue); commit lists and file lists
come from the fake's git repository, as GitHub would fill them in.
"""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from tests.builder.build_harness import BuildBench
from tests.fixtures import webhooks
from tests.fixtures.webhooks import SCHEMAS, corpus_payload


def schema_errors(event: str, action: str, payload: dict[str, Any]) -> list[str]:
    """What the corpus' webhook schema for `event`/`action` finds wrong with `payload`."""
    resources = [
        (data["$id"], Resource.from_contents(data, default_specification=DRAFT7))
        for path in (SCHEMAS / "common").glob("*.schema.json")
        for data in [json.loads(path.read_text())]
    ]
    registry: Registry[Any] = Registry().with_resources(resources)
    schema = json.loads((SCHEMAS / event / f"{action}.schema.json").read_text())
    validator = Draft7Validator(schema, registry=registry)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(payload)]


def point_at(bench: BuildBench, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload's repository and installation made the bench's."""
    return webhooks.point_at(payload, bench.repo)


def _pushed_commit(
    bench: BuildBench, sha: str, details: dict[str, Any], template: dict[str, Any]
) -> dict[str, Any]:
    """One entry of a push's `commits`, with the files it added, removed and modified."""
    status = bench.repo.git("diff-tree", "--no-commit-id", "--name-status", "-r", details["parents"][0], sha)
    changes: dict[str, list[str]] = {"A": [], "D": [], "M": []}
    for line in status.splitlines():
        kind, path = line.split("\t", 1)
        changes.setdefault(kind[0], []).append(path)
    url = f"https://github.com/{bench.repo.full_name}/commit/{sha}"
    return {
        **template,
        "id": sha,
        "tree_id": details["tree"],
        "message": details["message"],
        "timestamp": details["committer"]["date"],
        "url": url,
        "added": changes["A"],
        "removed": changes["D"],
        "modified": changes["M"],
    }


def branch_push(bench: BuildBench, branch: str, before: str, after: str) -> dict[str, Any]:
    """The `push` GitHub sends when `branch` moves from `before` to `after` (commits oldest first)."""
    payload = point_at(bench, corpus_payload("push/with-new-branch.payload.json"))
    template = payload["commits"][0]
    shas = bench.repo.rev_list(f"{before}..{after}")
    details = bench.repo.commit_details(shas)
    commits = [_pushed_commit(bench, sha, details[sha], template) for sha in shas]
    payload.update(
        ref=f"refs/heads/{branch}",
        before=before,
        after=after,
        created=False,
        deleted=False,
        forced=False,
        base_ref=None,
        compare=f"https://github.com/{bench.repo.full_name}/compare/{before[:12]}...{after[:12]}",
        commits=commits,
        head_commit=commits[-1] if commits else None,
    )
    return payload


def pull_synchronize(bench: BuildBench, number: int, before: str, after: str) -> dict[str, Any]:
    """The `pull_request` `synchronize` GitHub sends when pull request `number`'s head moves to `after`."""
    payload = point_at(bench, corpus_payload("pull_request/synchronize.payload.json"))
    pull = bench.fake.issue(bench.repo, number).pull
    assert pull is not None, f"#{number} is not a pull request"
    payload.update(number=number, before=before, after=after)
    pr = payload["pull_request"]
    pr.update(number=number, draft=bool(pull["draft"]), state="open")
    pr["head"].update(ref=pull["head"], sha=after)
    pr["head"]["repo"] = {**pr["head"]["repo"], **payload["repository"]}
    pr["base"].update(ref=bench.repo.default_branch, sha=bench.repo.sha())
    pr["base"]["repo"] = {**pr["base"]["repo"], **payload["repository"]}
    return payload


def issue_event(bench: BuildBench, action: str, number: int | None = None) -> dict[str, Any]:
    """The `issues` event `closed` or `locked` of the bench's issue (or `number`).

    The corpus has a `locked` example but no `closed` one: `closed` is made from
    the `reopened` example (the same issue object) with the fields GitHub's
    `issues closed` schema requires of it, and checked against that schema.
    """
    number = bench.issue if number is None else number
    source = {"closed": "issues/reopened.payload.json", "locked": "issues/locked.payload.json"}[action]
    payload = point_at(bench, corpus_payload(source))
    payload["action"] = action
    issue = payload["issue"]
    issue.update(number=number, title=bench.fake.issue(bench.repo, number).title)
    issue.update(
        url=f"https://api.github.com/repos/{bench.repo.full_name}/issues/{number}",
        html_url=f"https://github.com/{bench.repo.full_name}/issues/{number}",
    )
    if action == "closed":
        issue.update(state="closed", closed_at=issue["updated_at"])
    problems = schema_errors("issues", action, payload)
    assert not problems, problems
    return payload


def pull_closed(bench: BuildBench, number: int) -> dict[str, Any]:
    """The `pull_request` `closed` (not merged) of pull request `number`: its Close button."""
    payload = point_at(bench, corpus_payload("pull_request/closed.payload.json"))
    pull = bench.fake.issue(bench.repo, number).pull
    assert pull is not None, f"#{number} is not a pull request"
    payload["number"] = number
    pr = payload["pull_request"]
    pr.update(number=number, state="closed", merged=False, draft=bool(pull["draft"]))
    pr["head"].update(ref=pull["head"], sha=bench.repo.sha(pull["head"]))
    pr["head"]["repo"] = {**pr["head"]["repo"], **payload["repository"]}
    pr["base"].update(ref=bench.repo.default_branch, sha=bench.repo.sha())
    pr["base"]["repo"] = {**pr["base"]["repo"], **payload["repository"]}
    problems = schema_errors("pull_request", "closed", payload)
    assert not problems, problems
    return payload
