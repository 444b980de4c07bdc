"""The notification outbox as a repository (``store.notifications``).

A message is queued in the database by whoever notices the event (one insert, deduplicated by its
key, so a trigger delivered twice queues one message), and delivered by whoever comes next: the
claim (:meth:`NotificationRepository.claim`) moves it to ``sending`` under a lease, as runs and work
items are claimed (:data:`.records.NOTIFICATION_WORK`, leased work of
:mod:`orchestrator.store.leased_work`), so two deliverers never take the same message; only the
holder of the claim marks it ``sent``, once. A deliverer that dies mid-send leaves a claim whose
lease runs out; the next claim gives the message back (``pending``). Every move is audited without
the message's text (:mod:`.records` has the states). Example::

    [new_id] = store.notifications.queue([message], actor="robot-1#4f2a")
    for claimed in store.notifications.claim(holder="notify:rpa-01:4711", lease_s=60):
        ...  # send it
        store.notifications.mark_sent(claimed.id, holder="notify:rpa-01:4711")

The repository also answers what the notification rules ask of runs and cases: failed
runs in a row (:meth:`~NotificationRepository.consecutive_failures`), the cases a run left
for a person, the cases past their deadline not notified yet.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, String, and_, cast, literal, not_, select

from orchestrator.states import NotificationStatus as N
from orchestrator.states import RunStatus, WorkItemStatus
from orchestrator.store.audit.chain import AuditEvent
from orchestrator.store.database import dialect_insert
from orchestrator.store.leased_work import REAPER, lease_expired, released
from orchestrator.store.lifecycle import WriteTransaction
from orchestrator.store.notifications.records import (
    NOTIFICATION_STATUS,
    NOTIFICATION_WORK,
    BreachedItem,
    NewNotification,
    NotificationRecord,
)
from orchestrator.store.notifications.tables import NOTIFICATIONS
from orchestrator.store.runs.tables import RUNS
from orchestrator.store.transactions import Transactions
from orchestrator.store.work.tables import QUEUES, WORK_ITEM_RUNS, WORK_ITEMS

#: Cases still waiting to be finished: past their deadline, they breach the SLA.
OPEN_ITEMS = (
    WorkItemStatus.NEW,
    WorkItemStatus.IN_PROGRESS,
    WorkItemStatus.RETRYING,
    WorkItemStatus.NEEDS_HUMAN,
    WorkItemStatus.AWAITING_APPROVAL,
)
#: Run outcomes that continue a streak of failures; a success ends it, others do not count.
FAILED_RUNS = frozenset({RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.LOST})


class NotificationRepository:
    """The outbox: queue, claim, mark sent or failed, assemble digests, list."""

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    # ----------------------------------------------------------------- queue and deliver

    def queue(self, messages: Sequence[NewNotification], *, actor: str) -> list[int]:
        """Queue ``messages`` in one transaction; returns the ids of those that are new.

        A message whose ``dedupe_key`` is known adds nothing (also when the known one was
        sent long ago). A message with ``held_until`` waits for its digest (``held``).
        """
        if not messages:
            return []
        with self._tx.change() as tx:
            return [
                new_id
                for message in messages
                if (new_id := _insert(tx, message, actor=actor)) is not None
            ]

    def claim(
        self,
        *,
        holder: str,
        lease_s: float,
        limit: int = 1,
        ids: Collection[int] | None = None,
        skip: Collection[tuple[str, str]] = (),
        due_only: bool = True,
        now: datetime | None = None,
    ) -> list[NotificationRecord]:
        """Take up to ``limit`` pending messages to send (``sending``, attempts + 1, leased
        until now + ``lease_s``), oldest first.

        First gives back messages whose deliverer's lease ran out (``pending``). Args:
        ``ids`` only these; ``skip`` leaves out messages of these (tenant, channel) pairs;
        ``due_only`` False also takes messages still waiting out their backoff.
        """
        with self._tx.change() as tx:
            at = now or tx.now
            _give_back_expired(tx, at)
            conditions: list[ColumnElement[bool]] = []
            if ids is not None:
                conditions.append(NOTIFICATIONS.c.id.in_(sorted(ids)))
            for tenant, channel in sorted(skip):
                pair = and_(NOTIFICATIONS.c.tenant == tenant, NOTIFICATIONS.c.channel == channel)
                conditions.append(not_(pair))
            due = NOTIFICATION_WORK.due(at, *conditions, backoff=due_only).limit(limit)
            messages = NOTIFICATION_WORK.lock(tx, due)
            NOTIFICATION_WORK.take(tx, messages, holder=holder, lease_s=lease_s, at=at)
            return [_read(tx.connection, message.id) for message in messages]

    def mark_sent(self, notification_id: int, *, holder: str) -> NotificationRecord:
        """Record that ``holder`` delivered the message it claimed (audited, without text).

        Raises:
            InvalidTransition: ``holder`` does not hold the message's claim (any more).
        """
        with self._tx.change() as tx:
            columns = {"sent_at": tx.now, "lease_expires_at": None, "last_error": None}
            tx.move_one(
                NOTIFICATION_STATUS,
                notification_id,
                N.SENT,
                actor=holder,
                expect_holder=holder,
                columns=columns,
            )
            return _read(tx.connection, notification_id)

    def delivery_failed(
        self, notification_id: int, *, holder: str, error: str, retry_at: datetime | None
    ) -> NotificationRecord:
        """Record a failed delivery by ``holder``: ``pending`` again, due at ``retry_at``; or,
        without ``retry_at``, given up (``failed``). ``error`` says why (no message text).

        Raises:
            InvalidTransition: ``holder`` does not hold the message's claim (any more).
        """
        to = N.PENDING if retry_at is not None else N.FAILED
        with self._tx.change() as tx:
            message = tx.lock(NOTIFICATION_STATUS, notification_id)
            columns = {"not_before": retry_at, **released(), "last_error": error}
            tx.move(
                NOTIFICATION_STATUS,
                [message],
                to,
                actor=holder,
                expect=N.SENDING,
                expect_holder=holder,
                columns=columns,
                reason=error,
            )
            return _read(tx.connection, notification_id)

    # ----------------------------------------------------------------- digests

    def due_held(self, *, now: datetime, limit: int = 1000) -> list[NotificationRecord]:
        """Held messages whose digest is due at ``now``, oldest first."""
        query = (
            select(NOTIFICATIONS)
            .where(NOTIFICATIONS.c.status == N.HELD.value, NOTIFICATIONS.c.not_before <= now)
            .order_by(NOTIFICATIONS.c.id)
            .limit(limit)
        )
        with self._tx.read() as connection:
            return [NotificationRecord.from_row(row) for row in connection.execute(query)]

    def digest(self, ids: Collection[int], message: NewNotification, *, actor: str) -> int | None:
        """Queue ``message``, the digest carrying the held messages ``ids``, and mark those
        ``digested``, in one transaction; None if another process assembled them first."""
        with self._tx.change() as tx:
            query = (
                NOTIFICATION_STATUS.select()
                .where(NOTIFICATIONS.c.id.in_(sorted(ids)), NOTIFICATIONS.c.status == N.HELD.value)
                .order_by(NOTIFICATIONS.c.id)
                .with_for_update(skip_locked=True)
            )
            held = [NOTIFICATION_STATUS.read(row) for row in tx.connection.execute(query)]
            if {entry.id for entry in held} != set(ids):
                return None
            digest_id = _insert(tx, message, actor=actor)
            if digest_id is None:
                return None
            columns = {"digest_id": digest_id, "not_before": None}
            tx.move(NOTIFICATION_STATUS, held, N.DIGESTED, actor=actor, columns=columns)
            return digest_id

    # ----------------------------------------------------------------- reading

    def get(self, notification_id: int) -> NotificationRecord:
        """The message ``notification_id``.

        Raises:
            InputError: there is no such message.
        """
        with self._tx.read() as connection:
            row = connection.execute(
                select(NOTIFICATIONS).where(NOTIFICATIONS.c.id == notification_id)
            ).first()
        if row is None:
            raise NOTIFICATION_STATUS.not_found(notification_id, None)
        return NotificationRecord.from_row(row)

    def list_notifications(
        self, *, tenant: str | None = None, status: N | None = None, limit: int = 100
    ) -> list[NotificationRecord]:
        """The newest messages (of ``tenant``, in ``status``), newest first."""
        query = select(NOTIFICATIONS).order_by(NOTIFICATIONS.c.id.desc()).limit(limit)
        if tenant is not None:
            query = query.where(NOTIFICATIONS.c.tenant == tenant)
        if status is not None:
            query = query.where(NOTIFICATIONS.c.status == status.value)
        with self._tx.read() as connection:
            return [NotificationRecord.from_row(row) for row in connection.execute(query)]

    def notified(self, event: str, subjects: Collection[str]) -> set[str]:
        """Which of ``subjects`` have a message about ``event`` already (in any state)."""
        if not subjects:
            return set()
        query = select(NOTIFICATIONS.c.subject).where(
            NOTIFICATIONS.c.event == event, NOTIFICATIONS.c.subject.in_(sorted(subjects))
        )
        with self._tx.query() as connection:
            return set(connection.execute(query).scalars())

    # ----------------------------------------------------------------- what rules ask

    def consecutive_failures(self, tenant: str, bot_id: str, run_id: int, *, window: int) -> int:
        """How many of ``bot_id``'s runs in a row failed, up to and including run ``run_id``.

        A run counts once, by its last attempt (a run that was retried is not counted, its
        retry is); failed, timed-out and lost runs continue the streak, a success ends it,
        cancelled runs and those still under way do not count. Looks at the ``window``
        newest started runs.
        """
        started = select(RUNS.c.started_at).where(RUNS.c.id == run_id).scalar_subquery()
        query = (
            select(RUNS.c.id, RUNS.c.status, RUNS.c.retry_of)
            .where(
                RUNS.c.tenant == tenant,
                RUNS.c.bot_id == bot_id,
                RUNS.c.started_at.is_not(None),
                RUNS.c.started_at <= started,
            )
            .order_by(RUNS.c.started_at.desc(), RUNS.c.id.desc())
            .limit(window)
        )
        with self._tx.read() as connection:
            rows = connection.execute(query).all()
        retried = {row.retry_of for row in rows if row.retry_of is not None}
        streak = 0
        for row in rows:
            status = RunStatus(row.status)
            if row.id in retried:
                continue
            if status is RunStatus.SUCCEEDED:
                break
            if status in FAILED_RUNS:
                streak += 1
        return streak

    def items_for_a_person(self, run_ids: Collection[int]) -> list[tuple[str, str]]:
        """The cases the runs ``run_ids`` left for a person (``needs_human``): (queue,
        reference), each once, in the order they were added."""
        query = (
            select(QUEUES.c.name, WORK_ITEMS.c.reference)
            .select_from(
                WORK_ITEM_RUNS.join(WORK_ITEMS, WORK_ITEMS.c.id == WORK_ITEM_RUNS.c.item_id).join(
                    QUEUES, QUEUES.c.id == WORK_ITEMS.c.queue_id
                )
            )
            .where(
                WORK_ITEM_RUNS.c.run_id.in_(sorted(run_ids)),
                WORK_ITEM_RUNS.c.outcome == WorkItemStatus.NEEDS_HUMAN.value,
            )
            .order_by(WORK_ITEMS.c.id)
        )
        with self._tx.read() as connection:
            rows = connection.execute(query).all()
        return list(dict.fromkeys((row.name, row.reference) for row in rows))

    def breached_items(
        self, tenants: Collection[str], *, now: datetime, limit: int = 200
    ) -> list[BreachedItem]:
        """Cases of ``tenants`` still open past their deadline with no ``sla_breach``
        message yet, the longest overdue first."""
        if not tenants:
            return []
        subject = literal("item:") + cast(WORK_ITEMS.c.id, String)
        notified = (
            select(NOTIFICATIONS.c.id)
            .where(NOTIFICATIONS.c.event == "sla_breach", NOTIFICATIONS.c.subject == subject)
            .exists()
        )
        query = (
            select(
                WORK_ITEMS.c.id,
                WORK_ITEMS.c.tenant,
                QUEUES.c.name.label("queue"),
                WORK_ITEMS.c.reference,
                WORK_ITEMS.c.status,
                WORK_ITEMS.c.deadline,
            )
            .join(QUEUES, QUEUES.c.id == WORK_ITEMS.c.queue_id)
            .where(
                WORK_ITEMS.c.tenant.in_(sorted(tenants)),
                WORK_ITEMS.c.deadline < now,
                WORK_ITEMS.c.status.in_([status.value for status in OPEN_ITEMS]),
                ~notified,
            )
            .order_by(WORK_ITEMS.c.deadline, WORK_ITEMS.c.id)
            .limit(limit)
        )
        with self._tx.read() as connection:
            return [BreachedItem(**row._mapping) for row in connection.execute(query)]


def _insert(tx: WriteTransaction, message: NewNotification, *, actor: str) -> int | None:
    """Insert ``message`` unless its key is known (audited); its id, or None."""
    status = N.HELD if message.held_until is not None else N.PENDING
    statement = dialect_insert(tx.connection, NOTIFICATIONS).values(
        tenant=message.tenant,
        event=message.event,
        subject=message.subject,
        channel=message.channel,
        dedupe_key=message.dedupe_key,
        lang=message.lang,
        facts=message.facts,
        status=status.value,
        attempts=0,
        not_before=message.held_until,
        created_at=tx.now,
    )
    statement = statement.on_conflict_do_nothing(index_elements=[NOTIFICATIONS.c.dedupe_key])
    new_id = tx.connection.execute(statement.returning(NOTIFICATIONS.c.id)).scalar_one_or_none()
    if new_id is None:
        return None
    data = {
        "notification": new_id,
        "event": message.event,
        "subject": message.subject,
        "channel": message.channel,
        "from": None,
        "to": status.value,
    }
    tx.record(AuditEvent(f"notification {status.value}", message.tenant, actor, data))
    return int(new_id)


def _give_back_expired(tx: WriteTransaction, at: datetime) -> None:
    """Messages whose deliverer's lease ran out before ``at`` become ``pending`` again."""
    for message in NOTIFICATION_WORK.expired(tx, at):
        why = lease_expired(message)
        columns = {**released(), "last_error": why}
        tx.move(
            NOTIFICATION_STATUS, [message], N.PENDING, actor=REAPER, columns=columns, reason=why
        )


def _read(connection: Connection, notification_id: int) -> NotificationRecord:
    row = connection.execute(
        select(NOTIFICATIONS).where(NOTIFICATIONS.c.id == notification_id)
    ).one()
    return NotificationRecord.from_row(row)
