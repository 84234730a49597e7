"""Process pools for the CPU-heavy per-file work of the checks (parsing, secret scanning).

Each `map_batches` call starts a pool on all cores and shuts it down before
returning. A pool kept alive would hold, in its forked workers, copies of the
pipes the caller has open (git's `cat-file --batch`, for one), so closing them
would no longer end the processes behind them. If a pool cannot be used (one
core, a worker killed, no process start method), the batches run in this
process instead.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _context() -> multiprocessing.context.BaseContext:
    # fork is the cheapest start, but unsafe when other threads may hold locks
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


def map_batches(fn: Callable[[T], R], batches: Sequence[T], *, parallel: bool = True) -> list[R]:
    """`[fn(b) for b in batches]`, on all cores when `parallel` and there is more than one."""
    if not parallel or cpu_count() < 2 or len(batches) < 2:
        return [fn(b) for b in batches]
    try:
        with ProcessPoolExecutor(max_workers=min(cpu_count(), len(batches)), mp_context=_context()) as pool:
            return list(pool.map(fn, batches))
    except (BrokenProcessPool, OSError, RuntimeError):
        return [fn(b) for b in batches]


def split(items: Sequence[T], sizes: Sequence[int], parts: int) -> list[list[T]]:
    """`items` dealt into `parts` batches of similar total size (largest first, round robin)."""
    order = sorted(range(len(items)), key=lambda i: sizes[i], reverse=True)
    batches: list[list[T]] = [[] for _ in range(min(parts, len(items)) or 1)]
    for n, i in enumerate(order):
        batches[n % len(batches)].append(items[i])
    return [b for b in batches if b]
