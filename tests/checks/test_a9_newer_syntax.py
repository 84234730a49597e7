"""Whether the running Python's grammar may judge a project's files (`checks.stdlib.judges_syntax`)."""

from __future__ import annotations

import pytest

from checks.stdlib import judges_syntax


@pytest.mark.parametrize(
    ("requires_python", "running", "judged"),
    [
        (">=3.12", (3, 11), False),
        (">=3.9", (3, 11), True),
        (None, (3, 11), True),
        (">=3.10,<3.12", (3, 13), True),
        (">=3.12", (3, 12), True),
        ("~=3.13", (3, 12), False),
        (">=3.15", (3, 14), False),
        ("<3", (3, 11), True),
        ("not a specifier", (3, 11), True),
    ],
)
def test_judges_syntax_unless_the_running_python_is_older_than_every_supported_one(
    requires_python: str | None, running: tuple[int, int], judged: bool
) -> None:
    assert judges_syntax(requires_python, running) is judged
