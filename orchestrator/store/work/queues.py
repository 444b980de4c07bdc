"""Work queues in SQL: creating and changing a queue's policy, counting and purging its items.

The functions take the caller's transaction; :class:`~.repository.WorkQueueRepository` (the
store's ``queues``) wraps them. Purging empties ``payload`` and ``output`` of items that
ended (``done``, ``abandoned``, ``failed``) longer ago than the queue's retention; the
reference, status, attempts, errors and history stay, so the reference stays known. Items a
person still has to look at (``needs_human``, ``awaiting_approval``) are not purged.
Example::

    with transactions.change() as tx:
        queue = save_queue(tx, "giessen", "gewerbe", {"max_attempts": 3, ...},
                           actor="user:alice", update=False)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, null, select, update

from orchestrator.errors import ConfigError, QueueExists
from orchestrator.states import WorkItemStatus
from orchestrator.store.audit.chain import AuditEvent
from orchestrator.store.database import dialect_insert
from orchestrator.store.lifecycle import WriteTransaction
from orchestrator.store.work.moves import check_schema, queue_by_name
from orchestrator.store.work.records import QueueRecord
from orchestrator.store.work.tables import QUEUES, WORK_ITEM_RUNS, WORK_ITEMS

#: Who purges when no one else is named: the orchestrator's daily retention.
PURGER = "system:retention"
#: Items whose payload a purge may delete: those no robot and no person works on any more.
PURGEABLE = (WorkItemStatus.DONE, WorkItemStatus.ABANDONED, WorkItemStatus.FAILED)
#: The policy of a queue as stored, with the defaults of ``create_queue``.
POLICY_DEFAULTS: Mapping[str, Any] = {
    "max_attempts": 3,
    "retry_delay_s": 60.0,
    "backoff": 2.0,
    "payload_schema": None,
    "sla_s": None,
    "retention_days": 365,
    "next_on_success": None,
    "next_on_failure": None,
    "approval_required": False,
}
_PURGE_CHUNK = 500


def check_policy(connection: Connection, tenant: str, name: str, policy: Mapping[str, Any]) -> None:
    """Refuse a queue policy that cannot work.

    Raises:
        ConfigError: a number is out of range, or the queue routes to itself.
        QueueNotFound: a ``next_on_*`` queue does not exist (create it first).
        PayloadInvalid: the schema is no JSON Schema.
    """
    where = f"work queue {name!r} of tenant {tenant!r}"
    if policy["max_attempts"] < 1:
        raise ConfigError(f"{where}: max_attempts must be at least 1")
    if policy["retry_delay_s"] < 0 or policy["backoff"] < 1:
        raise ConfigError(f"{where}: retry_delay_s must be >= 0 and backoff >= 1")
    if policy["retention_days"] < 1 or (policy["sla_s"] is not None and policy["sla_s"] <= 0):
        raise ConfigError(f"{where}: retention_days must be >= 1 and sla_s > 0")
    check_schema(tenant, name, policy["payload_schema"])
    for key in ("next_on_success", "next_on_failure"):
        target = policy[key]
        if target == name:
            raise ConfigError(f"{where}: {key} names the queue itself")
        if target is not None:
            queue_by_name(connection, tenant, target)


def save_queue(
    tx: WriteTransaction,
    tenant: str,
    name: str,
    policy: Mapping[str, Any],
    *,
    actor: str,
    update_existing: bool,
) -> QueueRecord:
    """Create the queue, or (``update_existing``) change the policy of the existing one;
    audited as ``queue created`` / ``queue updated`` with the policy.

    Raises:
        QueueExists: it exists and ``update_existing`` is False.
    """
    check_policy(tx.connection, tenant, name, policy)
    inserted = tx.connection.execute(
        dialect_insert(tx.connection, QUEUES)
        .values(tenant=tenant, name=name, created_at=tx.now, created_by=actor, **policy)
        .on_conflict_do_nothing(index_elements=[QUEUES.c.tenant, QUEUES.c.name])
        .returning(QUEUES.c.id)
    ).scalar_one_or_none()
    shown = {("schema" if key == "payload_schema" else key): value for key, value in policy.items()}
    if inserted is not None:
        data = {"queue": name, **shown}
        tx.record(AuditEvent("queue created", tenant, actor, data))
        return queue_by_name(tx.connection, tenant, name)
    before = queue_by_name(tx.connection, tenant, name)
    if not update_existing:
        raise QueueExists(
            f"tenant {tenant!r} has a work queue named {name!r} already (created "
            f"{before.created_at:%Y-%m-%d} by {before.created_by}); change it with update."
        )
    tx.connection.execute(update(QUEUES).where(QUEUES.c.id == before.id).values(**policy))
    old = before.to_json()
    changes = {key: [old[key], value] for key, value in shown.items() if old[key] != value}
    tx.record(AuditEvent("queue updated", tenant, actor, {"queue": name, "changes": changes}))
    return queue_by_name(tx.connection, tenant, name)


def counts(connection: Connection, queue_ids: list[int]) -> dict[int, dict[str, int]]:
    """The items of each queue per status: ``{queue_id: {"new": 3, ...}}``."""
    if not queue_ids:
        return {}
    query = (
        select(WORK_ITEMS.c.queue_id, WORK_ITEMS.c.status, func.count())
        .where(WORK_ITEMS.c.queue_id.in_(queue_ids))
        .group_by(WORK_ITEMS.c.queue_id, WORK_ITEMS.c.status)
    )
    result: dict[int, dict[str, int]] = {queue_id: {} for queue_id in queue_ids}
    for queue_id, status, number in connection.execute(query):
        result[queue_id][status] = int(number)
    return result


def with_counts(connection: Connection, rows: Sequence[Any]) -> list[QueueRecord]:
    """Records of ``queues`` rows, each with its items counted per status."""
    counted = counts(connection, [row.id for row in rows])
    return [QueueRecord.from_row(row, counted[row.id]) for row in rows]


def purgeable(
    connection: Connection, tenant: str | None, at: datetime
) -> list[tuple[QueueRecord, list[int]]]:
    """Per queue (of ``tenant``), the ids of items whose payload is due for deletion at
    ``at``: ended (:data:`PURGEABLE`) and unchanged for longer than the queue's retention."""
    query = select(QUEUES).order_by(QUEUES.c.tenant, QUEUES.c.name)
    if tenant is not None:
        query = query.where(QUEUES.c.tenant == tenant)
    due: list[tuple[QueueRecord, list[int]]] = []
    for row in connection.execute(query).all():
        queue = QueueRecord.from_row(row)
        cutoff = at - timedelta(days=queue.retention_days)
        ids = connection.scalars(
            select(WORK_ITEMS.c.id)
            .where(
                WORK_ITEMS.c.queue_id == queue.id,
                WORK_ITEMS.c.status.in_([status.value for status in PURGEABLE]),
                WORK_ITEMS.c.purged_at.is_(None),
                WORK_ITEMS.c.updated_at < cutoff,
            )
            .order_by(WORK_ITEMS.c.id)
        ).all()
        if ids:
            due.append((queue, list(ids)))
    return due


def purge_items(
    tx: WriteTransaction, queue: QueueRecord, ids: list[int], *, actor: str, at: datetime
) -> None:
    """Delete payload and output of the items ``ids`` of ``queue``; one audit entry
    ``queue purged`` names them, the retention and the cutoff."""
    for start in range(0, len(ids), _PURGE_CHUNK):
        chunk = ids[start : start + _PURGE_CHUNK]
        tx.connection.execute(
            update(WORK_ITEMS)
            .where(
                WORK_ITEMS.c.id.in_(chunk),
                WORK_ITEMS.c.purged_at.is_(None),
                WORK_ITEMS.c.status.in_([status.value for status in PURGEABLE]),
            )
            .values(payload=null(), output=null(), purged_at=tx.now)
        )
    cutoff = at - timedelta(days=queue.retention_days)
    data = {
        "queue": queue.name,
        "queue_id": queue.id,
        "items": ids,
        "retention_days": queue.retention_days,
        "ended_before": cutoff.isoformat(),
    }
    tx.record(AuditEvent("queue purged", queue.tenant, actor, data))


def purge_due(tx: WriteTransaction, tenant: str | None, at: datetime, *, actor: str) -> list[int]:
    """Purge every item (of ``tenant``) due at ``at`` (see :func:`purgeable`), one audit
    entry per queue; returns their ids."""
    purged: list[int] = []
    for queue, ids in purgeable(tx.connection, tenant, at):
        purge_items(tx, queue, ids, actor=actor, at=at)
        purged += ids
    return purged


def drop_queue(tx: WriteTransaction, tenant: str, name: str, *, actor: str) -> int:
    """Delete queue ``name`` of ``tenant``, its items and their runs (audited with the
    count); see ``WorkQueueRepository.delete_queue``. Returns the items deleted."""
    queue = queue_by_name(tx.connection, tenant, name)
    ids = select(WORK_ITEMS.c.id).where(WORK_ITEMS.c.queue_id == queue.id)
    tx.connection.execute(delete(WORK_ITEM_RUNS).where(WORK_ITEM_RUNS.c.item_id.in_(ids)))
    deleted = tx.connection.execute(
        delete(WORK_ITEMS).where(WORK_ITEMS.c.queue_id == queue.id)
    ).rowcount
    tx.connection.execute(delete(QUEUES).where(QUEUES.c.id == queue.id))
    tx.record(AuditEvent("queue deleted", tenant, actor, {"queue": name, "items": deleted}))
    return int(deleted)


def holders_in_progress(connection: Connection, tenant: str, queue: str) -> dict[str, datetime]:
    """Who holds items of ``queue`` in progress, each with when it took its first one."""
    rows = connection.execute(
        select(WORK_ITEMS.c.holder, WORK_ITEMS.c.updated_at)
        .join(QUEUES, QUEUES.c.id == WORK_ITEMS.c.queue_id)
        .where(
            QUEUES.c.tenant == tenant,
            QUEUES.c.name == queue,
            WORK_ITEMS.c.status == WorkItemStatus.IN_PROGRESS.value,
        )
    ).all()
    found: dict[str, datetime] = {}
    for holder, since in rows:
        if holder and (holder not in found or since < found[holder]):
            found[holder] = since
    return found
