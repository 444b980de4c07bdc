"""From an event to the messages its tenant's rules ask for, ready to queue.

An :class:`Event` is something that happened (a run failed for good, a run left cases for a
person, a case passed its deadline, a robot stopped answering) with the facts a message may
tell: pseudonymous references and a report link only. :func:`messages_for` applies the
tenant's rules (``settings.notifications_for(tenant)``): which events, which bots, after how
many failures in a row, at once or in the daily digest, in which language, to which
channels. One message per channel, whatever number of rules name it; its key makes the same
event one message however often it is noticed. Example::

    event = Event("giessen", "run_failed", "run:17", facts, bot="gewerbe-uebertragung")
    store.notifications.queue(messages_for(settings, event, now=now), actor="robot-1")
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from orchestrator.settings import NotificationRule, NotificationSettings, Settings
from orchestrator.store import NewNotification


@dataclass(frozen=True)
class Event:
    """Something to tell: its kind (``run_failed`` ...), whose, about what, and the facts.

    ``bot`` is the bot of a run event (None for ``sla_breach`` and ``robot_gone``);
    ``failures`` the failed runs in a row a ``run_failed`` ends (see ``after_failures``).
    """

    tenant: str
    kind: str
    subject: str
    facts: dict[str, Any]
    bot: str | None = None
    failures: int = 1


def messages_for(settings: Settings, event: Event, *, now: datetime) -> list[NewNotification]:
    """The messages ``event`` calls for under its tenant's rules (none if no rule fits)."""
    config = settings.notifications_for(event.tenant)
    zone = ZoneInfo(settings.orchestrator.timezone)
    messages: dict[str, NewNotification] = {}
    for rule in config.rules:
        if not applies(rule, event):
            continue
        held_until = next_digest(now, config.digest_hour, zone) if rule.digest else None
        for channel in rule.channels:
            key = f"{event.tenant}:{event.kind}:{event.subject}:{channel}"
            messages.setdefault(
                key,
                NewNotification(
                    tenant=event.tenant,
                    event=event.kind,
                    subject=event.subject,
                    channel=channel,
                    dedupe_key=key,
                    lang=rule.lang or config.lang,
                    facts=event.facts,
                    held_until=held_until,
                ),
            )
    return list(messages.values())


def applies(rule: NotificationRule, event: Event) -> bool:
    """Whether ``rule`` asks for a message about ``event``."""
    if event.kind not in rule.events:
        return False
    if rule.bots is not None and event.bot not in rule.bots:
        return False
    return event.kind != "run_failed" or event.failures >= rule.after_failures


def wanted(config: NotificationSettings, kind: str) -> bool:
    """Whether any rule of ``config`` asks for events of ``kind`` (else nothing is looked up)."""
    return any(kind in rule.events for rule in config.rules)


def failures_window(config: NotificationSettings, max_attempts: int) -> int:
    """How many runs to look back to count failures in a row for ``after_failures``."""
    longest = max((rule.after_failures for rule in config.rules), default=1)
    return longest * max(max_attempts, 1) + 10


def next_digest(now: datetime, hour: int, zone: ZoneInfo) -> datetime:
    """The first ``hour`` o'clock in ``zone`` after ``now``, in UTC: when a held message's
    daily digest goes out.

    Example: at 06:30 with hour 7, today 07:00; at 07:00 or later, tomorrow 07:00.
    """
    local = now.astimezone(zone)
    due = datetime.combine(local.date(), datetime.min.time().replace(hour=hour), tzinfo=zone)
    if due <= local:
        tomorrow = local.date() + timedelta(days=1)
        due = datetime.combine(tomorrow, datetime.min.time().replace(hour=hour), tzinfo=zone)
    return due.astimezone(UTC)
