"""One Markdown policy for text ForgeGuard did not write: `md()` and the jinja2 environments that use it.

Everything that reaches GitHub as Markdown and came from someone else (comments, issue and pull
request text, repository files, model output) goes through `md()`, which makes it inert: no
mentions, references, images, links, bare URLs, HTML, emphasis, table cells, math, leading list or
heading markers, or Unicode format characters (see `checks.render.escape`, the one implementation,
which the engine uses too). Every template that renders Markdown comes from `markdown_env`, where
each value is escaped unless it is `Trusted`: text ForgeGuard writes itself (links, lists it built
from already-escaped parts).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import jinja2

from checks.render import defuse, escape, strip_format

INLINE_LIMIT = 600


class Trusted(str):
    """Markdown written by ForgeGuard itself (or built from values already through `md`): left as it is."""


def md(value: object, limit: int | None = None) -> str:
    """Untrusted text as inert inline Markdown on one line, cut to `limit` characters when given."""
    if isinstance(value, Trusted):
        return str(value)
    if value is None:
        return ""
    text = " ".join(str(value).split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return escape(text)


def plain(value: object, limit: int | None = None) -> str:
    """Untrusted text for a plain-text field GitHub shows (a pull request's title): one line, no
    mentions, references, bare URLs or format characters; no Markdown escaping (titles show it raw)."""
    text = " ".join(defuse(str(value)).split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def code(text: str, limit: int = 60) -> str:
    """Untrusted text shown as inline code: it cannot leave its code span (no backtick, no line break),
    and no Unicode format character survives; the length is capped."""
    clean = " ".join(re.sub(r"[`\r\n]+", " ", strip_format(text)).split())
    if len(clean) > limit:
        clean = clean[:limit] + "…"
    return f"`{clean}`"


def _finalize(value: object) -> object:
    if isinstance(value, bool | int | float):
        return value
    return md(value)


def markdown_env(
    folder: str,
    *,
    finalize: Callable[[Any], Any] | None = None,
    trim_blocks: bool = False,
    lstrip_blocks: bool = False,
) -> jinja2.Environment:
    """A jinja2 environment over `forgeguard_app/<folder>` rendering Markdown: every value is escaped
    by `md` unless `Trusted` (the `trusted` filter marks one), `md` is also a filter (with a limit),
    and an undefined name is an error. `finalize` runs before the escaping (e.g. a check for blanks).
    A value that belongs in a code span is marked by a filter that writes it safely there (the
    contracts' `path` and `code`, `forgeguard_app.intake.contracts_render`).
    """

    def escaped(value: object) -> object:
        value = finalize(value) if finalize is not None else value
        return _finalize(value)

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("forgeguard_app", folder),
        # Markdown, not HTML: `finalize` escapes every value for Markdown unless marked trusted.
        autoescape=False,  # noqa: S701
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=trim_blocks,
        lstrip_blocks=lstrip_blocks,
        finalize=escaped,
    )
    env.filters["trusted"] = Trusted
    env.filters["md"] = lambda value, limit=INLINE_LIMIT: Trusted(md(value, limit))
    return env
