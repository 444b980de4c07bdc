"""The run history tables as typed SQLAlchemy declarative classes.

The schema itself is created and changed only by the Alembic migrations in
:mod:`orchestrator.store.migrations`; these classes must match them (a test compares the two).
Only portable types are used, so the same classes serve SQLite and PostgreSQL:

* times are timezone-aware UTC :class:`~datetime.datetime` values (:class:`UTCDateTime`),
* run parameters are a ``JSON`` column,
* statuses and kinds are short strings holding the values of the enums in
  :mod:`orchestrator.results` (no database enum types, so new values need no migration),
* lists of names (labels, pools, tenants) are ``JSON`` arrays.

Besides the history (``runs``, ``steps``, ``artifacts``) the orchestrator keeps the append-only
``audit_log``, leader ``leases``, ``schedule_state``, the registered ``robots`` and the work
queues (``queues``, ``work_items``, ``work_item_runs``) and the ``users`` here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Deterministic constraint names: needed to alter constraints later, and SQLite's batch
# migrations can only drop constraints that have a name.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that goes in and comes out as an aware UTC datetime.

    PostgreSQL stores it as ``timestamp with time zone``. SQLite has no such type, so there the
    value is stored as naive UTC text (which sorts correctly) and gets its UTC zone back on
    reading. Naive datetimes are refused: their meaning depends on the machine's clock.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; pass an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of the store's tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {  # noqa: RUF012 (SQLAlchemy reads a class dict)
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class RunRow(Base):
    """One run of one bot (``runs``)."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_tenant_bot_id_started_at", "tenant", "bot_id", "started_at"),
        # Claiming scans queued runs of some tenants, oldest first; counting active ones too.
        Index("ix_runs_status_tenant_id", "status", "tenant", "id"),
        # A unique index, not a constraint: SQLite can add it without copying the table.
        Index("ix_runs_dedupe_key", "dedupe_key", unique=True),
        # Never reuse the id of a deleted run: run directories and reports are named by it.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(64))
    bot_id: Mapped[str] = mapped_column(String(128))
    bot_version: Mapped[str] = mapped_column(String(64))
    bot_digest: Mapped[str] = mapped_column(String(128))
    parameters: Mapped[dict[str, Any]]
    trigger: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    error_step: Mapped[str | None] = mapped_column(Text)
    run_dir: Mapped[str | None] = mapped_column(Text)
    # The queue (migration 0002); server defaults fill them in for runs of 0001.
    actor: Mapped[str | None] = mapped_column(String(255))
    labels: Mapped[list[str]] = mapped_column(server_default="[]")
    pools: Mapped[list[str]] = mapped_column(server_default="[]")
    max_parallel: Mapped[int] = mapped_column(Integer, server_default="1")
    retry_safe: Mapped[bool] = mapped_column(Boolean, server_default="0")
    timeout_s: Mapped[float | None] = mapped_column(Float)
    dedupe_key: Mapped[str | None] = mapped_column(String(255))
    not_before: Mapped[datetime | None]
    retry_of: Mapped[int | None] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer, server_default="1")
    holder: Mapped[str | None] = mapped_column(String(255))
    claimed_at: Mapped[datetime | None]
    lease_expires_at: Mapped[datetime | None]
    cancel_requested: Mapped[bool] = mapped_column(Boolean, server_default="0")
    # Robot identity and budgets (migration 0004).
    robot_losses: Mapped[int] = mapped_column(Integer, server_default="0")
    max_attempts: Mapped[int] = mapped_column(Integer, server_default="1")

    steps: Mapped[list[StepRow]] = relationship(
        order_by="StepRow.seq", passive_deletes=True, lazy="raise"
    )
    artifacts: Mapped[list[ArtifactRow]] = relationship(
        order_by="ArtifactRow.id", passive_deletes=True, lazy="raise"
    )


class StepRow(Base):
    """One executed step of a run (``steps``); ``seq`` numbers them from 1 in order."""

    __tablename__ = "steps"
    __table_args__ = (UniqueConstraint("run_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    duration_ms: Mapped[int] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(Text)


class ArtifactRow(Base):
    """A file kept for a run (``artifacts``), with its sha256 and size.

    Retention (migration 0009) keeps the row of a deleted file: ``deleted_at`` says when it
    was deleted, ``unlink_pending`` that the file may still be on disk (set with
    ``deleted_at``, cleared once it is gone; see :mod:`orchestrator.store.retention`).
    """

    __tablename__ = "artifacts"
    __table_args__ = (
        Index("ix_artifacts_run_id", "run_id"),
        # Retention: the live artifacts of some kinds (deleted_at IS NULL), and the few files
        # a deletion interrupted by a crash left on disk.
        Index("ix_artifacts_kind_deleted_at_id", "kind", "deleted_at", "id"),
        Index(
            "ix_artifacts_unlink_pending",
            "unlink_pending",
            sqlite_where=text("unlink_pending = 1"),
            postgresql_where=text("unlink_pending"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    step_path: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]
    unlink_pending: Mapped[bool] = mapped_column(Boolean, server_default="0")


class AuditRow(Base):
    """One entry of the append-only, hash-chained audit trail (``audit_log``).

    ``seq`` counts 1, 2, 3, ... without gaps; ``hash`` is the sha256 of the entry's other
    fields and ``prev_hash`` (see :mod:`orchestrator.store.audit`). Database triggers refuse
    UPDATE and DELETE. ``run_id`` has no foreign key: the trail outlives deleted runs.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    tenant: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class LeaseRow(Base):
    """A named lease, e.g. ``scheduler``: who leads until when (``leases``)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime]


class ScheduleStateRow(Base):
    """What the orchestrators remember of a schedule (``schedule_state``)."""

    __tablename__ = "schedule_state"

    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    paused: Mapped[bool] = mapped_column(Boolean, server_default="0")
    last_fire_at: Mapped[datetime | None]


class RobotRow(Base):
    """A robot (``robots``): a stable name, and the process (instance) registered under it.

    ``instance`` holds the leases of the robot's runs; a new process under the same name gets
    a new instance (migration 0004).
    """

    __tablename__ = "robots"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    tenants: Mapped[list[str]]
    labels: Mapped[list[str]]
    concurrency: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    stopped_at: Mapped[datetime | None]
    instance: Mapped[str | None] = mapped_column(String(255))


class QueueRow(Base):
    """A work queue of a tenant and its policy (``queues``, migration 0005).

    ``next_on_success`` / ``next_on_failure`` name queues of the same tenant that receive an
    item's output (its payload, when it failed) as a new item under the same reference.
    """

    __tablename__ = "queues"
    __table_args__ = (UniqueConstraint("tenant", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    max_attempts: Mapped[int] = mapped_column(Integer)
    retry_delay_s: Mapped[float] = mapped_column(Float)
    backoff: Mapped[float] = mapped_column(Float)
    payload_schema: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    sla_s: Mapped[float | None] = mapped_column(Float)
    retention_days: Mapped[int] = mapped_column(Integer, server_default="365")
    next_on_success: Mapped[str | None] = mapped_column(String(128))
    next_on_failure: Mapped[str | None] = mapped_column(String(128))
    approval_required: Mapped[bool] = mapped_column(Boolean, server_default="0")
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(255))


class WorkItemRow(Base):
    """One case of a work queue (``work_items``, migration 0005).

    ``reference`` is unique per queue and stays for the queue's life; a purge empties
    ``payload`` and ``output`` (SQL NULL) and sets ``purged_at``. ``tenant`` repeats the
    queue's, for the guarded move and its audit entries. ``attempts`` counts the times a
    robot took the item.
    """

    __tablename__ = "work_items"
    __table_args__ = (
        UniqueConstraint("queue_id", "reference"),
        # Claiming: the queue's new and retrying items, highest priority first, then oldest.
        Index("ix_work_items_queue_id_status_priority_id", "queue_id", "status", "priority", "id"),
        # Reaping: items in progress whose lease ran out.
        Index("ix_work_items_status_lease_expires_at", "status", "lease_expires_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"))
    tenant: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    output: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    priority: Mapped[int] = mapped_column(Integer, server_default="0")
    postpone_until: Mapped[datetime | None]
    deadline: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(24))
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    last_error_kind: Mapped[str | None] = mapped_column(String(16))
    last_error: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[list[str]] = mapped_column(server_default="[]")
    holder: Mapped[str | None] = mapped_column(String(255))
    lease_expires_at: Mapped[datetime | None]
    not_before: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(255))
    approved_by: Mapped[str | None] = mapped_column(String(255))
    purged_at: Mapped[datetime | None]


class WorkItemRunRow(Base):
    """A run that touched a work item, once per attempt (``work_item_runs``, migration 0005).

    ``outcome`` is the item's status the run left it in (empty while the run works on it).
    ``run_id`` has no foreign key: the item's history outlives deleted runs.
    """

    __tablename__ = "work_item_runs"
    __table_args__ = (UniqueConstraint("item_id", "run_id", "attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(24))
    at: Mapped[datetime]


class UserRow(Base):
    """A person with roles in a tenant and a personal token (``users``, migration 0006).

    ``tenant`` is ``*`` for a user of every tenant (the installation's own administrators).
    ``roles`` is a JSON list of role names. Only the token's argon2 hash is stored;
    ``token_prefix`` (its first characters) finds the candidate rows without a full scan.
    """

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("tenant", "name"),
        Index("ix_users_token_prefix", "token_prefix"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    roles: Mapped[list[str]]
    token_hash: Mapped[str] = mapped_column(String(255))
    token_prefix: Mapped[str] = mapped_column(String(16))
    disabled: Mapped[bool] = mapped_column(Boolean, server_default="0")
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(255))
    last_used_at: Mapped[datetime | None]


# The tables themselves, for Core statements in the hot paths (no ORM objects loaded).
RUNS = Base.metadata.tables["runs"]
STEPS = Base.metadata.tables["steps"]
ARTIFACTS = Base.metadata.tables["artifacts"]
AUDIT_LOG = Base.metadata.tables["audit_log"]
LEASES = Base.metadata.tables["leases"]
SCHEDULE_STATE = Base.metadata.tables["schedule_state"]
ROBOTS = Base.metadata.tables["robots"]
QUEUES = Base.metadata.tables["queues"]
WORK_ITEMS = Base.metadata.tables["work_items"]
WORK_ITEM_RUNS = Base.metadata.tables["work_item_runs"]
USERS = Base.metadata.tables["users"]

# Reporting (migration 0007): covering indexes, so that the period report and the monthly key
# figures (orchestrator/store/reporting.py) read index ranges, never the wide rows.
Index(
    "ix_runs_tenant_started_at",
    RUNS.c.tenant,
    RUNS.c.started_at,
    RUNS.c.bot_id,
    RUNS.c.status,
    RUNS.c.finished_at,
    RUNS.c.holder,
)
Index(
    "ix_work_item_runs_run_id",
    WORK_ITEM_RUNS.c.run_id,
    WORK_ITEM_RUNS.c.outcome,
    WORK_ITEM_RUNS.c.item_id,
)
Index(
    "ix_work_items_tenant_status_updated_at",
    WORK_ITEMS.c.tenant,
    WORK_ITEMS.c.status,
    WORK_ITEMS.c.updated_at,
)
Index(
    "ix_work_items_tenant_deadline",
    WORK_ITEMS.c.tenant,
    WORK_ITEMS.c.deadline,
    WORK_ITEMS.c.status,
    WORK_ITEMS.c.updated_at,
)


# Notifications (migration 0008): the outbox of messages to deliver.
class NotificationRow(Base):
    """One message to one channel, and its delivery (``notifications``, migration 0008).

    Queued in the transaction-safe outbox, delivered by whoever comes next (the run's own
    process, the orchestrator's leader, `bots notifications deliver`). ``dedupe_key`` makes a
    trigger delivered twice one message; ``subject`` names what it is about (``run:17``,
    ``item:5``, ``robot:r1#4f2a``); ``facts`` is what the message says (pseudonymous
    references and a report link, never payloads or error texts). ``holder`` and
    ``lease_expires_at`` are the claim of the process sending it; ``not_before`` the next
    attempt (``pending``) or the digest's hour (``held``); ``digest_id`` the digest that
    carried a held message.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_dedupe_key", "dedupe_key", unique=True),
        # Delivering: the due pending (and held) messages, oldest first.
        Index("ix_notifications_status_not_before", "status", "not_before"),
        # Whether an event about something was notified already (SLA breaches, robots).
        Index("ix_notifications_event_subject", "event", "subject"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(128))
    dedupe_key: Mapped[str] = mapped_column(String(255))
    lang: Mapped[str] = mapped_column(String(8))
    facts: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    not_before: Mapped[datetime | None]
    holder: Mapped[str | None] = mapped_column(String(255))
    lease_expires_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    digest_id: Mapped[int | None] = mapped_column(Integer)


NOTIFICATIONS = Base.metadata.tables["notifications"]
