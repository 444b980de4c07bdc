"""What a run report reads beyond the run itself: who started it, the cases it worked on and
added, and the approvals waiting in its queues (``store.run_reports``).

Read-only; the report is written from these records by :mod:`orchestrator.reports`. Example::

    reads = store.run_reports
    reads.actor(17)                     # "user:anna@rathaus" or "schedule:giessen/morgens"
    for case in reads.cases(17):        # every item run 17 took, with the status it left
        print(case.item.reference, case.outcome)
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from orchestrator.store.runs.moves import not_found
from orchestrator.store.runs.tables import RUNS
from orchestrator.store.transactions import Transactions
from orchestrator.store.work.moves import select_records
from orchestrator.store.work.records import QueueRecord, WorkItemRecord
from orchestrator.store.work.tables import QUEUES, WORK_ITEM_RUNS, WORK_ITEMS

#: The most cases one report lists; a run that took more says so.
MAX_CASES = 5000


@dataclass(frozen=True)
class RunCase:
    """A work item as one run left it: ``outcome`` is the status the run's last attempt on it
    ended in (None: the run lost it, e.g. its lease ran out), ``item`` the item as it is now."""

    item: WorkItemRecord
    attempt: int
    outcome: str | None
    at: datetime


class RunReportReads:
    """Reads for the run report (see the module docstring)."""

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    def actor(self, run_id: int) -> str | None:
        """Who queued run ``run_id``: ``user:...``, ``schedule:TENANT/NAME``, ...

        Raises:
            RunNotFound: there is no such run.
        """
        with self._tx.query() as connection:
            row = connection.execute(select(RUNS.c.actor).where(RUNS.c.id == run_id)).first()
        if row is None:
            raise not_found(run_id, None)
        return row.actor

    def cases(self, run_id: int, *, limit: int = MAX_CASES) -> list[RunCase]:
        """The items run ``run_id`` took, in the order it took them, each once (its last
        attempt in this run), at most ``limit``."""
        last = (
            select(func.max(WORK_ITEM_RUNS.c.id))
            .where(WORK_ITEM_RUNS.c.run_id == run_id)
            .group_by(WORK_ITEM_RUNS.c.item_id)
        )
        touched = (
            select(WORK_ITEM_RUNS)
            .where(WORK_ITEM_RUNS.c.id.in_(last))
            .order_by(WORK_ITEM_RUNS.c.id)
            .limit(limit)
        )
        with self._tx.read() as connection:
            runs = connection.execute(touched).all()
            ids = [run.item_id for run in runs]
            items = {
                row.id: WorkItemRecord.from_row(row)
                for row in connection.execute(select_records().where(WORK_ITEMS.c.id.in_(ids)))
            }
        return [RunCase(items[run.item_id], run.attempt, run.outcome, run.at) for run in runs]

    def added(self, tenant: str, actor: str, since: datetime, until: datetime) -> dict[int, int]:
        """How many items of ``tenant`` ``actor`` (a bot: ``bot:ID``) added from ``since``
        to ``until``, per queue id: the cases a run of that bot received."""
        query = (
            select(WORK_ITEMS.c.queue_id, func.count())
            .where(
                WORK_ITEMS.c.tenant == tenant,
                WORK_ITEMS.c.created_by == actor,
                WORK_ITEMS.c.created_at >= since,
                WORK_ITEMS.c.created_at <= until,
            )
            .group_by(WORK_ITEMS.c.queue_id)
        )
        with self._tx.query() as connection:
            return {queue_id: int(count) for queue_id, count in connection.execute(query)}

    def next_queues(self, queue_ids: Collection[int]) -> set[int]:
        """The ids of the queues these queues route items on to (success or failure)."""
        if not queue_ids:
            return set()
        routed = select(QUEUES.c.tenant, QUEUES.c.next_on_success, QUEUES.c.next_on_failure).where(
            QUEUES.c.id.in_(list(queue_ids))
        )
        with self._tx.read() as connection:
            wanted = {
                (row.tenant, name)
                for row in connection.execute(routed)
                for name in (row.next_on_success, row.next_on_failure)
                if name
            }
            found = set()
            for tenant, name in wanted:
                queue_id = connection.scalar(
                    select(QUEUES.c.id).where(QUEUES.c.tenant == tenant, QUEUES.c.name == name)
                )
                if queue_id is not None:
                    found.add(int(queue_id))
        return found

    def queues(self, queue_ids: Collection[int]) -> list[QueueRecord]:
        """The queues with these ids, by name (their items not counted)."""
        if not queue_ids:
            return []
        query = select(QUEUES).where(QUEUES.c.id.in_(list(queue_ids))).order_by(QUEUES.c.name)
        with self._tx.query() as connection:
            return [QueueRecord.from_row(row) for row in connection.execute(query).all()]

    def awaiting_approval(
        self, queue_ids: Collection[int], *, limit: int = MAX_CASES
    ) -> list[WorkItemRecord]:
        """Items of these queues waiting for approval, oldest first, at most ``limit``."""
        if not queue_ids:
            return []
        query = (
            select_records()
            .where(
                WORK_ITEMS.c.queue_id.in_(list(queue_ids)),
                WORK_ITEMS.c.status == "awaiting_approval",
            )
            .order_by(WORK_ITEMS.c.updated_at, WORK_ITEMS.c.id)
            .limit(limit)
        )
        with self._tx.query() as connection:
            return [WorkItemRecord.from_row(row) for row in connection.execute(query).all()]
