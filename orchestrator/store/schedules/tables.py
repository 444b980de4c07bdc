"""The tables the orchestrators share: leader ``leases`` and ``schedule_state``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.store.tables import Base


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


LEASES = Base.metadata.tables["leases"]
SCHEDULE_STATE = Base.metadata.tables["schedule_state"]
