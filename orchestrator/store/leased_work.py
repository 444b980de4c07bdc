"""Leased work: the one mechanism by which runs, work items and notifications are handed out.

An entity with states whose rows workers take one by one (a run to a robot, a case to a
bot, a message to a deliverer) is :class:`LeasedWork` over its
:class:`~.lifecycle.StatusTable`. Its table has the columns ``holder``,
``lease_expires_at`` and ``not_before`` (and, if claims count attempts, an attempts column).
The mechanism is the same for every kind:

- **claim** (:meth:`LeasedWork.due` + :meth:`LeasedWork.take`): ``SELECT ... FOR UPDATE SKIP
  LOCKED`` of the rows in a *waiting* status whose ``not_before`` has passed, in the kind's
  order; workers claiming at the same time skip each other's rows instead of waiting (on
  SQLite the database's one writer serialises claims). The chosen rows move to the *claimed*
  status under ``holder`` with a lease until now + ``lease_s`` (attempts + 1 where counted),
  one audited move (:meth:`.lifecycle.WriteTransaction.move`) each.
- **renew** (:meth:`LeasedWork.renew`): the holder extends the leases of what it holds.
- **backoff** (:func:`backoff_s`): a failed attempt sets ``not_before``; the claim leaves
  the row alone until then.
- **reap** (:meth:`LeasedWork.expired`): rows under a lease that ran out, locked (skipping
  those another transaction holds), for the kind to settle with audited moves by
  :data:`REAPER` (a run may be re-queued or lost, an item retried, a message given back).

Each kind keeps its own filters (a run's tenants and labels, an item's queue and
``postpone_until``), order (runs and messages oldest first, items by priority) and
what its moves write; the mechanism keeps the lease. :data:`.runs.moves.RUN_WORK`,
:data:`.work.moves.ITEM_WORK` and :data:`.notifications.records.NOTIFICATION_WORK` are the
three today.

A coming outbox (e-Akte filings, mail to send) adds a table with those columns, a machine
(say ``pending -> sending -> filed | pending | failed``) and a ``StatusTable``, and then::

    FILING_WORK = LeasedWork(FILING_STATUS, waiting=(F.PENDING,), claimed=F.SENDING,
                             held=(F.SENDING,), attempts="attempts")

    with transactions.change() as tx:           # the deliverer's claim
        for filing in FILING_WORK.expired(tx, tx.now):
            tx.move(FILING_STATUS, [filing], F.PENDING, actor=REAPER,
                    columns=released(), reason=lease_expired(filing))
        due = FILING_WORK.due(tx.now).limit(10)
        filings = FILING_WORK.take(tx, FILING_WORK.lock(tx, due), holder="eakte:rpa-01",
                                   lease_s=60)

    # after a failed filing: pending again, not before the backoff has passed
    tx.move(FILING_STATUS, [filing], F.PENDING, actor="eakte:rpa-01",
            columns={**released(), "not_before": tx.now + timedelta(
                seconds=backoff_s(filing.attempts, 30, 2.0, cap_s=3600))})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Generic

from sqlalchemy import Column, ColumnElement, Connection, Row, Select, or_, select, update

from orchestrator.store.lifecycle import E, StatusTable, WriteTransaction

#: The actor of every move a lease that ran out causes.
REAPER = "system:lease-expiry"


@dataclass(frozen=True, eq=False)
class LeasedWork(Generic[E]):
    """An entity with states that workers claim under a lease (see the module docstring).

    Args:
        kind: The entity as stored (its machine, table and snapshot).
        waiting: The statuses a claim takes rows from.
        claimed: The status a claim moves them to.
        held: The statuses of rows under a lease (claimed and later ones, e.g. running).
        attempts: The column a claim counts up, or None if claims do not count (a run's
            attempts are its retries, not its claims).
        order_by: The claim's order; oldest (lowest id) first if empty.
    """

    kind: StatusTable[E]
    waiting: tuple[StrEnum, ...]
    claimed: StrEnum
    held: tuple[StrEnum, ...]
    attempts: str | None = None
    order_by: tuple[ColumnElement[Any], ...] = ()

    def column(self, name: str) -> Column[Any]:
        """The column ``name`` of the entity's table."""
        return self.kind.table.c[name]

    def due(self, now: Any, *conditions: ColumnElement[bool], backoff: bool = True) -> Select[Any]:
        """``SELECT ... FOR UPDATE SKIP LOCKED`` of the due rows, in claim order, to add
        conditions and a limit to; ``now`` is a datetime or a ``bindparam``. ``backoff``
        False also finds rows still waiting out their ``not_before``."""
        table = self.kind.table
        where = [table.c.status.in_([status.value for status in self.waiting]), *conditions]
        if backoff:
            where.append(or_(table.c.not_before.is_(None), table.c.not_before <= now))
        order = self.order_by or (table.c.id,)
        return self.kind.select().where(*where).order_by(*order).with_for_update(skip_locked=True)

    def lock(self, tx: WriteTransaction, query: Select[Any]) -> list[E]:
        """The snapshots of the rows ``query`` (of :meth:`due` or :meth:`under_lease`) finds,
        locked; rows another transaction holds are skipped."""
        return [self.kind.read(row) for row in tx.connection.execute(query).all()]

    def take(
        self,
        tx: WriteTransaction,
        entities: Sequence[E],
        *,
        holder: str,
        lease_s: float,
        at: datetime | None = None,
        columns: Mapping[str, Any] | None = None,
    ) -> list[E]:
        """Move the locked due ``entities`` to the claimed status under ``holder``, leased
        until ``at`` (default: the transaction's now) + ``lease_s``, with ``columns`` too
        (e.g. ``claimed_at``); audited as the kind's moves, by ``holder``. Returns them as
        moved, in the order given."""
        start = at or tx.now
        lease = {
            "holder": holder,
            "lease_expires_at": start + timedelta(seconds=lease_s),
            **(columns or {}),
        }
        if self.attempts is None:  # one UPDATE for all
            return tx.move(self.kind, entities, self.claimed, actor=holder, columns=lease)
        moved: list[E] = []
        for entity in entities:  # each its own count, and so its own audit entry
            counted = {**lease, self.attempts: getattr(entity, self.attempts) + 1}
            moved += tx.move(self.kind, [entity], self.claimed, actor=holder, columns=counted)
        return moved

    def under_lease(self, *conditions: ColumnElement[bool]) -> Select[Any]:
        """``SELECT ... FOR UPDATE SKIP LOCKED`` of the rows under a lease (also ``conditions``),
        oldest first."""
        table = self.kind.table
        return (
            self.kind.select()
            .where(table.c.status.in_([status.value for status in self.held]), *conditions)
            .order_by(table.c.id)
            .with_for_update(skip_locked=True)
        )

    def expired(
        self, tx: WriteTransaction, at: datetime, *conditions: ColumnElement[bool]
    ) -> list[E]:
        """The rows (also ``conditions``) whose lease ran out before ``at``, locked and oldest
        first, for the kind to settle (rows another transaction holds are left alone)."""
        return self.lock(tx, self.under_lease(self.column("lease_expires_at") < at, *conditions))

    def renew(
        self,
        connection: Connection,
        holder: str,
        until: datetime,
        *,
        returning: Sequence[str] = ("id",),
    ) -> list[Row[Any]]:
        """Extend the leases of what ``holder`` holds to ``until``; the ``returning`` columns
        of each renewed row (a row missing is no longer the holder's: stop working on it).

        The rows are locked in id order first, as claims and moves lock them, so a renewal
        cannot deadlock with a transaction that moves several.
        """
        table = self.kind.table
        held = (
            select(table.c.id)
            .where(
                table.c.holder == holder,
                table.c.status.in_([status.value for status in self.held]),
            )
            .order_by(table.c.id)
            .with_for_update()
        )
        statement = (
            update(table)
            .where(table.c.id.in_(held.scalar_subquery()))
            .values(lease_expires_at=until)
            .returning(*(table.c[name] for name in returning))
        )
        return list(connection.execute(statement).all())


def released() -> dict[str, Any]:
    """The columns of a row handed back: no holder, no lease."""
    return {"holder": None, "lease_expires_at": None}


def lease_expired(entity: Any) -> str:
    """The reason an audit entry of a reaped row gives: ``lease expired (holder X)``."""
    return f"lease expired (holder {entity.holder})"


def backoff_s(attempt: int, delay_s: float, factor: float, *, cap_s: float | None = None) -> float:
    """Seconds to wait before the attempt after ``attempt``: ``delay_s * factor ** (attempt -
    1)``, at most ``cap_s``.

    Example: ``backoff_s(3, 30, 2.0)`` -> ``120.0``; a row failing its third attempt gets
    ``not_before = now + 120 s``.
    """
    delay = delay_s * factor ** max(attempt - 1, 0)
    return delay if cap_s is None else min(delay, cap_s)
