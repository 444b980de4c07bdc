"""Reading runs back: one run with its steps and artifacts, lists, counts, the next attempt.

What :class:`~orchestrator.store.runs.repository.RunRepository` wrote, as the history shows
it (:class:`~orchestrator.results.RunRecord`)::

    reads = RunReads(transactions)
    reads.get_run(17, tenant="giessen").steps[0].path          # "steps[0]"
    reads.list_runs(tenant="giessen", status=RunStatus.QUEUED, limit=10)
    reads.count_runs(tenant="giessen")                          # {"queued": 3, ...}
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from orchestrator.results import RunRecord
from orchestrator.states import RunStatus
from orchestrator.store.runs.moves import not_found
from orchestrator.store.runs.records import SUMMARY_COLUMNS, run_record, run_summary
from orchestrator.store.runs.tables import RUNS, RunRow
from orchestrator.store.transactions import Transactions


class RunReads:
    """Runs as the history shows them; only reads."""

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    def list_runs(
        self,
        *,
        tenant: str | None = None,
        bot_id: str | None = None,
        status: RunStatus | None = None,
        limit: int = 50,
    ) -> list[RunRecord]:
        """The newest ``limit`` runs, newest first; ``tenant`` None only for admin tools.

        The records carry no steps or artifacts; :meth:`get_run` has them.

        Example: ``store.list_runs(tenant="giessen", status=RunStatus.QUEUED, limit=10)``.
        """
        query = select(*SUMMARY_COLUMNS).order_by(RUNS.c.id.desc()).limit(max(limit, 0))
        if tenant is not None:
            query = query.where(RUNS.c.tenant == tenant)
        if bot_id is not None:
            query = query.where(RUNS.c.bot_id == bot_id)
        if status is not None:
            query = query.where(RUNS.c.status == RunStatus(status).value)
        with self._tx.query() as connection:
            return [run_summary(row) for row in connection.execute(query)]

    def get_run(self, run_id: int, *, tenant: str | None = None, details: bool = True) -> RunRecord:
        """One run with its steps (in order) and artifacts (``details=False``: without).

        With ``tenant``, a run of another tenant counts as not found.

        Example: ``store.get_run(17, tenant="giessen").status``.

        Raises:
            RunNotFound: there is no such run (for this tenant).
        """
        if not details:
            summary = select(*SUMMARY_COLUMNS).where(RUNS.c.id == run_id)
            if tenant is not None:
                summary = summary.where(RUNS.c.tenant == tenant)
            with self._tx.query() as connection:
                found = connection.execute(summary).first()
            if found is None:
                raise not_found(run_id, tenant)
            return run_summary(found)
        query = select(RunRow).where(RunRow.id == run_id)
        query = query.options(selectinload(RunRow.steps), selectinload(RunRow.artifacts))
        if tenant is not None:
            query = query.where(RunRow.tenant == tenant)
        with self._tx.errors(), Session(self._tx.engine) as session:
            row = session.scalars(query).one_or_none()
            if row is None:
                raise not_found(run_id, tenant)
            return run_record(row)

    def retry_of(self, run_id: int, *, tenant: str | None = None) -> int | None:
        """The id of the run queued as the next attempt of run ``run_id``, if there is one.

        Example: ``store.retry_of(17, tenant="giessen")`` -> ``23``.
        """
        query = select(RUNS.c.id).where(RUNS.c.retry_of == run_id).order_by(RUNS.c.id).limit(1)
        if tenant is not None:
            query = query.where(RUNS.c.tenant == tenant)
        with self._tx.query() as connection:
            found = connection.scalar(query)
        return int(found) if found is not None else None

    def count_runs(
        self, *, tenant: str | None = None, status: RunStatus | None = None
    ) -> dict[str, int]:
        """How many runs there are per status (statuses without runs left out).

        Example: ``store.count_runs(tenant="giessen")`` -> ``{"queued": 3, "succeeded": 120}``.
        """
        query = select(RUNS.c.status, func.count()).group_by(RUNS.c.status)
        if tenant is not None:
            query = query.where(RUNS.c.tenant == tenant)
        if status is not None:
            query = query.where(RUNS.c.status == RunStatus(status).value)
        with self._tx.query() as connection:
            return {row[0]: int(row[1]) for row in connection.execute(query)}
