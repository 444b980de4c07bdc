"""The table of the notification outbox: ``notifications`` (migration 0008)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.store.tables import Base


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
