"""Creating something on GitHub exactly once, when an answer can be lost.

The client does not repeat a request that creates something (a check run, a
comment, a pull request, a ref) after a 5xx or a dropped connection: GitHub may
have carried it out. `create_once` asks again only after looking for what the
first request made: a check run by its `external_id`, a comment by its marker
or text, a ref by its name, a pull request by its branch.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from forgeguard_app.github.client import MaybeApplied

log = logging.getLogger(__name__)

T = TypeVar("T")
TRIES = 3


async def create_once(
    api: Any,
    create: Callable[[], Awaitable[T]],
    find: Callable[[], Awaitable[T | None]],
    *,
    tries: int = TRIES,
) -> T:
    """`await create()`; after a `MaybeApplied`, what `find()` finds, else `create()` again."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return await create()
        except MaybeApplied as exc:
            if attempt >= tries:
                raise
            retry = getattr(api, "retry", None)
            await api.sleep(retry.backoff(attempt) if retry is not None else float(attempt))
            found = await find()
            if found is not None:
                log.info("%s: the first request had been carried out; using what it made", exc.operation)
                return found
            log.info("%s: nothing was made; asking again", exc.operation)
