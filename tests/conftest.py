"""Shared pytest configuration: fixtures live in plugins under tests/fixtures/."""

import pathlib

import pytest

pytest_plugins = [
    "tests.fixtures.gitrepo",
    "tests.fixtures.github",
    "tests.fixtures.anthropic",
    "tests.fixtures.db",
    "tests.fixtures.private_pg",
]

SHARED = pathlib.Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> pathlib.Path:
    """`../shared` beside the project: specs and the GitHub corpus."""
    assert SHARED.is_dir(), f"expected the shared folder at {SHARED}"
    return SHARED
