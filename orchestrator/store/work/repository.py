"""Work queues and their items: the store's ``queues`` repository.

A queue belongs to a tenant and holds cases (items), each under a reference unique in the
queue for the queue's life. Robots take items one at a time (:meth:`~WorkQueueRepository.
claim_item`, under a lease they renew), and end each with :meth:`~WorkQueueRepository.
complete_item` or :meth:`~WorkQueueRepository.fail_item`; people retry, resolve and approve
them. Every status change is a guarded move (:data:`~.moves.ITEM_STATUS`) with its
audit entry in the same transaction. Example::

    queues = store.queues
    queues.create_queue("giessen", "gewerbe", max_attempts=3, actor="user:alice")
    queues.add_item("giessen", "gewerbe", "GA-2026-0815", {"name": "Müller"}, actor="user:alice")
    item = queues.claim_item("giessen", "gewerbe", holder="robot-1#5be0", lease_s=60)
    queues.complete_item(item.id, holder="robot-1#5be0", output={"eintrag": "GR-4711"})

``attempts`` counts how often a robot took an item. An explicit retry by a user
(:meth:`~WorkQueueRepository.retry_item`) resets it to 0: the user gives the case a full set
of attempts again; the earlier ones stay in the item's runs and the audit trail.

Each method opens one transaction around the SQL of its helper modules: :mod:`.queues`
(policies, counts, purging), :mod:`.moves` (arriving, routing, reaping, reading),
:mod:`.actions` (what robots and people do to an item) and :mod:`.loading`
(many items at once, declared queues).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select

from orchestrator.errors import FailureKind
from orchestrator.states import WorkItemStatus
from orchestrator.store.tables import utc_now
from orchestrator.store.transactions import Transactions
from orchestrator.store.work.actions import approve, claim, complete, fail, resolve
from orchestrator.store.work.loading import ItemRow, SyncResult, add_rows, sync_queues
from orchestrator.store.work.moves import (
    ITEM_STATUS,
    ITEM_WORK,
    insert_item,
    item_with_runs,
    queue_by_name,
    read_item,
    reap,
    retry,
    select_records,
)
from orchestrator.store.work.queues import (
    POLICY_DEFAULTS,
    PURGER,
    drop_queue,
    holders_in_progress,
    purge_due,
    purgeable,
    save_queue,
    with_counts,
)
from orchestrator.store.work.records import AddResult, QueueRecord, WorkItemRecord
from orchestrator.store.work.tables import QUEUES, WORK_ITEMS

W = WorkItemStatus


class WorkQueueRepository:
    """Work queues, their items and the runs that touched them (``store.queues``)."""

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    # Queues.

    def create_queue(
        self,
        tenant: str,
        name: str,
        *,
        max_attempts: int = 3,
        retry_delay_s: float = 60,
        backoff: float = 2.0,
        schema: dict[str, Any] | None = None,
        sla_s: float | None = None,
        retention_days: int = 365,
        next_on_success: str | None = None,
        next_on_failure: str | None = None,
        approval_required: bool = False,
        actor: str,
        update: bool = False,
    ) -> QueueRecord:
        """Create the queue ``name`` of ``tenant`` (audited); ``update=True`` changes the
        policy of an existing one instead (items keep their deadlines and statuses).

        ``next_on_success`` / ``next_on_failure`` must name existing queues of the tenant.

        Raises:
            QueueExists: the tenant has the queue already and ``update`` is False.
            QueueNotFound: a ``next_on_*`` queue does not exist.
            PayloadInvalid: ``schema`` is no JSON Schema.
            ConfigError: a number is out of range, or the queue routes to itself.
        """
        policy = {
            **POLICY_DEFAULTS,
            "max_attempts": max_attempts,
            "retry_delay_s": float(retry_delay_s),
            "backoff": float(backoff),
            "payload_schema": schema,
            "sla_s": float(sla_s) if sla_s is not None else None,
            "retention_days": retention_days,
            "next_on_success": next_on_success,
            "next_on_failure": next_on_failure,
            "approval_required": approval_required,
        }
        with self._tx.change() as tx:
            queue = save_queue(tx, tenant, name, policy, actor=actor, update_existing=update)
        return self.get_queue(tenant, queue.name)

    def get_queue(self, tenant: str, name: str) -> QueueRecord:
        """The queue ``name`` of ``tenant`` with its items counted per status.

        Raises:
            QueueNotFound: the tenant has no such queue.
        """
        with self._tx.read() as connection:
            queue = queue_by_name(connection, tenant, name)
            row = connection.execute(select(QUEUES).where(QUEUES.c.id == queue.id)).one()
            return with_counts(connection, [row])[0]

    def list_queues(self, tenant: str) -> list[QueueRecord]:
        """The queues of ``tenant`` by name, each with its items counted per status."""
        query = select(QUEUES).where(QUEUES.c.tenant == tenant).order_by(QUEUES.c.name)
        with self._tx.read() as connection:
            return with_counts(connection, connection.execute(query).all())

    def delete_queue(self, tenant: str, name: str, *, actor: str) -> int:
        """Delete the queue ``name`` of ``tenant`` with all its items and their references
        (audited, with the count): for a training sandbox that was seeded afresh, never for
        a queue of real cases, whose references must stay known. Returns the items deleted.

        Raises:
            QueueNotFound: the tenant has no such queue.
        """
        with self._tx.change() as tx:
            return drop_queue(tx, tenant, name, actor=actor)

    def sync(
        self, tenant: str, declared: Mapping[str, Mapping[str, Any]], *, actor: str
    ) -> list[SyncResult]:
        """Give the queues of ``tenant`` named in ``declared`` those policies (the stored
        form, :data:`~.queues.POLICY_DEFAULTS`' keys) in one transaction: all, or none
        if one is wrong; queues not named stay as they are. A new queue may route to one
        declared after it. Returns what happened to each, the created ones first.

        Raises:
            QueueNotFound: a ``next_on_*`` queue is neither declared nor stored.
            ConfigError, PayloadInvalid: a policy cannot work (see :meth:`create_queue`).
        """
        with self._tx.change() as tx:
            return sync_queues(tx, tenant, declared, actor=actor)

    # Producers.

    def add_item(
        self,
        tenant: str,
        queue: str,
        reference: str,
        payload: dict[str, Any],
        *,
        priority: int = 0,
        postpone_until: datetime | None = None,
        deadline: datetime | None = None,
        actor: str,
    ) -> AddResult:
        """Add a case under ``reference``; a known reference is a no-op that returns the
        existing item (``created`` False), also after its payload was purged.

        The new item is ``new`` (``awaiting_approval`` in a queue with approval); its
        ``deadline`` defaults to now + the queue's SLA.

        Raises:
            QueueNotFound: the tenant has no such queue.
            PayloadInvalid: the payload does not fit the queue's schema (names the field).
        """
        with self._tx.change() as tx:
            found = queue_by_name(tx.connection, tenant, queue)
            item, created = insert_item(
                tx,
                found,
                reference,
                payload,
                actor=actor,
                priority=priority,
                postpone_until=postpone_until,
                deadline=deadline,
            )
        return AddResult(item, created)

    def add_items(
        self,
        tenant: str,
        queue: str,
        rows: Sequence[ItemRow],
        *,
        priority: int = 0,
        actor: str,
    ) -> list[AddResult]:
        """Add ``rows`` (each with ``where``, ``reference`` and ``payload``, e.g. those of
        :func:`orchestrator.queue_files.read_rows`) in one transaction: all that are new, or
        none. Every new row's payload is checked against the queue's schema before the first
        is added; known references are left alone (unchecked), as :meth:`add_item` does.
        Example: ``queues.add_items("giessen", "gewerbe", rows, actor="user:alice")``.

        Raises:
            QueueNotFound: the tenant has no such queue.
            PayloadInvalid: rows do not fit the schema; the message names each row and field.
        """
        with self._tx.change() as tx:
            return add_rows(tx, tenant, queue, rows, actor=actor, priority=priority)

    # Robots.

    def claim_item(
        self,
        tenant: str,
        queue: str,
        *,
        holder: str,
        lease_s: float,
        now: datetime | None = None,
        run_id: int | None = None,
    ) -> WorkItemRecord | None:
        """Take the next item of the queue for ``holder`` (``in_progress``, attempts + 1,
        leased until now + ``lease_s``), or None if none is due.

        Due are ``new`` and ``retrying`` items whose backoff (``not_before``) and
        ``postpone_until`` have passed: highest priority first, then oldest. Robots claiming
        at once get different items (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite: one
        writer at a time). ``run_id`` records the run that took it (its attempt).

        Raises:
            QueueNotFound: the tenant has no such queue.
        """
        with self._tx.change() as tx:
            found = queue_by_name(tx.connection, tenant, queue)
            at = now or tx.now
            return claim(tx, found, holder=holder, lease_s=lease_s, at=at, run_id=run_id)

    def renew_items(self, holder: str, lease_s: float) -> set[int]:
        """Extend the leases of ``holder``'s items in progress to now + ``lease_s``; returns
        their ids (an item missing from them is no longer the holder's: stop working on it).
        """
        until = utc_now() + timedelta(seconds=lease_s)
        with self._tx.write() as connection:
            rows = ITEM_WORK.renew(connection, holder, until)
        return {row.id for row in rows}

    def complete_item(
        self, item_id: int, *, holder: str, output: dict[str, Any], run_id: int | None = None
    ) -> WorkItemRecord:
        """Mark ``holder``'s item ``done`` with its ``output``; if the queue has
        ``next_on_success``, the output arrives there as a new item under the same reference,
        in the same transaction (a known reference there is left as it is).

        Raises:
            ItemNotFound: no such item.
            InvalidTransition: the item is not in progress under ``holder`` (e.g. its lease ran
                out and another robot took it).
            QueueNotFound, PayloadInvalid: the next queue is gone, or the output does not fit
                its schema; nothing was changed.
        """
        with self._tx.change() as tx:
            return complete(tx, item_id, holder=holder, output=output, run_id=run_id)

    def fail_item(
        self,
        item_id: int,
        *,
        holder: str,
        kind: FailureKind | Literal["business", "application"],
        message: str,
        evidence: Sequence[str] = (),
        run_id: int | None = None,
    ) -> WorkItemRecord:
        """End ``holder``'s attempt at an item with an exception; ``message`` (German, for the
        Fachamt) and ``evidence`` (paths of screenshots, traces) are stored as given.

        ``business``: ``needs_human``, not retried. ``application``: ``retrying``, due again
        after ``retry_delay_s * backoff ** (attempts - 1)`` seconds, while attempts are left;
        then ``failed``, and its payload goes to the queue's ``next_on_failure``, if any.

        Raises:
            ItemNotFound: no such item.
            InvalidTransition: the item is not in progress under ``holder``.
        """
        with self._tx.change() as tx:
            return fail(
                tx,
                item_id,
                holder=holder,
                kind=FailureKind(kind),
                message=message,
                evidence=evidence,
                run_id=run_id,
            )

    def reap_items(
        self, now: datetime | None = None, *, holders: Collection[str] | None = None
    ) -> list[tuple[int, WorkItemStatus]]:
        """Give back the items in progress whose lease ran out (their robot is gone), or,
        with ``holders``, the items those holders hold (known gone: their process died before
        the lease ran out): ``retrying``, due at once, audited with the holder. Never
        ``done``, never lost; only an item that lost its robot :data:`MAX_LEASE_LOSSES` times
        beyond its attempts becomes ``failed``. Returns what became of each. Items another
        transaction holds are left.
        """
        with self._tx.change() as tx:
            return reap(tx, now or tx.now, holders)

    def holders(self, tenant: str, queue: str) -> dict[str, datetime]:
        """Who holds items of ``queue`` in progress, each with when it took its first one."""
        with self._tx.read() as connection:
            return holders_in_progress(connection, tenant, queue)

    # People.

    def retry_item(
        self, item_id: int, *, actor: str, tenant: str | None = None, comment: str | None = None
    ) -> WorkItemRecord:
        """Queue a ``done``, ``failed`` or ``needs_human`` item again under its reference:
        ``new`` with attempts reset to 0 and its last error cleared (both stay in the audit
        trail). ``tenant``, if given, must own the item.

        Raises:
            ItemNotFound: no such item (of ``tenant``).
            InvalidTransition: it is in another status.
            PayloadInvalid: its payload was purged; there is nothing to work on.
        """
        with self._tx.change() as tx:
            item = tx.lock(ITEM_STATUS, item_id, tenant=tenant)
            retry(tx, item, actor=actor, reason=comment or "retried by a user")
            return read_item(tx.connection, item_id)

    def resolve_item(
        self,
        item_id: int,
        *,
        action: Literal["retry", "done", "abandon"],
        comment: str,
        actor: str,
        tenant: str | None = None,
    ) -> WorkItemRecord:
        """A person settles an item (typically ``needs_human``): ``retry`` (as
        :meth:`retry_item`), ``done`` (finished by hand) or ``abandon``; ``comment`` goes
        into the audit entry as the reason.

        Raises:
            ItemNotFound: no such item (of ``tenant``).
            InvalidTransition: the item's machine does not allow it from where it is.
            PayloadInvalid: ``retry`` of an item whose payload was purged.
            ValueError: an unknown ``action``.
        """
        with self._tx.change() as tx:
            return resolve(tx, item_id, action=action, comment=comment, actor=actor, tenant=tenant)

    def approve_item(
        self, item_id: int, *, actor: str, tenant: str | None = None, comment: str | None = None
    ) -> WorkItemRecord:
        """Four eyes: ``actor`` approves an ``awaiting_approval`` item, which robots may then
        take (``new``, ``approved_by`` set).

        Raises:
            ItemNotFound: no such item (of ``tenant``).
            ApprovalRefused: ``actor`` created or last changed the item.
            InvalidTransition: the item is not awaiting approval.
        """
        with self._tx.change() as tx:
            return approve(tx, item_id, actor=actor, tenant=tenant, comment=comment)

    # Reading.

    def list_items(
        self,
        tenant: str,
        queue: str,
        *,
        status: WorkItemStatus | str | Collection[WorkItemStatus | str] | None = None,
        limit: int = 100,
    ) -> list[WorkItemRecord]:
        """Items of the queue (with ``status``, one or several), oldest first, at most
        ``limit``; without their runs.

        Raises:
            QueueNotFound: the tenant has no such queue.
        """
        with self._tx.read() as connection:
            found = queue_by_name(connection, tenant, queue)
            query = select_records().where(WORK_ITEMS.c.queue_id == found.id)
            if status is not None:
                wanted = [status] if isinstance(status, str) else list(status)
                query = query.where(WORK_ITEMS.c.status.in_([W(s).value for s in wanted]))
            rows = connection.execute(query.order_by(WORK_ITEMS.c.id).limit(limit)).all()
        return [WorkItemRecord.from_row(row) for row in rows]

    def get_item(self, item_id: int, *, tenant: str | None = None) -> WorkItemRecord:
        """The item with the runs that touched it, in order.

        Raises:
            ItemNotFound: no such item (of ``tenant``).
        """
        with self._tx.read() as connection:
            return item_with_runs(connection, item_id, tenant)

    # Data minimisation.

    def purge(
        self,
        tenant: str | None = None,
        *,
        now: datetime | None = None,
        dry_run: bool = False,
        actor: str = PURGER,
    ) -> list[int]:
        """Delete payload and output of items (of ``tenant``, or all) that ended (done,
        abandoned, failed) longer ago than their queue's retention; returns their ids.
        Reference, status and history stay; one audit entry per queue names the items.
        ``dry_run`` only returns the ids.
        """
        if dry_run:
            with self._tx.read() as connection:
                due = purgeable(connection, tenant, now or utc_now())
            return [item_id for _, ids in due for item_id in ids]
        with self._tx.change() as tx:
            return purge_due(tx, tenant, now or tx.now, actor=actor)
