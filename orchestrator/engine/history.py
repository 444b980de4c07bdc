"""Step records reach the run history from a writer thread, off the bot's critical path.

A database commit per step (a few milliseconds on SQLite, a network round trip on PostgreSQL)
would add up to more than the browser work of short steps. :class:`StepWriter` queues the
records in order and a thread writes them; :meth:`StepWriter.close` waits until all are
written, so the run's record is complete before the run is marked finished::

    writer = StepWriter(store, run_id)
    writer.put(record)          # returns at once
    writer.close()              # every record is in the database now

If the process dies hard, the last few queued steps may be missing from the history; the
JSON log in the run directory has them (it is written synchronously).
"""

from __future__ import annotations

import queue
import threading
from typing import Protocol

from orchestrator.results import StepRecord

_STOP = object()


class StepSink(Protocol):
    """The part of the run store that records steps."""

    def record_step(self, run_id: int, step: StepRecord) -> None:
        """Append a step to run ``run_id``."""
        ...


class StepWriter:
    """Writes the step records of one run, in order, from a background thread."""

    def __init__(self, store: StepSink, run_id: int) -> None:
        self._store = store
        self._run_id = run_id
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._drain, name=f"run-{run_id}-steps", daemon=True)
        self._thread.start()

    def put(self, record: StepRecord) -> None:
        """Queue ``record`` for writing."""
        self._queue.put(record)

    def _drain(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            try:
                self._store.record_step(self._run_id, item)  # type: ignore[arg-type]
            except Exception as exc:  # kept for close(); later records are still tried
                self.errors.append(exc)

    def close(self) -> None:
        """Wait until every queued record is written (idempotent)."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()
