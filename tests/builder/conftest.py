"""Fixtures of the builder's tests: `build_bench` (the whole app with approved contracts, `build_harness`)."""

from tests.builder.build_harness import build_bench

__all__ = ["build_bench"]
