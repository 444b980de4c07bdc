"""Step records reach the run history in batches from a writer thread, off the bot's path.

A database commit per step (a few milliseconds on SQLite, a network round trip on PostgreSQL)
would add up to more than the target-system work of short steps. :class:`StepWriter` collects the
records in order; a thread writes what has gathered once the oldest unwritten record is
``linger_s`` old, all in one transaction. :meth:`StepWriter.close` stops the thread and hands
back what it did not write yet, for the run's last transaction (the one that records its
outcome), so a short run costs no extra commit for its steps::

    writer = StepWriter(store, run_id)
    writer.put(record)          # returns at once
    rest = writer.close()       # written: everything else; rest: record it with the outcome

If the process dies hard, the steps of the last ``linger_s`` may be missing from the history;
the JSON log in the run directory has them (it is written synchronously).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Protocol

from orchestrator.results import StepRecord

DEFAULT_LINGER_S = 0.5


class StepSink(Protocol):
    """The part of the run store that records steps."""

    def record_steps(self, run_id: int, steps: Sequence[StepRecord]) -> None:
        """Append steps to run ``run_id``, in order."""
        ...


class StepWriter:
    """Writes the step records of one run, in order and in batches, from a background thread."""

    def __init__(self, store: StepSink, run_id: int, linger_s: float = DEFAULT_LINGER_S) -> None:
        self._store = store
        self._run_id = run_id
        self._linger_s = linger_s
        self._pending: list[StepRecord] = []
        self._oldest = 0.0  # time.monotonic() when the first of _pending came
        self._closed = False
        self._changed = threading.Condition()
        self.errors: list[BaseException] = []
        self._thread: threading.Thread | None = None

    def put(self, record: StepRecord) -> None:
        """Queue ``record`` for writing."""
        with self._changed:
            if not self._pending:
                self._oldest = time.monotonic()
            self._pending.append(record)
            if self._thread is None:  # started with the first record: many runs close first
                self._thread = threading.Thread(
                    target=self._drain, name=f"run-{self._run_id}-steps", daemon=True
                )
                self._thread.start()
            self._changed.notify()

    def _drain(self) -> None:
        while True:
            with self._changed:
                while not self._closed:
                    if self._pending:
                        wait = self._oldest + self._linger_s - time.monotonic()
                        if wait <= 0:
                            break
                    else:
                        wait = None
                    self._changed.wait(wait)
                if self._closed:
                    return  # close() takes what is left
                batch, self._pending = self._pending, []
            try:
                self._store.record_steps(self._run_id, batch)
            except Exception as exc:  # kept for close(); later records are still tried
                self.errors.append(exc)

    def close(self) -> list[StepRecord]:
        """Stop writing; returns the records not written yet, in order (idempotent)."""
        with self._changed:
            self._closed = True
            self._changed.notify()
        if self._thread is not None:
            self._thread.join()
        with self._changed:
            rest, self._pending = self._pending, []
        return rest
