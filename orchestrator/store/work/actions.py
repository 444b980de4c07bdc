"""What robots and people do to a work item in SQL: claim, complete and fail it; approve and
resolve it.

The functions take the caller's transaction and move the item through
:data:`~.moves.ITEM_STATUS` (audited); :class:`~.repository.WorkQueueRepository`
(the store's ``queues``) wraps them and documents what each does. Example::

    with transactions.change() as tx:
        queue = queue_by_name(tx.connection, "giessen", "gewerbe")
        item = claim(tx, queue, holder="robot-1#5be0", lease_s=60, at=tx.now)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import or_

from orchestrator.errors import ApprovalRefused, FailureKind
from orchestrator.states import WorkItemStatus
from orchestrator.store.leased_work import backoff_s
from orchestrator.store.lifecycle import WriteTransaction
from orchestrator.store.work.moves import (
    ITEM_STATUS,
    ITEM_WORK,
    changed_by,
    queue_by_id,
    read_item,
    record_run,
    retry,
    route,
    route_failed,
)
from orchestrator.store.work.records import QueueRecord, WorkItemRecord
from orchestrator.store.work.tables import WORK_ITEMS

W = WorkItemStatus


def claim(
    tx: WriteTransaction,
    queue: QueueRecord,
    *,
    holder: str,
    lease_s: float,
    at: datetime,
    run_id: int | None,
) -> WorkItemRecord | None:
    """Take the next due item of ``queue`` for ``holder``; see
    ``WorkQueueRepository.claim_item``."""
    postponed = or_(WORK_ITEMS.c.postpone_until.is_(None), WORK_ITEMS.c.postpone_until <= at)
    due = ITEM_WORK.due(at, WORK_ITEMS.c.queue_id == queue.id, postponed).limit(1)
    found = ITEM_WORK.lock(tx, due)
    if not found:
        return None
    columns = {"not_before": None, **changed_by(tx, holder)}
    (claimed,) = ITEM_WORK.take(tx, found, holder=holder, lease_s=lease_s, at=at, columns=columns)
    if run_id is not None:
        record_run(tx, claimed, run_id, None)
    return read_item(tx.connection, claimed.id)


def complete(
    tx: WriteTransaction,
    item_id: int,
    *,
    holder: str,
    output: dict[str, Any],
    run_id: int | None,
) -> WorkItemRecord:
    """Mark ``holder``'s item ``done`` and route its output; see
    ``WorkQueueRepository.complete_item``."""
    item = tx.lock(ITEM_STATUS, item_id)
    columns = {"output": output, "lease_expires_at": None, **changed_by(tx, holder)}
    (done,) = tx.move(
        ITEM_STATUS,
        [item],
        W.DONE,
        actor=holder,
        expect=W.IN_PROGRESS,
        expect_holder=holder,
        columns=columns,
    )
    record_run(tx, done, run_id, W.DONE)
    queue = queue_by_id(tx.connection, item.queue_id)
    route(tx, queue, queue.next_on_success, done, output, actor=holder, why="done")
    return read_item(tx.connection, item_id)


def fail(
    tx: WriteTransaction,
    item_id: int,
    *,
    holder: str,
    kind: FailureKind,
    message: str,
    evidence: Sequence[str],
    run_id: int | None,
) -> WorkItemRecord:
    """End ``holder``'s attempt at an item with an exception: ``needs_human``, ``retrying``
    or ``failed``; see ``WorkQueueRepository.fail_item``."""
    item = tx.lock(ITEM_STATUS, item_id)
    queue = queue_by_id(tx.connection, item.queue_id)
    columns: dict[str, Any] = {
        "last_error_kind": kind.value,
        "last_error": message,
        "evidence": list(evidence),
        "lease_expires_at": None,
        **changed_by(tx, holder),
    }
    attempt = f"attempt {item.attempts} of {queue.max_attempts}"
    if kind is FailureKind.BUSINESS:
        to, why = W.NEEDS_HUMAN, "business exception: a person decides"
    elif item.attempts < queue.max_attempts:
        delay = backoff_s(item.attempts, queue.retry_delay_s, queue.backoff)
        to, why = W.RETRYING, f"application exception, {attempt}; again in {delay:g} s"
        columns["not_before"] = tx.now + timedelta(seconds=delay)
    else:
        to, why = W.FAILED, f"application exception, {attempt}: no attempts left"
    (moved,) = tx.move(
        ITEM_STATUS,
        [item],
        to,
        actor=holder,
        expect=W.IN_PROGRESS,
        expect_holder=holder,
        columns=columns,
        reason=why,
    )
    record_run(tx, moved, run_id, to)
    if to is W.FAILED:
        route_failed(tx, queue, moved, actor=holder, why=why)
    return read_item(tx.connection, item_id)


def resolve(
    tx: WriteTransaction,
    item_id: int,
    *,
    action: Literal["retry", "done", "abandon"],
    comment: str,
    actor: str,
    tenant: str | None,
) -> WorkItemRecord:
    """A person settles an item: ``retry``, ``done`` or ``abandon``; see
    ``WorkQueueRepository.resolve_item``."""
    item = tx.lock(ITEM_STATUS, item_id, tenant=tenant)
    if action == "retry":
        retry(tx, item, actor=actor, reason=comment)
    elif action in ("done", "abandon"):
        to = W.DONE if action == "done" else W.ABANDONED
        columns = {"lease_expires_at": None, **changed_by(tx, actor)}
        tx.move(ITEM_STATUS, [item], to, actor=actor, columns=columns, reason=comment)
    else:
        raise ValueError(f"unknown action {action!r}: retry, done or abandon")
    return read_item(tx.connection, item_id)


def approve(
    tx: WriteTransaction,
    item_id: int,
    *,
    actor: str,
    tenant: str | None,
    comment: str | None,
) -> WorkItemRecord:
    """Four eyes: ``actor`` approves an ``awaiting_approval`` item; see
    ``WorkQueueRepository.approve_item``."""
    item = tx.lock(ITEM_STATUS, item_id, tenant=tenant)
    if item.status is W.AWAITING_APPROVAL and actor in (item.created_by, item.updated_by):
        raise ApprovalRefused(
            f"work item {item_id} ({item.reference}) was created or last changed by "
            f"{actor}; a second person must approve it."
        )
    columns = {"approved_by": actor, **changed_by(tx, actor)}
    tx.move(
        ITEM_STATUS,
        [item],
        W.NEW,
        actor=actor,
        expect=W.AWAITING_APPROVAL,
        columns=columns,
        reason=comment or "approved",
    )
    return read_item(tx.connection, item_id)
