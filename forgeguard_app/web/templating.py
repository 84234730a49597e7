"""jinja2 for the HTML pages, autoescaped."""

from __future__ import annotations

import functools
from typing import Any

import jinja2
from aiohttp import web


@functools.cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("forgeguard_app", "templates"),
        autoescape=jinja2.select_autoescape(["html"], default=True),
        undefined=jinja2.StrictUndefined,
    )


def render(name: str, *, status: int = 200, **context: Any) -> web.Response:
    """An HTML response from templates/`name`."""
    html = environment().get_template(name).render(**context)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
