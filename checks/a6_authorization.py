"""A6 Authorization gate: no code reaches the branch after the last AUTHORIZED ledger entry.

An authorization entry is a ledger entry (from `---` or a `## ` heading to the
next) that records AUTHORIZED, AUTO-AUTHORIZED or AUTHORIZED (committed) — but
not `awaiting AUTHORIZED` — together with `Commit: <hash>`. Commits after the
last authorized one that touch only evidence files are the ledger's own
follow-ups and are exempt.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from checks import governance
from checks.context import AuditContext, Verdict

CODE = "A6"
NAME = "Authorization gate"

AUTHORIZED = re.compile(r"(?<![\w-])(?:AUTO-)?AUTHORIZED\b")
# A mention, not a record: "awaiting AUTHORIZED", and the words A6's own detail
# uses ("last AUTHORIZED commit <h>"), which a --ledger entry repeats.
MENTION = re.compile(r"\b(?:awaiting|last|prior|no|not|since|without)\s+\W*$", re.IGNORECASE)
COMMIT = re.compile(r"\b[Cc]ommit:?\s*[`*_]*([0-9a-fA-F]{7,40})\b")


def wants(ctx: AuditContext) -> Iterable[str]:
    return [ctx.gpath(governance.LEDGER)]


def entries(text: str) -> list[list[str]]:
    """The ledger split into entries: each starts at `---` or a `## ` heading."""
    result: list[list[str]] = [[]]
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.strip() == "---" or line.startswith("## "):
            result.append([])
        result[-1].append(line)
    return [entry for entry in result if entry]


def is_authorization(line: str) -> bool:
    return any(not MENTION.search(line[: m.start()]) for m in AUTHORIZED.finditer(line))


def last_authorized(text: str) -> str | None:
    """The commit hash of the last authorization entry, as written in the ledger."""
    found: str | None = None
    for entry in entries(text):
        if not any(is_authorization(line) for line in entry):
            continue
        hashes = [m.group(1) for line in entry for m in COMMIT.finditer(line)]
        if hashes:
            found = hashes[-1]
    return found


def run(ctx: AuditContext) -> Verdict:
    if not ctx.governed:
        return Verdict("skip", governance.NOT_GOVERNED)
    text = ctx.text(ctx.gpath(governance.LEDGER))
    written = last_authorized(text) if text is not None else None
    if written is None:
        return Verdict("pass", "No prior AUTHORIZED entry; first cycle.")
    head = ctx.change.head
    commit = ctx.source.resolve(written)
    if commit is None or not ctx.source.is_ancestor(commit, head):
        return Verdict("pass", f"Could not resolve last AUTHORIZED commit {written}; assuming clean.")
    evidence = governance.evidence_files(ctx)
    commits = ctx.source.commits_between(commit, head)
    unauthorized = [c for c in commits if not set(c.paths) <= evidence]
    if unauthorized:
        shas = ", ".join(c.sha[:7] for c in unauthorized)
        return Verdict(
            "fail", f"{len(unauthorized)} unauthorized commit(s) since last AUTHORIZED ({written}): {shas}"
        )
    exempt = len(commits)
    note = f" ({exempt} evidence-only commit(s) exempt)" if exempt else ""
    return Verdict("pass", f"No unauthorized commits since last AUTHORIZED ({written}){note}.")
