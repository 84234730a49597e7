"""The audit's process pool: batches started early give what running them here gives."""

from __future__ import annotations

import os
import time

import pytest

from checks import pool


def square_all(batch: list[int]) -> list[int]:
    return [n * n for n in batch]


def pid_of(batch: list[int]) -> int:
    return os.getpid()


def slow(batch: list[float]) -> float:
    time.sleep(batch[0])
    return batch[0]


def test_submitted_batches_give_what_running_them_here_gives() -> None:
    workers = pool.Workers()
    try:
        batches = [[1, 2], [3], [4, 5, 6]]
        assert workers.submit(square_all, batches).results() == [square_all(b) for b in batches]
    finally:
        workers.close()


@pytest.mark.skipif(pool.cpu_count() < 2, reason="one core: the batches run in this process by design")
def test_submitted_batches_run_in_other_processes() -> None:
    workers = pool.Workers()
    try:
        assert os.getpid() not in workers.submit(pid_of, [[1], [2]]).results()
    finally:
        workers.close()


@pytest.mark.skipif(pool.cpu_count() < 2, reason="one core: the batches run in this process by design")
def test_the_pool_is_busy_until_its_batches_are_done() -> None:
    workers = pool.Workers()
    try:
        pending = workers.submit(slow, [[0.3], [0.3]])
        assert workers.busy()
        pending.results()
        assert not workers.busy()
    finally:
        workers.close()


def test_results_are_computed_once() -> None:
    calls: list[int] = []

    def count(batch: list[int]) -> int:
        calls.append(1)
        return len(batch)

    pending = pool.start(count, [[1], [2, 3]], parallel=False)
    assert pending.results() == pending.results() == [1, 2]
    assert len(calls) == 2


def test_map_batches_on_the_audits_workers_gives_the_same_results() -> None:
    workers = pool.Workers()
    try:
        batches = [[n] for n in range(10)]
        assert pool.map_batches(square_all, batches, workers=workers) == pool.map_batches(
            square_all, batches, parallel=False
        )
    finally:
        workers.close()


def started_at(batch: list[float]) -> float:
    start = time.monotonic()
    time.sleep(batch[0])
    return start


@pytest.mark.skipif(pool.cpu_count() < 2, reason="one core: the batches run in this process by design")
def test_a_batch_submitted_first_runs_before_the_batches_still_waiting() -> None:
    workers = pool.Workers()
    try:
        queued = workers.submit(started_at, [[0.2]] * (4 * pool.cpu_count()))
        urgent = workers.submit(started_at, [[0.0]], first=True)
        assert urgent.results()[0] < max(queued.results())
    finally:
        workers.close()


def test_more_batches_than_the_pool_takes_at_once_all_give_their_results() -> None:
    workers = pool.Workers()
    try:
        batches = [[n] for n in range(10 * pool.cpu_count())]
        assert workers.submit(square_all, batches).results() == [square_all(b) for b in batches]
    finally:
        workers.close()


def dies_in_a_worker(batch: list[int]) -> int:
    """Kills the pool worker that runs it (batch[0] is the test's own pid: there it just answers)."""
    if os.getpid() != batch[0]:
        time.sleep(0.1)
        os._exit(1)
    return batch[1]


@pytest.mark.skipif(pool.cpu_count() < 2, reason="one core: the batches run in this process by design")
def test_when_a_worker_dies_every_batch_still_gives_its_result_here() -> None:
    workers = pool.Workers()
    try:
        batches = [[os.getpid(), n] for n in range(6 * pool.cpu_count())]
        assert workers.submit(dies_in_a_worker, batches).results() == [b[1] for b in batches]
        later = workers.submit(square_all, [[2], [3]])
        assert later.results() == [[4], [9]]
        assert not workers.running()
    finally:
        workers.close()


def test_shrinking_batches_hold_every_item_once() -> None:
    items = [f"f{i}.py" for i in range(500)]
    sizes = [(i * 7919) % 100_000 for i in range(500)]
    batches = pool.split_shrinking(items, sizes, 2)
    assert sorted(p for b in batches for p in b) == sorted(items)


def test_shrinking_batches_give_each_core_a_small_first_batch() -> None:
    sizes = [1000] * 400
    batches = pool.split_shrinking(list(range(400)), sizes, 2)
    totals = [sum(sizes[i] for i in b) for b in batches]
    assert totals[:2] == [13000, 13000]  # a 16 * cores-th of the whole (and the item that passes it)


def test_shrinking_batches_get_smaller_as_the_work_runs_out() -> None:
    sizes = [1000] * 400
    batches = pool.split_shrinking(list(range(400)), sizes, 2)
    totals = [sum(sizes[i] for i in b) for b in batches][2:]
    assert totals == sorted(totals, reverse=True)
    assert abs(totals[0] - (sum(sizes) - 26000) / 4) <= 1000  # a 2 * cores-th of what is left
    assert totals[-1] <= sum(sizes) // 32 + 1000  # down to a 16 * cores-th (and one item past it)


def test_shrinking_batches_start_with_the_largest_items() -> None:
    sizes = [5, 50, 500, 5000]
    batches = pool.split_shrinking(["a", "b", "c", "d"], sizes, 2)
    assert batches[0][0] == "d"
