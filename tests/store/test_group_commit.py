"""Starts and outcomes recorded by concurrent threads share transactions, and stay separate
in everything else: each caller gets its own result or its own error, once committed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from orchestrator.errors import InvalidTransition
from orchestrator.results import RunStatus
from orchestrator.store import RunRequest, RunStore
from orchestrator.store.lifecycle import WriteTransaction
from orchestrator.store.runs.moves import RUN_STATUS

MakeRequest = Callable[..., RunRequest]
THREADS = 8


@pytest.fixture
def counted(store: RunStore, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of works done in each write transaction of the group commit, as it goes."""
    sizes: list[int] = []
    begin = store.runs._group._begin

    @contextmanager
    def counting() -> Iterator[WriteTransaction]:
        with begin() as tx:
            before = len(tx.events)
            yield tx
            sizes.append(len(tx.events) - before)

    monkeypatch.setattr(store.runs._group, "_begin", counting)
    return sizes


def claimed_runs(store: RunStore, new_request: MakeRequest, count: int) -> list[int]:
    ids = [store.enqueue(new_request()) for _ in range(count)]
    store.claim(
        holder="robot-1", tenants=["giessen"], labels=(), limit=count, lease_s=30, pool_limits={}
    )
    return ids


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Make the calls from one thread each, released together; their results or errors."""
    results: list[Any] = [None] * len(calls)
    gate = threading.Barrier(len(calls))

    def call(n: int) -> None:
        gate.wait()
        try:
            results[n] = calls[n]()
        except Exception as exc:
            results[n] = exc

    threads = [threading.Thread(target=call, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_concurrent_starts_share_transactions_and_all_commit(
    store: RunStore, new_request: MakeRequest, counted: list[int]
) -> None:
    ids = claimed_runs(store, new_request, THREADS)
    start = store.mark_running

    results = at_once([lambda i=i: start(i, holder="robot-1") for i in ids])

    assert results == [None] * THREADS
    assert {store.get_run(i).status for i in ids} == {RunStatus.RUNNING}
    assert sum(counted) == THREADS  # one audit entry each, every one committed
    assert len(counted) < THREADS  # in fewer transactions than starts
    assert store.verify_audit().ok


def test_one_refused_outcome_fails_only_its_caller(
    store: RunStore, new_request: MakeRequest, counted: list[int]
) -> None:
    ids = claimed_runs(store, new_request, THREADS)
    for run_id in ids:
        store.mark_running(run_id, holder="robot-1")
    taken = ids[3]
    store.cancel(taken, actor="user:alice@rpa-01", tenant="giessen")
    store.hand_back(taken, holder="robot-1")  # cancelled, no longer ours to finish

    finish = store.finish_run
    results = at_once([lambda i=i: finish(i, RunStatus.SUCCEEDED, holder="robot-1") for i in ids])

    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], InvalidTransition)
    assert results[ids.index(taken)] is refused[0]
    assert [store.get_run(i).status for i in ids] == [
        RunStatus.CANCELLED if i == taken else RunStatus.SUCCEEDED for i in ids
    ]
    assert store.verify_audit().ok


def test_a_retry_is_queued_with_its_outcome_inside_a_shared_transaction(
    store: RunStore, new_request: MakeRequest
) -> None:
    ids = claimed_runs(store, new_request, THREADS)
    for run_id in ids:
        store.mark_running(run_id, holder="robot-1")
    retry = new_request(trigger="retry", retry_of=ids[0], attempt=2, dedupe_key="retry:x")
    finish = store.finish_run

    results = at_once(
        [
            lambda i=i: finish(
                i,
                RunStatus.FAILED,
                "Fehler",
                holder="robot-1",
                retry=retry if i == ids[0] else None,
            )
            for i in ids
        ]
    )

    assert results[1:] == [None] * (THREADS - 1)
    assert store.retry_of(ids[0]) == results[0]
    assert store.get_run(results[0]).status is RunStatus.QUEUED
    assert {store.get_run(i).status for i in ids} == {RunStatus.FAILED}


def test_an_interrupted_leader_leaves_the_others_to_commit_alone(
    store: RunStore, new_request: MakeRequest
) -> None:
    first, second, third = claimed_runs(store, new_request, 3)
    group = store.runs._group
    in_first = threading.Event()
    outcomes: dict[str, Any] = {}

    def start(run_id: int) -> Callable[[WriteTransaction], None]:
        def work(tx: WriteTransaction) -> None:
            tx.move_one(RUN_STATUS, run_id, RunStatus.RUNNING, actor="robot-1")

        return work

    def slow(tx: WriteTransaction) -> None:
        in_first.set()
        time.sleep(0.3)  # meanwhile the second and third queue up behind it
        start(first)(tx)

    def interrupted(tx: WriteTransaction) -> None:
        start(second)(tx)
        raise KeyboardInterrupt  # e.g. Ctrl-C in the thread leading the second batch

    def call(name: str, work: Callable[[WriteTransaction], None], order: int) -> None:
        try:
            outcomes[name] = group.run(work, order=order)
        except BaseException as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=call, args=("first", slow, first))]
    threads[0].start()
    assert in_first.wait(10)
    for name, work, order in (("second", interrupted, second), ("third", start(third), third)):
        threads.append(threading.Thread(target=call, args=(name, work, order)))
        threads[-1].start()
        time.sleep(0.05)  # the second arrives first and leads the next batch
    for thread in threads:
        thread.join(timeout=30)

    assert outcomes["first"] is None and outcomes["third"] is None
    assert isinstance(outcomes["second"], KeyboardInterrupt)
    statuses = [store.get_run(i).status for i in (first, second, third)]
    assert statuses == [RunStatus.RUNNING, RunStatus.CLAIMED, RunStatus.RUNNING]
    assert store.verify_audit().ok
