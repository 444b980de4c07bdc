"""Retention in SQL: artifacts past their period, marked deleted with their audit entries, and
the files a deletion left on disk (``store.retention``).

Deleting a file takes two steps, in this order, so that no row ever says "present" of a file
that is gone:

1. :meth:`RetentionRepository.mark_deleted`, one transaction: each artifact gets
   ``deleted_at`` and ``unlink_pending``; the evidence links of the work items its run worked
   on say that the file was deleted (:func:`deleted_note`); one audit entry
   ``artifacts deleted`` per run and kind names the files' count and bytes (never content);
2. the caller removes the files (:mod:`orchestrator.retention`), then
   :meth:`~RetentionRepository.unlinked` clears ``unlink_pending``.

A process killed between the two leaves ``unlink_pending`` set; :meth:`~RetentionRepository.
pending` lists those files, and the next run removes them. The row keeps the path, sha256 and
size of what existed. Example::

    rule = RetentionRule("evidence", frozenset({ArtifactKind.SCREENSHOT}), 30, {"marburg": 14})
    files = store.retention.expired(ArtifactKind.SCREENSHOT, rule, now)
    marked = store.retention.mark_deleted(files, actor="user:anna@giessen")
    ...                                   # remove the files of ``marked``
    store.retention.unlinked([f.id for f in marked])
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, true, update

from orchestrator.results import ArtifactKind
from orchestrator.store.audit.chain import AuditEvent
from orchestrator.store.lifecycle import WriteTransaction
from orchestrator.store.runs.tables import ARTIFACTS, RUNS
from orchestrator.store.transactions import Transactions
from orchestrator.store.work.tables import QUEUES, WORK_ITEM_RUNS, WORK_ITEMS

#: The audit action of a deletion by retention.
DELETED = "artifacts deleted"
#: How many artifacts one call reads or marks by default.
BATCH = 500

_FILE_COLUMNS = (
    ARTIFACTS.c.id,
    ARTIFACTS.c.run_id,
    ARTIFACTS.c.kind,
    ARTIFACTS.c.path,
    ARTIFACTS.c.size,
    RUNS.c.tenant,
    RUNS.c.run_dir,
    RUNS.c.finished_at,
)


@dataclass(frozen=True)
class RetentionRule:
    """Artifacts of ``kinds`` expire ``days`` after their run ended; the tenants named in
    ``tenant_days`` have their own number of days. ``period`` names the rule (``evidence``,
    ``reports``, ``logs``).

    Example: ``RetentionRule("logs", frozenset({ArtifactKind.LOG}), 365, {"marburg": 730})``.
    """

    period: str
    kinds: frozenset[ArtifactKind]
    days: int
    tenant_days: Mapping[str, int] = field(default_factory=dict)

    def days_for(self, tenant: str) -> int:
        """The days ``tenant``'s artifacts of these kinds are kept."""
        return self.tenant_days.get(tenant, self.days)

    def expired(self, now: datetime) -> ColumnElement[bool]:
        """SQL: the run (``runs``, joined) ended before its tenant's cutoff at ``now``."""
        by_days: dict[int, list[str]] = defaultdict(list)
        for tenant, days in self.tenant_days.items():
            by_days[days].append(tenant)
        ended = RUNS.c.finished_at
        others = ended < now - timedelta(days=self.days)
        if self.tenant_days:
            others = and_(RUNS.c.tenant.not_in(list(self.tenant_days)), others)
        own = [
            and_(RUNS.c.tenant.in_(tenants), ended < now - timedelta(days=days))
            for days, tenants in sorted(by_days.items())
        ]
        return or_(others, *own)


@dataclass(frozen=True)
class ArtifactFile:
    """An artifact's file as retention handles it, with its run's tenant, directory and end.

    ``period`` and ``days`` say which rule it expired under; None for a file whose deletion
    is pending from an earlier run (:meth:`RetentionRepository.pending`).
    """

    id: int
    run_id: int
    kind: ArtifactKind
    path: str
    size: int
    tenant: str
    run_dir: str | None
    run_ended_at: datetime | None
    period: str | None = None
    days: int | None = None


def deleted_note(path: str, at: datetime) -> str:
    """What a work item's evidence link says once retention deleted its file.

    Example: ``deleted_note("/data/runs/17/items/5/failure.png", now)`` ->
    ``"/data/runs/17/items/5/failure.png (deleted by retention on 2026-12-01)"``.
    """
    return f"{path} (deleted by retention on {at:%Y-%m-%d})"


class RetentionRepository:
    """Artifacts past their period, their deletion and its audit (see the module docstring)."""

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    def expired(
        self,
        kind: ArtifactKind,
        rule: RetentionRule,
        now: datetime,
        *,
        tenant: str | None = None,
        after_id: int = 0,
        limit: int = BATCH,
    ) -> list[ArtifactFile]:
        """Up to ``limit`` artifacts of ``kind`` (of ``tenant``, or all) not deleted yet whose
        run ended longer ago than ``rule`` keeps them at ``now``, by id after ``after_id``.

        Reads one range of ``ix_artifacts_kind_deleted_at_id``: the artifacts of ``kind`` still
        there, oldest first; each expired one's run by its key.
        """
        query = (
            select(*_FILE_COLUMNS)
            .join(RUNS, RUNS.c.id == ARTIFACTS.c.run_id)
            .where(
                ARTIFACTS.c.kind == ArtifactKind(kind).value,
                ARTIFACTS.c.deleted_at.is_(None),
                ARTIFACTS.c.id > after_id,
                rule.expired(now),
            )
            .order_by(ARTIFACTS.c.id)
            .limit(limit)
        )
        if tenant is not None:
            query = query.where(RUNS.c.tenant == tenant)
        with self._tx.query() as connection:
            rows = connection.execute(query).all()
        return [_file(row, rule.period, rule.days_for(row.tenant)) for row in rows]

    def mark_deleted(self, files: Sequence[ArtifactFile], *, actor: str) -> list[ArtifactFile]:
        """Record ``files`` as deleted by retention now, in one transaction with their audit
        entries (one per run and kind); returns those it marked (not those another process
        marked meanwhile). Remove the files next, then call :meth:`unlinked`.
        """
        if not files:
            return []
        wanted = {file.id: file for file in files}
        with self._tx.change() as tx:
            still_there = tx.connection.scalars(
                select(ARTIFACTS.c.id)
                .where(ARTIFACTS.c.id.in_(wanted), ARTIFACTS.c.deleted_at.is_(None))
                .with_for_update()
            ).all()
            marked = [wanted[artifact_id] for artifact_id in sorted(still_there)]
            if not marked:
                return []
            tx.connection.execute(
                update(ARTIFACTS)
                .where(ARTIFACTS.c.id.in_([file.id for file in marked]))
                .values(deleted_at=tx.now, unlink_pending=True)
            )
            noted = _note_evidence(tx, marked)
            for event in _audit_events(marked, noted, actor):
                tx.record(event)
        return marked

    def pending(self, *, after_id: int = 0, limit: int = BATCH) -> list[ArtifactFile]:
        """Artifacts marked deleted whose files may still be on disk (a deletion interrupted),
        by id after ``after_id``."""
        query = (
            select(*_FILE_COLUMNS)
            .join(RUNS, RUNS.c.id == ARTIFACTS.c.run_id)
            .where(ARTIFACTS.c.unlink_pending == true(), ARTIFACTS.c.id > after_id)
            .order_by(ARTIFACTS.c.id)
            .limit(limit)
        )
        with self._tx.query() as connection:
            return [_file(row) for row in connection.execute(query).all()]

    def unlinked(self, artifact_ids: Collection[int]) -> None:
        """The files of ``artifact_ids`` are gone from disk: nothing is pending for them."""
        if not artifact_ids:
            return
        with self._tx.write() as connection:
            connection.execute(
                update(ARTIFACTS)
                .where(ARTIFACTS.c.id.in_(list(artifact_ids)))
                .values(unlink_pending=False)
            )

    def queue_tenants(self) -> list[str]:
        """The tenants that have work queues (whose payloads may expire)."""
        with self._tx.query() as connection:
            found = connection.scalars(select(QUEUES.c.tenant).distinct().order_by(QUEUES.c.tenant))
            return list(found)


def _file(row: Any, period: str | None = None, days: int | None = None) -> ArtifactFile:
    return ArtifactFile(
        id=row.id,
        run_id=row.run_id,
        kind=ArtifactKind(row.kind),
        path=row.path,
        size=int(row.size),
        tenant=row.tenant,
        run_dir=row.run_dir,
        run_ended_at=row.finished_at,
        period=period,
        days=days,
    )


def _note_evidence(tx: WriteTransaction, files: Sequence[ArtifactFile]) -> dict[int, set[int]]:
    """Rewrite the evidence links to ``files`` of the work items their runs worked on, as
    :func:`deleted_note` says; returns, per artifact id, the items whose links were noted.

    ``updated_at`` stays: it is when the item ended, from which its payload's retention counts.
    """
    by_path = {file.path: file.id for file in files}
    run_ids = sorted({file.run_id for file in files})
    linked = select(WORK_ITEM_RUNS.c.item_id).where(WORK_ITEM_RUNS.c.run_id.in_(run_ids))
    items = tx.connection.execute(
        select(WORK_ITEMS.c.id, WORK_ITEMS.c.evidence).where(WORK_ITEMS.c.id.in_(linked))
    ).all()
    noted: dict[int, set[int]] = defaultdict(set)
    for item_id, evidence in items:
        links = list(evidence or [])
        for index, link in enumerate(links):
            artifact_id = by_path.get(link) or by_path.get(os.path.realpath(link))
            if artifact_id is not None:
                links[index] = deleted_note(link, tx.now)
                noted[artifact_id].add(item_id)
        if links != list(evidence or []):
            tx.connection.execute(
                update(WORK_ITEMS).where(WORK_ITEMS.c.id == item_id).values(evidence=links)
            )
    return noted


def _audit_events(
    files: Sequence[ArtifactFile], noted: Mapping[int, set[int]], actor: str
) -> list[AuditEvent]:
    """One ``artifacts deleted`` entry per run and kind: how many files, how many bytes,
    under which period, and the work items whose evidence links now say so."""
    groups: dict[tuple[int, ArtifactKind], list[ArtifactFile]] = defaultdict(list)
    for file in files:
        groups[file.run_id, file.kind].append(file)
    events = []
    for (run_id, kind), group in sorted(groups.items()):
        first = group[0]
        items = sorted({item for file in group for item in noted.get(file.id, ())})
        data: dict[str, Any] = {
            "kind": kind.value,
            "files": len(group),
            "bytes": sum(file.size for file in group),
            "artifacts": [file.id for file in group],
            "period": first.period,
            "retention_days": first.days,
            "run_ended_at": first.run_ended_at.isoformat() if first.run_ended_at else None,
        }
        if items:
            data["work_items"] = items
        events.append(AuditEvent(DELETED, first.tenant, actor, data, run_id))
    return events
