"""The store's one metadata: the declarative base every aggregate's tables are defined on.

Each aggregate package defines its own tables on :class:`Base` (``runs/tables.py``,
``work/tables.py``, ...); importing :mod:`orchestrator.store` imports them all, so
``Base.metadata`` holds every table (Alembic's ``env.py`` compares it with the migrations).
The schema itself is created and changed only by the Alembic migrations in
:mod:`orchestrator.store.migrations`; the tables must match them (a test compares the two).
Only portable types are used, so the same classes serve SQLite and PostgreSQL:

* times are timezone-aware UTC :class:`~datetime.datetime` values (:class:`UTCDateTime`),
* parameters, payloads and facts are ``JSON`` columns,
* statuses and kinds are short strings holding the values of the enums in
  :mod:`orchestrator.results` and :mod:`orchestrator.states` (no database enum types, so new
  values need no migration),
* lists of names (labels, pools, tenants) are ``JSON`` arrays.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    MetaData,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase

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


def aware(value: datetime, what: str) -> datetime:
    """``value`` if it is timezone-aware.

    Raises:
        ValueError: it is naive (its meaning would depend on the machine's clock).
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {value.isoformat()}")
    return value


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
