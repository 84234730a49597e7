"""One process pool for the CPU-heavy per-file work of the checks (parsing, secret scanning).

The pool is created on first use and kept for the life of the process, so a
long-running worker that audits many changes pays its start-up once. Work is
sent in batches; if the pool cannot be used (one core, a worker killed, no
`fork`/`forkserver`), the batches run in this process instead.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


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


def _shared() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=cpu_count(), mp_context=_context())
        return _pool


def _discard() -> None:
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


atexit.register(_discard)


def map_batches(fn: Callable[[T], R], batches: Sequence[T], *, parallel: bool = True) -> list[R]:
    """`[fn(b) for b in batches]`, on all cores when `parallel` and there is more than one."""
    if not parallel or cpu_count() < 2 or len(batches) < 2:
        return [fn(b) for b in batches]
    try:
        return list(_shared().map(fn, batches))
    except (BrokenProcessPool, OSError, RuntimeError):
        _discard()
        return [fn(b) for b in batches]


def split(items: Sequence[T], sizes: Sequence[int], parts: int) -> list[list[T]]:
    """`items` dealt into `parts` batches of similar total size (largest first, round robin)."""
    order = sorted(range(len(items)), key=lambda i: sizes[i], reverse=True)
    batches: list[list[T]] = [[] for _ in range(min(parts, len(items)) or 1)]
    for n, i in enumerate(order):
        batches[n % len(batches)].append(items[i])
    return [b for b in batches if b]
