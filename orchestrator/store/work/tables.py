"""The tables of work queues: ``queues``, ``work_items``, ``work_item_runs`` (migrations 0005,
0007)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.store.tables import Base


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


# The tables themselves, for Core statements in the hot paths (no ORM objects loaded).
QUEUES = Base.metadata.tables["queues"]
WORK_ITEMS = Base.metadata.tables["work_items"]
WORK_ITEM_RUNS = Base.metadata.tables["work_item_runs"]

# Reporting (migration 0007): covering indexes, so that the period report and the monthly key
# figures (orchestrator/store/reporting/) read index ranges, never the wide rows.
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
