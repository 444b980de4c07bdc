"""The tables of runs: ``runs``, their ``steps`` and ``artifacts`` (migrations 0001, 0002, 0004,
0007, 0009), on the store's one metadata (:mod:`orchestrator.store.tables`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from orchestrator.store.tables import Base


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


# The tables themselves, for Core statements in the hot paths (no ORM objects loaded).
RUNS = Base.metadata.tables["runs"]
STEPS = Base.metadata.tables["steps"]
ARTIFACTS = Base.metadata.tables["artifacts"]

# Reporting (migration 0007): a covering index, so that the period report and the monthly key
# figures (orchestrator/store/reporting/) read index ranges, never the wide rows.
Index(
    "ix_runs_tenant_started_at",
    RUNS.c.tenant,
    RUNS.c.started_at,
    RUNS.c.bot_id,
    RUNS.c.status,
    RUNS.c.finished_at,
    RUNS.c.holder,
)
