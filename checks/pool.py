"""Process pools for the CPU-heavy per-file work of the checks (parsing, secret scanning).

Outside an audit, each `map_batches` call starts a pool on all cores and
shuts it down before returning. A pool kept alive would hold, in its forked
workers, copies of the pipes the caller has open (git's `cat-file --batch`,
for one), so closing them would no longer end the processes behind them.
An audit instead owns one `Workers` for its duration (the engine closes it
before returning): checks may start their batches early (`submit`) and
collect them when they run, so one check's batches keep the cores busy while
the audit process does another's sequential work. If a pool cannot be used
(one core, a worker killed, no process start method), the batches run in
this process instead.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Generic, TypeVar

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


class Pending(Generic[R]):
    """Batches started earlier (or to be computed when asked); `results()` waits for them, once."""

    def __init__(self, compute: Callable[[], list[R]]) -> None:
        self._compute: Callable[[], list[R]] | None = compute
        self._results: list[R] = []

    def results(self) -> list[R]:
        if self._compute is not None:
            self._results, self._compute = self._compute(), None
        return self._results


def start(
    fn: Callable[[T], R], batches: Sequence[T], *, parallel: bool = True, workers: Workers | None = None
) -> Pending[R]:
    """The batches started now on the audit's `workers` when they are worth a pool; otherwise
    `map_batches` when the results are first asked for."""
    if parallel and workers is not None and len(batches) >= 2:
        return workers.submit(fn, batches)
    return Pending(lambda: map_batches(fn, batches, parallel=parallel))


class Workers:
    """One process pool for the whole of an audit, its workers started at the first `submit`.

    Batches wait here and go to the pool a few at a time (twice as many as there are workers),
    so a batch submitted `first` (a small job that gates the end of a check) runs next instead of
    after everything submitted before it. Each batch the pool finishes sends the next one (from
    the pool's own thread), so the pool stays fed while the audit process is busy elsewhere.
    """

    def __init__(self) -> None:
        self._executor: ProcessPoolExecutor | None = None
        self._broken = cpu_count() < 2
        self._lock = threading.RLock()
        self._waiting: deque[tuple[Future[Any], Callable[[Any], Any], Any]] = deque()
        self._running: dict[Future[Any], Future[Any]] = {}
        """The pool's future of each batch sent to it → the future handed to the caller."""

    def submit(self, fn: Callable[[T], R], batches: Sequence[T], *, first: bool = False) -> Pending[R]:
        """Start the batches on the pool (in this process, when asked, if there is no pool);
        `first`: ahead of the batches still waiting."""
        local = Pending(lambda: [fn(b) for b in batches])
        if self._broken or not batches:
            return local
        try:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(max_workers=cpu_count(), mp_context=_context())
        except (OSError, RuntimeError):
            self._broken = True
            return local
        ours: list[Future[R]] = [Future() for _ in batches]
        items = [(f, fn, b) for f, b in zip(ours, batches, strict=True)]
        with self._lock:
            if first:
                self._waiting.extendleft(reversed(items))
            else:
                self._waiting.extend(items)
            self._send()

        def collect() -> list[R]:
            try:
                return [f.result() for f in ours]
            except (BrokenProcessPool, OSError, RuntimeError):
                self._broken = True
                return local.results()

        return Pending(collect)

    def _send(self) -> None:
        """Hand waiting batches to the pool while fewer than twice its workers are there (the lock
        held). If the pool cannot take them, every waiting batch fails, so no caller waits forever."""
        try:
            while self._waiting and self._executor is not None and len(self._running) < 2 * cpu_count():
                ours, fn, batch = self._waiting[0]
                theirs = self._executor.submit(fn, batch)
                self._waiting.popleft()
                self._running[theirs] = ours
                theirs.add_done_callback(self._finished)
        except (BrokenProcessPool, OSError, RuntimeError) as exc:
            self._broken = True
            while self._waiting:
                self._waiting.popleft()[0].set_exception(exc)

    def _finished(self, theirs: Future[Any]) -> None:
        """Pass a finished batch's outcome on to the caller's future, and send the next batch."""
        with self._lock:
            ours = self._running.pop(theirs, None)
            if ours is not None:
                if theirs.cancelled():
                    ours.cancel()
                elif (exc := theirs.exception()) is not None:
                    ours.set_exception(exc)
                else:
                    ours.set_result(theirs.result())
            self._send()

    def running(self) -> bool:
        """True when the pool's workers are started (a batch submitted now costs no start)."""
        return self._executor is not None and not self._broken

    def busy(self) -> bool:
        """True while batches submitted earlier are still waiting or running."""
        with self._lock:
            return bool(self._waiting or self._running)

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
            while self._waiting:
                self._waiting.popleft()[0].cancel()
        if executor is not None:
            # not under the lock: the pool's thread takes it to report the batches it cancels
            executor.shutdown(wait=True, cancel_futures=True)


def map_batches(
    fn: Callable[[T], R], batches: Sequence[T], *, parallel: bool = True, workers: Workers | None = None
) -> list[R]:
    """`[fn(b) for b in batches]`, on all cores when `parallel` and there is more than one (on the
    audit's `workers` when given)."""
    if not parallel or cpu_count() < 2 or len(batches) < 2:
        return [fn(b) for b in batches]
    if workers is not None:
        return start(fn, batches, workers=workers).results()
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


def split_shrinking(items: Sequence[T], sizes: Sequence[int], cores: int) -> list[list[T]]:
    """`items` (largest first) in batches for a pool that hands each worker the next batch when it
    is done: one small batch per core first (a `16 * cores`-th of the whole, so every core starts
    at once, while the next batches are read), then batches that shrink with the work left (a
    `2 * cores`-th of what remains, never below that smallest size), so the last batches are small
    and the cores finish together instead of one waiting on another's last large batch."""
    order = sorted(range(len(items)), key=lambda i: sizes[i], reverse=True)
    weights = [max(size, 1) for size in sizes]
    remaining = sum(weights)
    smallest = remaining / (16 * cores)
    batches: list[list[T]] = []
    current: list[T] = []
    filled = 0
    target = smallest
    for i in order:
        current.append(items[i])
        filled += weights[i]
        remaining -= weights[i]
        if filled >= target:
            batches.append(current)
            current, filled = [], 0
            target = smallest if len(batches) < cores else max(remaining / (2 * cores), smallest)
    if current:
        batches.append(current)
    return batches
