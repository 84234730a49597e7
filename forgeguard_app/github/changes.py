"""The change between two commits on GitHub, with the added lines of each file numbered at head.

From the compare's patches when GitHub gives them; a file without a patch
(binary, or too large for GitHub to diff) is inspected in one batch: binary
when it is, too large (`binary=True`, no lines) when over `max_file_bytes`,
else its lines come from a diff of the two versions. A compare at GitHub's
300-file cap is replaced by the two git trees, diffed here, and a change from
nothing lists every file of head.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from checks import added_lines
from checks.added_lines import is_binary
from checks.source import EMPTY_TREE, Change, ChangedFile, Status
from forgeguard_app.github import compare
from forgeguard_app.github.compare import STATUS, Compare

if TYPE_CHECKING:
    from forgeguard_app.github.repository import CommitFiles, GitHubRepository

log = logging.getLogger(__name__)

Lines = Sequence[tuple[int, str]]


async def change(repository: GitHubRepository, base: str, head: str) -> Change:
    """The change `base...head` (from their merge base), with added lines numbered at head."""
    if base == EMPTY_TREE:
        return await _change_from_nothing(repository, head)
    found = await repository.compare(base, head)
    if found is None:
        raise compare.not_found(f"{repository.full_name}: GitHub cannot compare {base}...{head}")
    if found.files_complete:
        files = await _files_from_compare(repository, found)
    else:
        log.info(
            "%s: %s...%s lists %d files (GitHub's cap); diffing the trees",
            repository.full_name,
            base[:12],
            head[:12],
            len(found.files),
        )
        files = await _files_from_trees(repository, found.merge_base, found.head)
    repository.remember(found.merge_base, found.head, files)
    return Change(base=found.base, head=found.head, files=files, merge_base=found.merge_base)


async def _files_from_compare(repository: GitHubRepository, found: Compare) -> list[ChangedFile]:
    head = repository.snapshot(found.head)
    base = repository.snapshot(found.merge_base)
    patchless = [f for f in found.files if "patch" not in f and compare.may_have_lines(f)]
    text: dict[str, tuple[bool, Lines]] = {}
    if patchless:
        text = await _inspect(repository, head, base, patchless)
    files: list[ChangedFile] = []
    for f in found.files:
        status = STATUS.get(f["status"], "modified")
        previous = f.get("previous_filename") if status in ("renamed", "copied") else None
        similarity = 100 if status in ("renamed", "copied") and not int(f.get("changes") or 0) else None
        lines: Lines
        if "patch" in f:
            binary, lines = False, added_lines.from_patch(f["patch"])
        else:
            binary, lines = text.get(f["filename"], (False, []))
        files.append(
            ChangedFile(
                path=f["filename"],
                status=status,
                previous_path=previous,
                similarity=similarity,
                binary=binary,
                added_lines=lines if isinstance(lines, added_lines.WholeFile) else tuple(lines),
            )
        )
    return files


async def _inspect(
    repository: GitHubRepository, head: CommitFiles, base: CommitFiles, files: list[dict[str, object]]
) -> dict[str, tuple[bool, Lines]]:
    """Binary or too large, else added lines, for files GitHub sent without a patch."""
    entries = await head.entries()

    def name(f: dict[str, object]) -> str:
        return str(f["filename"])

    def before(f: dict[str, object]) -> str:
        return str(f.get("previous_filename") or f["filename"])

    small = [f for f in files if entries.get(name(f)) and entries[name(f)].size <= repository.max_file_bytes]
    pairs: list[tuple[CommitFiles, str]] = [(head, name(f)) for f in small]
    pairs += [(base, before(f)) for f in small if f["status"] not in ("added",)]
    await repository.fetch_blobs([(s, p) for s, p in pairs if s.unread([p])])
    found: dict[str, tuple[bool, Lines]] = {}
    for f in files:
        path = name(f)
        if f not in small:
            log.info(
                "%s: %s has no patch and is over the read limit; treated as binary",
                repository.full_name,
                path,
            )
            found[path] = (True, [])
            continue
        new = await head.read(path)
        if new is None or is_binary(new):
            found[path] = (True, [])
            continue
        old = None if f["status"] == "added" else await base.read(before(f))
        found[path] = (False, added_lines.between(old, new))
    return found


async def _files_from_trees(
    repository: GitHubRepository, merge_base: str, head_sha: str
) -> list[ChangedFile]:
    head = repository.snapshot(head_sha)
    base = repository.snapshot(merge_base)
    new, old = await asyncio.gather(head.entries(), base.entries())
    new_files = {p: e for p, e in new.items() if e.regular or e.mode == "120000"}
    old_files = {p: e for p, e in old.items() if e.regular or e.mode == "120000"}
    added = [p for p in new_files if p not in old_files]
    removed = [p for p in old_files if p not in new_files]
    modified = [
        p
        for p in new_files
        if p in old_files and (new_files[p].sha != old_files[p].sha or new_files[p].mode != old_files[p].mode)
    ]
    gone_by_sha: dict[str, list[str]] = {}
    for p in removed:
        gone_by_sha.setdefault(old_files[p].sha, []).append(p)
    renamed: dict[str, str] = {}
    for p in added:
        candidates = gone_by_sha.get(new_files[p].sha)
        if candidates and new_files[p].size > 0:
            renamed[p] = candidates.pop(0)
    renamed_from = set(renamed.values())
    await asyncio.gather(
        head.prefetch([p for p in [*added, *modified] if p not in renamed]),
        base.prefetch(modified),
    )
    files: list[ChangedFile] = []
    for p in sorted({*added, *modified, *(r for r in removed if r not in renamed_from)}):
        if p in renamed:
            files.append(ChangedFile(p, "renamed", previous_path=renamed[p], similarity=100))
            continue
        if p in old_files and p not in new_files:
            files.append(ChangedFile(p, "removed"))
            continue
        status: Status = "added" if p not in old_files else "modified"
        data = await head.read(p)
        if data is None or is_binary(data):
            files.append(ChangedFile(p, status, binary=True))
            continue
        previous = None if status == "added" else await base.read(p)
        lines = added_lines.between(previous, data)
        files.append(ChangedFile(p, status, added_lines=lines if previous is None else tuple(lines)))
    return files


async def _change_from_nothing(repository: GitHubRepository, head: str) -> Change:
    snap = repository.snapshot(await repository.commit_of(head))
    entries = await snap.entries()
    paths = sorted(p for p, e in entries.items() if e.regular)
    await snap.prefetch(paths)
    files = []
    for p in paths:
        data = await snap.read(p)
        if data is None or is_binary(data):
            files.append(ChangedFile(p, "added", binary=True))
        else:
            files.append(ChangedFile(p, "added", added_lines=tuple(added_lines.between(None, data))))
    return Change(base=EMPTY_TREE, head=snap.commit, files=files, merge_base=EMPTY_TREE)
