"""The table of the audit trail: the append-only, hash-chained ``audit_log`` (migration 0003)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.store.tables import Base


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


AUDIT_LOG = Base.metadata.tables["audit_log"]
