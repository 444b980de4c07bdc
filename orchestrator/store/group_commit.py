"""Group commit: write transactions of several threads committed as one.

A robot's run threads record their runs' starts and outcomes at nearly the same moments, and
each write transaction costs round trips for ``BEGIN``, the audit append and ``COMMIT``, plus
its turn at the lock that serialises audit appends. :class:`GroupCommit` lets them share one
transaction: the first thread to arrive leads, executes the work of every thread waiting by
then in one transaction, commits, and hands the lead to a thread that arrived meanwhile. A
thread alone commits at once, as before; nobody waits for a timer. Every caller returns only
after its work is committed (or raises its own error), so nothing is acknowledged that a crash
could lose.

If a shared transaction fails, for example because one run was taken over meanwhile
(``InvalidTransition``), it is rolled back and each work is done again in a transaction of its
own: one caller's error never becomes another's. Work must therefore only touch the database
through the transaction it is given. Example::

    group = GroupCommit(transactions.change)
    group.run(lambda tx: tx.move_one(RUN_STATUS, 17, RunStatus.RUNNING, actor="robot-1"), order=17)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from orchestrator.store.lifecycle import WriteTransaction

T = TypeVar("T")
Work = Callable[[WriteTransaction], Any]
Begin = Callable[[], AbstractContextManager[WriteTransaction]]


@dataclass(eq=False)
class _Ticket:
    """One caller's work, and how it ended."""

    work: Work
    order: int
    wake: threading.Event = field(default_factory=threading.Event)
    done: bool = False
    result: Any = None
    error: BaseException | None = None
    lead: bool = False  # the caller is to lead the next batch
    alone: bool = False  # the batch was interrupted: the caller does its work by itself


class GroupCommit:
    """Runs work of concurrent callers in shared write transactions (see the module).

    Args:
        begin: Opens one write transaction, committed when the context is left without error
            and rolled back otherwise (``Transactions.change``).
    """

    def __init__(self, begin: Begin) -> None:
        self._begin = begin
        self._lock = threading.Lock()
        self._pending: list[_Ticket] = []
        self._leading = False

    def run(self, work: Callable[[WriteTransaction], T], *, order: int) -> T:
        """Execute ``work`` in a write transaction, perhaps shared; return its result once
        committed, or raise its error.

        A shared transaction does the works in ascending ``order``: give the id of the run
        the work locks, so that transactions locking several runs lock them in the same order
        and cannot deadlock.
        """
        ticket = _Ticket(work, order)
        with self._lock:
            self._pending.append(ticket)
            ticket.lead = not self._leading
            self._leading = True
        while not (ticket.done or ticket.lead or ticket.alone):
            ticket.wake.wait()
            ticket.wake.clear()
        if ticket.lead:
            self._lead()
        elif ticket.alone:
            self._commit([ticket])
        if ticket.error is not None:
            raise ticket.error
        return ticket.result

    def _lead(self) -> None:
        """Commit everything pending now, then pass the lead on (or give it up)."""
        with self._lock:
            batch, self._pending = self._pending, []
        batch.sort(key=lambda ticket: ticket.order)
        try:
            self._commit(batch)
        finally:
            for ticket in batch:  # only after an interruption (KeyboardInterrupt, ...)
                if not ticket.done:
                    ticket.alone = True
                    ticket.wake.set()
            with self._lock:
                if self._pending:
                    successor = self._pending[0]
                    successor.lead = True
                    successor.wake.set()
                else:
                    self._leading = False

    def _commit(self, batch: list[_Ticket]) -> None:
        try:
            with self._begin() as tx:
                results = [ticket.work(tx) for ticket in batch]
        except Exception as exc:
            if len(batch) == 1:
                _finish(batch[0], error=exc)
                return
            for ticket in batch:  # who failed? Each on its own, so only that one fails
                self._commit([ticket])
            return
        for ticket, result in zip(batch, results, strict=True):
            _finish(ticket, result=result)


def _finish(ticket: _Ticket, *, result: Any = None, error: BaseException | None = None) -> None:
    ticket.result, ticket.error, ticket.done = result, error, True
    ticket.wake.set()
