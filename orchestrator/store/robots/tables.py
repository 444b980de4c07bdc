"""The table of robots: ``robots`` (migration 0004)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.store.tables import Base


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


ROBOTS = Base.metadata.tables["robots"]
