"""File contents from GitHub in batches: one GraphQL query for many blobs, a tarball, or one raw file."""

from __future__ import annotations

import asyncio
import io
import tarfile
from typing import Any
from urllib.parse import quote

import gidgethub

from forgeguard_app.github.client import RAW, InstallationAPI

_BLOB_FIELDS = "... on Blob { oid byteSize isBinary isTruncated text }"


async def query_blobs(
    api: InstallationAPI, owner: str, repo: str, expressions: list[str], chunk: int
) -> list[dict[str, Any] | None]:
    """The blob of each `<rev>:<path>` expression (None when there is none), `chunk` per query.

    Each query: `fN: object(expression: $eN) { ... on Blob { oid byteSize isBinary isTruncated text } }`.
    """
    found: list[dict[str, Any] | None] = []
    for start in range(0, len(expressions), chunk):
        part = expressions[start : start + chunk]
        declared = ", ".join(f"$e{i}: String!" for i in range(len(part)))
        fields = " ".join(f"f{i}: object(expression: $e{i}) {{ {_BLOB_FIELDS} }}" for i in range(len(part)))
        query = (
            f"query($owner: String!, $name: String!, {declared}) "
            f"{{ repository(owner: $owner, name: $name) {{ {fields} }} }}"
        )
        variables = {f"e{i}": expression for i, expression in enumerate(part)}
        data = await api.graphql(query, owner=owner, name=repo, **variables)
        repository = data.get("repository") or {}
        found.extend(repository.get(f"f{i}") for i in range(len(part)))
    return found


def blob_bytes(blob: dict[str, Any] | None) -> tuple[bytes | None, bool]:
    """The bytes GraphQL gave for a blob, and whether they are exactly the file.

    Not exact (read the file raw instead): binary, truncated, or text that is not the file's bytes
    (GraphQL gives text as UTF-8, so a file in another encoding differs in size).
    """
    if blob is None or "oid" not in blob:
        return None, True
    text = blob.get("text")
    if blob.get("isBinary") or blob.get("isTruncated") or text is None:
        return None, False
    data = text.encode("utf-8")
    return data, len(data) == blob.get("byteSize")


async def read_raw(api: InstallationAPI, repo_path: str, rev: str, path: str) -> bytes | None:
    """One file's exact bytes at `rev` (the contents API, raw); None when there is no such file."""
    try:
        return await api.download(f"{repo_path}/contents/{quote(path)}?ref={quote(rev, safe='')}", accept=RAW)
    except gidgethub.BadRequest as exc:
        if int(exc.status_code) == 404:
            return None
        raise


async def tarball_files(
    api: InstallationAPI, repo_path: str, commit: str, wanted: set[str], limit: int
) -> tuple[dict[str, bytes], set[str]]:
    """The wanted regular files of the commit's tarball, and those over `limit` (left out).

    One request; GitHub redirects it to codeload, and the client follows.
    """
    data = await api.download(f"{repo_path}/tarball/{commit}")
    return await asyncio.to_thread(_extract, data, wanted, limit)


def _extract(data: bytes, wanted: set[str], limit: int) -> tuple[dict[str, bytes], set[str]]:
    """The wanted regular files of a GitHub tarball (top folder stripped), and those over `limit`."""
    files: dict[str, bytes] = {}
    skipped: set[str] = set()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        for member in tar:
            if not member.isreg():
                continue
            parts = member.name.split("/", 1)
            if len(parts) != 2 or parts[1] not in wanted:
                continue
            if member.size > limit:
                skipped.add(parts[1])
                continue
            extracted = tar.extractfile(member)
            if extracted is not None:
                files[parts[1]] = extracted.read()
    return files, skipped
