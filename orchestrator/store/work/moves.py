"""How work items move and arrive in SQL: the item as
:class:`~orchestrator.store.lifecycle.StatusTable`, payload checks, inserting (deduplicated by
reference), routing, reaping, retrying, and reading items and queues.

:data:`ITEM_STATUS` ties :data:`orchestrator.states.WORK_ITEM_MACHINE` to ``work_items``;
:data:`ITEM_WORK` makes items leased work (:mod:`orchestrator.store.leased_work`); every
status change of an item is ``tx.move(ITEM_STATUS, ...)``, audited as ``item <status>``
with the queue, reference and attempts, never the payload (the audit trail cannot be purged).
Example::

    with transactions.change() as tx:
        queue = queue_by_name(tx.connection, "giessen", "gewerbe")
        item, created = insert_item(tx, queue, "GA-2026-0815", {"name": "Müller"},
                                    actor="user:alice")
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, Select, select, update

from orchestrator.errors import (
    FailureKind,
    InvalidTransition,
    ItemNotFound,
    PayloadInvalid,
    QueueNotFound,
)
from orchestrator.states import WORK_ITEM_MACHINE, WorkItemStatus
from orchestrator.store.audit.chain import AuditEvent
from orchestrator.store.database import dialect_insert
from orchestrator.store.leased_work import REAPER, LeasedWork
from orchestrator.store.lifecycle import StatusTable, WriteTransaction
from orchestrator.store.work.records import QueueRecord, WorkItemRecord, WorkItemRun
from orchestrator.store.work.tables import QUEUES, WORK_ITEM_RUNS, WORK_ITEMS

W = WorkItemStatus


@dataclass(frozen=True)
class ItemSnapshot:
    """The columns of an item that moves and their audit entries need, as read (and locked)."""

    id: int
    tenant: str
    queue_id: int
    reference: str
    status: WorkItemStatus
    holder: str | None
    attempts: int
    created_by: str
    updated_by: str
    purged_at: datetime | None


def not_found(item_id: int, tenant: str | None = None) -> ItemNotFound:
    """The error for an item that does not exist (for ``tenant``)."""
    scope = f" of tenant {tenant!r}" if tenant is not None else ""
    return ItemNotFound(f"there is no work item with id {item_id}{scope}.")


def _describe(item: ItemSnapshot) -> dict[str, Any]:
    return {
        "item": item.id,
        "queue_id": item.queue_id,
        "reference": item.reference,
        "attempts": item.attempts,
    }


ITEM_STATUS: StatusTable[ItemSnapshot] = StatusTable(
    machine=WORK_ITEM_MACHINE,
    table=WORK_ITEMS,
    snapshot=ItemSnapshot,
    describe=_describe,
    not_found=not_found,
    action_prefix="item ",
)


def changed_by(tx: WriteTransaction, actor: str) -> dict[str, Any]:
    """The columns every change of an item sets: when and by whom."""
    return {"updated_at": tx.now, "updated_by": actor}


#: Items as leased work: bots claim ``new`` and ``retrying`` items past their backoff,
#: highest priority first, then oldest; a claim counts an attempt.
ITEM_WORK: LeasedWork[ItemSnapshot] = LeasedWork(
    ITEM_STATUS,
    waiting=(W.NEW, W.RETRYING),
    claimed=W.IN_PROGRESS,
    held=(W.IN_PROGRESS,),
    attempts="attempts",
    order_by=(WORK_ITEMS.c.priority.desc(), WORK_ITEMS.c.id),
)

#: Lease losses an item survives beyond its queue's attempts before it is ``failed``: a case
#: that kills its robot every time must not be taken again for ever.
MAX_LEASE_LOSSES = 3
#: The statuses a user may queue again as ``new`` (retry); ``awaiting_approval`` needs an
#: approval instead, ``abandoned`` is final.
RETRYABLE = frozenset({W.DONE, W.FAILED, W.NEEDS_HUMAN})


# Queues.


def queue_by_name(connection: Connection, tenant: str, name: str) -> QueueRecord:
    """The queue ``name`` of ``tenant`` (without counts).

    Raises:
        QueueNotFound: the tenant has no such queue.
    """
    query = select(QUEUES).where(QUEUES.c.tenant == tenant, QUEUES.c.name == name)
    row = connection.execute(query).first()
    if row is None:
        raise QueueNotFound(f"tenant {tenant!r} has no work queue named {name!r}.")
    return QueueRecord.from_row(row)


def queue_by_id(connection: Connection, queue_id: int) -> QueueRecord:
    """The queue with id ``queue_id`` (without counts)."""
    row = connection.execute(select(QUEUES).where(QUEUES.c.id == queue_id)).one()
    return QueueRecord.from_row(row)


def check_schema(tenant: str, name: str, schema: dict[str, Any] | None) -> None:
    """Refuse a queue schema that is no JSON Schema.

    Raises:
        PayloadInvalid: it is not one; the message says where.
    """
    if schema is None:
        return
    import jsonschema  # when a queue has a schema: a robot without one does not load it

    validator = jsonschema.validators.validator_for(schema)
    try:
        validator.check_schema(schema)
    except jsonschema.SchemaError as err:
        where = "/".join(str(part) for part in err.absolute_path) or "(top)"
        raise PayloadInvalid(
            f"the payload schema of queue {name!r} of tenant {tenant!r} is no valid JSON "
            f"Schema at {where!r}: {err.message}"
        ) from None


def check_payload(queue: QueueRecord, reference: str, payload: Any) -> None:
    """Refuse a payload that does not fit ``queue``'s JSON Schema, naming the field.

    Example message: ``payload of item 'GA-7' does not fit queue 'gewerbe' at 'betrieb/name':
    'name' is a required property``.

    Raises:
        PayloadInvalid: it does not fit.
    """
    if queue.schema is None:
        return
    import jsonschema
    from jsonschema.exceptions import best_match

    validator_class = jsonschema.validators.validator_for(queue.schema)
    validator = validator_class(queue.schema)
    error = best_match(validator.iter_errors(payload))
    if error is None:
        return
    where = "/".join(str(part) for part in error.absolute_path) or "(top)"
    raise PayloadInvalid(
        f"payload of item {reference!r} does not fit queue {queue.name!r} at {where!r}: "
        f"{error.message}"
    )


# Items.


def select_records() -> Select[Any]:
    """``SELECT`` of the :class:`WorkItemRecord` columns (items with their queue's name)."""
    return select(WORK_ITEMS, QUEUES.c.name.label("queue")).join(
        QUEUES, QUEUES.c.id == WORK_ITEMS.c.queue_id
    )


def read_item(connection: Connection, item_id: int) -> WorkItemRecord:
    """The item ``item_id`` as stored now (within the caller's transaction)."""
    row = connection.execute(select_records().where(WORK_ITEMS.c.id == item_id)).one()
    return WorkItemRecord.from_row(row)


def item_with_runs(
    connection: Connection, item_id: int, tenant: str | None = None
) -> WorkItemRecord:
    """The item ``item_id`` (of ``tenant``) with the runs that touched it, in order.

    Raises:
        ItemNotFound: no such item (of ``tenant``).
    """
    query = select_records().where(WORK_ITEMS.c.id == item_id)
    if tenant is not None:
        query = query.where(WORK_ITEMS.c.tenant == tenant)
    row = connection.execute(query).first()
    if row is None:
        raise not_found(item_id, tenant)
    runs_query = (
        select(WORK_ITEM_RUNS)
        .where(WORK_ITEM_RUNS.c.item_id == item_id)
        .order_by(WORK_ITEM_RUNS.c.id)
    )
    runs = tuple(
        WorkItemRun(run.run_id, run.attempt, run.outcome, run.at)
        for run in connection.execute(runs_query)
    )
    return WorkItemRecord.from_row(row, runs)


def by_reference(connection: Connection, queue_id: int, reference: str) -> Row[Any] | None:
    """The row of ``select_records`` of the item ``reference`` of queue ``queue_id``, if any."""
    query = select_records().where(
        WORK_ITEMS.c.queue_id == queue_id, WORK_ITEMS.c.reference == reference
    )
    return connection.execute(query).first()


def insert_item(
    tx: WriteTransaction,
    queue: QueueRecord,
    reference: str,
    payload: Any,
    *,
    actor: str,
    priority: int = 0,
    postpone_until: datetime | None = None,
    deadline: datetime | None = None,
    source: dict[str, Any] | None = None,
) -> tuple[WorkItemRecord, bool]:
    """Add an item to ``queue`` unless its reference is known there; returns it and whether
    it is new.

    A known reference (also one whose payload was purged) changes nothing and returns the
    existing item, unchecked. A new one is checked against the queue's schema and starts as
    ``new`` (``awaiting_approval`` in a queue with approval), audited as ``item <status>``
    with ``source`` (where routed items came from). On PostgreSQL a concurrent add of the
    same reference waits for the other transaction and then finds its item.

    Raises:
        PayloadInvalid: the payload does not fit the queue's schema.
    """
    known = by_reference(tx.connection, queue.id, reference)
    if known is not None:
        return WorkItemRecord.from_row(known), False
    check_payload(queue, reference, payload)
    if deadline is None and queue.sla_s is not None:
        deadline = tx.now + timedelta(seconds=queue.sla_s)
    status = WorkItemStatus.AWAITING_APPROVAL if queue.approval_required else WorkItemStatus.NEW
    statement = dialect_insert(tx.connection, WORK_ITEMS).values(
        queue_id=queue.id,
        tenant=queue.tenant,
        reference=reference,
        payload=payload,
        priority=priority,
        postpone_until=postpone_until,
        deadline=deadline,
        status=status.value,
        attempts=0,
        evidence=[],
        created_at=tx.now,
        created_by=actor,
        updated_at=tx.now,
        updated_by=actor,
    )
    statement = statement.on_conflict_do_nothing(
        index_elements=[WORK_ITEMS.c.queue_id, WORK_ITEMS.c.reference]
    )
    item_id = tx.connection.execute(statement.returning(WORK_ITEMS.c.id)).scalar_one_or_none()
    if item_id is None:  # added meanwhile by another transaction
        row = by_reference(tx.connection, queue.id, reference)
        assert row is not None
        return WorkItemRecord.from_row(row), False
    data: dict[str, Any] = {
        "item": item_id,
        "queue_id": queue.id,
        "queue": queue.name,
        "reference": reference,
        "attempts": 0,
        "from": None,
        "to": status.value,
    }
    if source is not None:
        data["source"] = source
    tx.record(AuditEvent(f"{ITEM_STATUS.action_prefix}{status.value}", queue.tenant, actor, data))
    return read_item(tx.connection, int(item_id)), True


def route(
    tx: WriteTransaction,
    queue: QueueRecord,
    target: str | None,
    item: ItemSnapshot,
    payload: Any,
    *,
    actor: str,
    why: str,
) -> WorkItemRecord | None:
    """Add ``payload`` to the queue ``target`` (of the same tenant) under ``item``'s
    reference, in the caller's transaction; None if there is no ``target``.

    Raises:
        QueueNotFound: ``target`` does not exist (any more).
        PayloadInvalid: ``payload`` does not fit ``target``'s schema.
    """
    if target is None:
        return None
    next_queue = queue_by_name(tx.connection, queue.tenant, target)
    source = {"queue": queue.name, "item": item.id, "reason": why}
    routed, _ = insert_item(tx, next_queue, item.reference, payload, actor=actor, source=source)
    return routed


def reap(
    tx: WriteTransaction, at: datetime, holders: Collection[str] | None = None
) -> list[tuple[int, WorkItemStatus]]:
    """Give back the items in progress whose lease ran out before ``at``, or (``holders``)
    that those holders hold, whose process is known to be gone (see
    ``WorkQueueRepository.reap_items``); items another transaction holds are left."""
    if holders is None:
        expired = ITEM_WORK.expired(tx, at)
    else:
        gone = ITEM_WORK.under_lease(WORK_ITEMS.c.holder.in_(sorted(holders)))
        expired = ITEM_WORK.lock(tx, gone)
    queues: dict[int, QueueRecord] = {}
    done: list[tuple[int, WorkItemStatus]] = []
    for item in expired:
        if item.queue_id not in queues:
            queues[item.queue_id] = queue_by_id(tx.connection, item.queue_id)
        queue = queues[item.queue_id]
        cause = "lease expired" if holders is None else "holder gone"
        why = f"{cause} (holder {item.holder}), attempt {item.attempts}"
        to = W.RETRYING
        if item.attempts >= queue.max_attempts + MAX_LEASE_LOSSES:
            to, why = W.FAILED, f"{why}: its robot was lost too often"
        columns = {
            "lease_expires_at": None,
            "not_before": None,
            "last_error_kind": FailureKind.APPLICATION.value,
            "last_error": why,
            **changed_by(tx, REAPER),
        }
        (moved,) = tx.move(ITEM_STATUS, [item], to, actor=REAPER, columns=columns, reason=why)
        close_open_runs(tx, item.id, "lease_expired")
        if to is W.FAILED:
            route_failed(tx, queue, moved, actor=REAPER, why=why)
        done.append((item.id, to))
    return done


def retry(tx: WriteTransaction, item: ItemSnapshot, *, actor: str, reason: str) -> None:
    if item.status not in RETRYABLE:
        allowed = ", ".join(sorted(status.value for status in RETRYABLE))
        raise InvalidTransition(
            item.id, item.status.value, f"new (a retry is for {allowed} items)", entity="work item"
        )
    if item.purged_at is not None:
        raise PayloadInvalid(
            f"work item {item.id} ({item.reference}) cannot be retried: its payload was "
            f"purged on {item.purged_at:%Y-%m-%d} after the queue's retention."
        )
    columns = {
        "attempts": 0,
        "holder": None,
        "lease_expires_at": None,
        "not_before": None,
        "last_error_kind": None,
        "last_error": None,
        "evidence": [],
        **changed_by(tx, actor),
    }
    tx.move(ITEM_STATUS, [item], W.NEW, actor=actor, columns=columns, reason=reason)


def route_failed(
    tx: WriteTransaction, queue: QueueRecord, item: ItemSnapshot, *, actor: str, why: str
) -> None:
    """Hand a failed item's payload to the queue's ``next_on_failure``, if any."""
    if queue.next_on_failure is None:
        return
    payload = tx.connection.scalar(select(WORK_ITEMS.c.payload).where(WORK_ITEMS.c.id == item.id))
    route(tx, queue, queue.next_on_failure, item, payload, actor=actor, why=why)


def record_run(
    tx: WriteTransaction, item: ItemSnapshot, run_id: int | None, outcome: WorkItemStatus | None
) -> None:
    """Note that run ``run_id`` touched ``item`` in its current attempt (and how it ended).

    Without ``run_id``, an outcome ends the item's runs still open (those of its claim).
    """
    value = outcome.value if outcome is not None else None
    if run_id is None:
        if value is not None:
            close_open_runs(tx, item.id, value)
        return
    key = (
        WORK_ITEM_RUNS.c.item_id == item.id,
        WORK_ITEM_RUNS.c.run_id == run_id,
        WORK_ITEM_RUNS.c.attempt == item.attempts,
    )
    changed = tx.connection.execute(update(WORK_ITEM_RUNS).where(*key).values(outcome=value))
    if changed.rowcount == 0:
        tx.connection.execute(
            WORK_ITEM_RUNS.insert().values(
                item_id=item.id, run_id=run_id, attempt=item.attempts, outcome=value, at=tx.now
            )
        )


def close_open_runs(tx: WriteTransaction, item_id: int, outcome: str) -> None:
    """Set the outcome of the item's runs that have none yet."""
    tx.connection.execute(
        update(WORK_ITEM_RUNS)
        .where(WORK_ITEM_RUNS.c.item_id == item_id, WORK_ITEM_RUNS.c.outcome.is_(None))
        .values(outcome=outcome)
    )
