"""The run history tables as typed SQLAlchemy declarative classes.

The schema itself is created and changed only by the Alembic migrations in
:mod:`orchestrator.store.migrations`; these classes must match them (a test compares the two).
Only portable types are used, so the same classes serve SQLite and PostgreSQL:

* times are timezone-aware UTC :class:`~datetime.datetime` values (:class:`UTCDateTime`),
* run parameters are a ``JSON`` column,
* statuses and kinds are short strings holding the values of the enums in
  :mod:`orchestrator.results` (no database enum types, so new values need no migration).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
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
    }


class RunRow(Base):
    """One run of one bot (``runs``)."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_tenant_bot_id_started_at", "tenant", "bot_id", "started_at"),
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
    """A file kept for a run (``artifacts``), with its sha256 and size."""

    __tablename__ = "artifacts"
    __table_args__ = (Index("ix_artifacts_run_id", "run_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    step_path: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
