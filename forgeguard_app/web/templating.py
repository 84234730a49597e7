"""jinja2 for the HTML pages: autoescaped, and Unicode direction controls shown instead of obeyed.

Every `{{ value }}` that is a plain string (not markup a template built) has
its bidirectional control characters (RTL/LTR overrides, embeddings, isolates,
marks) replaced by a visible `[U+202E]`, so text from repositories, comments
or the model cannot reorder what is shown around it.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import jinja2
from aiohttp import web

BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def inert(value: Any) -> Any:
    """`value` with direction controls made visible (strings only; markup and other values unchanged)."""
    if type(value) is not str or BIDI_CONTROLS.search(value) is None:
        return value  # Markup (built by a template) is a str subclass: left as it is
    return BIDI_CONTROLS.sub(lambda m: f"[U+{ord(m.group()):04X}]", value)


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("forgeguard_app", "templates"),
        autoescape=jinja2.select_autoescape(["html"], default=True),
        undefined=jinja2.StrictUndefined,
        finalize=inert,
    )
    return env


def render(name: str, *, status: int = 200, **context: Any) -> web.Response:
    """An HTML response from templates/`name`."""
    html = environment().get_template(name).render(**context)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def render_block(name: str, block: str, **context: Any) -> web.Response:
    """Only `{% block <block> %}` of templates/`name`: what a live page swaps in."""
    template = environment().get_template(name)
    html = "".join(template.blocks[block](template.new_context(context)))
    return web.Response(text=html, content_type="text/html", charset="utf-8")


def redirect(location: str, status: int = 302) -> web.Response:
    """A redirect answer (a Response, so cookies can be set on it)."""
    return web.Response(status=status, headers={"Location": location})
