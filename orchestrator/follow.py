"""Waiting for a queued run's outcome, following the retries queued after it.

A robot executes the run; a failed attempt of a bot with ``execution.retries`` is queued
again as a new run. What the caller wants is the outcome of the last attempt::

    record = follow_run(store, run_id, tenant="giessen")
    print(record.status)    # of the run, or of the last retry queued after it
"""

from __future__ import annotations

import time
from collections.abc import Callable

from orchestrator.results import RunRecord
from orchestrator.store import RunStore

POLL_S = 0.5


def follow_run(
    store: RunStore,
    run_id: int,
    *,
    tenant: str,
    on_retry: Callable[[int, int], None] | None = None,
    poll_s: float = POLL_S,
) -> RunRecord:
    """Wait until run ``run_id`` and the retries queued after it ended; return the last one.

    ``on_retry(ended_id, retry_id)`` is called each time an ended run has a retry to follow.

    Raises:
        RunNotFound: no run ``run_id`` of ``tenant``.
    """
    while True:
        while not store.get_run(run_id, tenant=tenant, details=False).status.is_terminal:
            time.sleep(poll_s)
        retry_id = store.retry_of(run_id, tenant=tenant)
        if retry_id is None:
            return store.get_run(run_id, tenant=tenant)
        if on_retry is not None:
            on_retry(run_id, retry_id)
        run_id = retry_id
