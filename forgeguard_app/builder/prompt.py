"""The builder's prompt: system blocks from the contracts, the phase turn, sign-off results, interjections.

Layout for prompt caching (order of the API's cache: tools, system, messages):
the tools end in a breakpoint (`schemas.builder_tools`), then the system
prompt's first block holds the instructions, identical for every build, with
a breakpoint; its second block holds this build's contracts, with a
breakpoint; the conversation's moving breakpoint is set by
`Conversation.request_messages`. Four breakpoints, the API's maximum.

The contracts, people's messages and repository files are data, never
instructions about the app: each is wrapped in a tag (`<contract>`,
`<interjection>`) whose closing tag the text cannot forge (`fence`), and the
instructions say that nothing inside can change the rules, the tools or the
sandbox. Only the tools act, and only inside the sandbox, whatever the text says.
"""

from __future__ import annotations

import pathlib
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import jinja2

from forgeguard_app.intake.phases import Phase
from forgeguard_app.llm.client import text_block

if TYPE_CHECKING:
    from forgeguard_app.builder.conversation import SignoffVerdict

TEMPLATES = pathlib.Path(__file__).resolve().parents[1] / "templates"
CONTRACTS_DIR = "Forge/Contracts"
CONTRACT_ORDER = (
    "builder_contract",
    "builder_directive",
    "blueprint",
    "stack",
    "boundaries",
    "physics",
    "phases",
)
"""The contracts the builder reads, in prompt order (by file stem under Forge/Contracts/)."""
EXTRA_CONTRACTS = ("schema", "ui", "manifesto")
"""Further contracts included when present, after the seven above."""
MAX_CONTRACT_CHARS = 60_000
MAX_CONTRACTS_CHARS = 240_000
MAX_INTERJECTION_CHARS = 8_000
INTERJECTION_TAG = "<interjection"

_TAGS = re.compile(
    r"<\s*/?\s*(contract|contracts|interjection|repository_file|findings|earlier_phases|system)\b",
    re.IGNORECASE,
)
_LOGIN = re.compile(r"[^A-Za-z0-9-]")


def fence(text: str) -> str:
    """Untrusted text with our delimiter tags defused, so it cannot close (or open) its own frame."""
    return _TAGS.sub(lambda m: m.group(0).replace("<", "‹"), text)


def phase_title(phase: Phase) -> str:
    """`Phase <N> -- <name>`, the way every turn, result and commit names a phase."""
    return f"Phase {phase.number} -- {phase.name}"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The prompt templates: plain text for the model (not HTML); untrusted values go through `data`."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - a prompt, not HTML; untrusted values are fenced with `data`
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["data"] = fence
    env.filters["phase_title"] = phase_title
    return env


def render_template(name: str, **values: Any) -> str:
    """One of the templates under `templates/builder/`, rendered and stripped."""
    return environment().get_template(f"builder/{name}").render(**values).strip()


def select_contracts(files: Mapping[str, str]) -> list[tuple[str, str]]:
    """The contracts to show the model, as (path, text) in prompt order, each and all cut to a bound.

    `files` maps repository paths (`Forge/Contracts/stack.md`, …) to text;
    other paths are ignored. A cut contract ends with a note saying so.
    """
    by_stem: dict[str, str] = {}
    for path in sorted(files):
        folder, _, name = path.rpartition("/")
        if folder != CONTRACTS_DIR:
            continue
        by_stem.setdefault(name.rpartition(".")[0] or name, path)
    chosen = [by_stem[s] for s in (*CONTRACT_ORDER, *EXTRA_CONTRACTS) if s in by_stem]
    out: list[tuple[str, str]] = []
    budget = MAX_CONTRACTS_CHARS
    for path in chosen:
        limit = min(MAX_CONTRACT_CHARS, budget)
        if limit <= 0:
            out.append((path, f"[{path} left out: the contracts exceed {MAX_CONTRACTS_CHARS:,} characters]"))
            continue
        text = files[path]
        if len(text) > limit:
            text = text[:limit] + f"\n[… cut at {limit:,} of {len(files[path]):,} characters …]"
        budget -= len(text)
        out.append((path, text))
    return out


@lru_cache(maxsize=1)
def instructions() -> str:
    """The standing instructions, the same for every build (so the API caches them across builds)."""
    return render_template("system.md.j2")


def system_blocks(contracts: Mapping[str, str], *, cache: bool = True) -> list[dict[str, Any]]:
    """The system prompt: the instructions block, then the contracts block, each a cache breakpoint."""
    return [
        text_block(instructions(), cache=cache),
        text_block(contracts_text(contracts), cache=cache),
    ]


def contracts_text(contracts: Mapping[str, str]) -> str:
    """This build's contracts, each wrapped as data in `<contract path="…">`."""
    return render_template("contracts.md.j2", contracts=select_contracts(contracts))


def render_phase_turn(phase: Phase, *, total: int | None = None, note: str | None = None) -> str:
    """The user turn that opens a phase: `Phase <N> -- <name>`, objective, deliverables, exit criteria."""
    return render_template("phase.md.j2", phase=phase, total=total, note=note)


def render_signoff(verdict: SignoffVerdict) -> str:
    """The `sign_off_phase` result: `PASS`/`FAIL` first, the phase, failed checks and findings, the plan."""
    return render_template("signoff.md.j2", verdict=verdict)


def render_interjection(text: str, *, login: str, kind: str = "say") -> str:
    """A person's message framed as untrusted data (`kind`: `say` or `retry`)."""
    body = text.strip()
    if len(body) > MAX_INTERJECTION_CHARS:
        body = body[:MAX_INTERJECTION_CHARS] + "\n[… cut …]"
    return render_template(
        "interjection.md.j2", text=body, login=_LOGIN.sub("", login)[:39], kind=_LOGIN.sub("", kind)
    )


def is_interjection(text: str) -> bool:
    return text.startswith(INTERJECTION_TAG)


def render_digest(*, verdicts: Sequence[str], interjections: Sequence[str]) -> str:
    """The turn that replaces earlier phases after compaction: every audit verdict and interjection, whole."""
    return render_template("digest.md.j2", verdicts=verdicts, interjections=interjections)
