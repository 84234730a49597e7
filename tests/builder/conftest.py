"""Fixtures of the builder's tests: `build_bench` (the whole app with approved contracts, `build_harness`),
and offline installs for the builds' virtual environments (`wheelhouse`, `offline_installs`)."""

from tests.builder.build_harness import build_bench
from tests.builder.wheelhouse import offline_installs, wheelhouse

__all__ = ["build_bench", "offline_installs", "wheelhouse"]
