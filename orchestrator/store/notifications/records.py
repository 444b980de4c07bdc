"""Notifications as the outbox holds them: their states, what a caller queues, what it reads.

A message moves through :data:`orchestrator.states.NOTIFICATION_MACHINE`:
``held`` messages wait for their rule's daily digest; every other message starts
``pending``. Only a deliverer holding the claim (``sending``, with a lease) marks a message
``sent``, so two deliverers never both send it. Example::

    store.notifications.queue([NewNotification("giessen", "run_failed", "run:17",
                                                "ordnungsamt", "run_failed:run:17:ordnungsamt",
                                                "de", {"run_id": 17})], actor="robot-1")
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row

from orchestrator.errors import InputError
from orchestrator.results import iso_or_none
from orchestrator.states import NOTIFICATION_MACHINE, NotificationStatus
from orchestrator.store.leased_work import LeasedWork
from orchestrator.store.lifecycle import StatusTable
from orchestrator.store.notifications.tables import NOTIFICATIONS


@dataclass(frozen=True)
class NewNotification:
    """A message to queue for one channel.

    Args:
        tenant: Whose event it is.
        event: ``run_failed``, ``needs_human``, ``sla_breach``, ``robot_gone``, ``test`` or
            ``digest``.
        subject: What it is about: ``run:17``, ``item:5``, ``robot:r1#4f2a``.
        channel: The channel's name in the tenant's notification settings.
        dedupe_key: Unique per message: queuing the same key again adds nothing.
        lang: ``de`` or ``en``.
        facts: What the message says (JSON-ready; pseudonymous references only).
        held_until: Set for a digest rule: the message waits, ``held``, until the digest
            that goes out at this time.
    """

    tenant: str
    event: str
    subject: str
    channel: str
    dedupe_key: str
    lang: str
    facts: dict[str, Any]
    held_until: datetime | None = None


@dataclass(frozen=True)
class NotificationRecord:
    """A message in the outbox, with its delivery so far."""

    id: int
    tenant: str
    event: str
    subject: str
    channel: str
    dedupe_key: str
    lang: str
    facts: dict[str, Any]
    status: NotificationStatus
    attempts: int
    not_before: datetime | None
    holder: str | None
    lease_expires_at: datetime | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    digest_id: int | None

    @classmethod
    def from_row(cls, row: Row[Any]) -> NotificationRecord:
        """From a row of ``notifications``."""
        values = dict(row._mapping)
        values["status"] = NotificationStatus(values["status"])
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        """The message as JSON-ready data (the shape `bots notifications list --json` prints);
        its ``facts`` are what it says, nothing more."""
        return {
            "id": self.id,
            "tenant": self.tenant,
            "event": self.event,
            "subject": self.subject,
            "channel": self.channel,
            "lang": self.lang,
            "status": str(self.status),
            "attempts": self.attempts,
            "not_before": iso_or_none(self.not_before),
            "last_error": self.last_error,
            "created_at": iso_or_none(self.created_at),
            "sent_at": iso_or_none(self.sent_at),
            "digest_id": self.digest_id,
            "facts": self.facts,
        }


@dataclass(frozen=True)
class BreachedItem:
    """A case still open past its deadline, not notified yet."""

    id: int
    tenant: str
    queue: str
    reference: str
    status: str
    deadline: datetime


@dataclass(frozen=True)
class NotificationSnapshot:
    """The columns of a message that moves and their audit entries need."""

    id: int
    tenant: str
    status: NotificationStatus
    holder: str | None
    event: str
    subject: str
    channel: str
    attempts: int


def _not_found(notification_id: int, tenant: str | None = None) -> InputError:
    scope = f" of tenant {tenant!r}" if tenant is not None else ""
    return InputError(f"there is no notification with id {notification_id}{scope}.")


def _describe(message: NotificationSnapshot) -> dict[str, Any]:
    # Never the facts: the audit trail outlives every message and cannot be purged.
    return {
        "notification": message.id,
        "event": message.event,
        "subject": message.subject,
        "channel": message.channel,
        "attempts": message.attempts,
    }


NOTIFICATION_STATUS: StatusTable[NotificationSnapshot] = StatusTable(
    machine=NOTIFICATION_MACHINE,
    table=NOTIFICATIONS,
    snapshot=NotificationSnapshot,
    describe=_describe,
    not_found=_not_found,
    action_prefix="notification ",
)

#: Messages as leased work: deliverers claim pending messages past their backoff, oldest
#: first; a claim counts an attempt.
NOTIFICATION_WORK: LeasedWork[NotificationSnapshot] = LeasedWork(
    NOTIFICATION_STATUS,
    waiting=(NotificationStatus.PENDING,),
    claimed=NotificationStatus.SENDING,
    held=(NotificationStatus.SENDING,),
    attempts="attempts",
)
