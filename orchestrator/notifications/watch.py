"""Events nobody reports by themselves: cases past their deadline, robots that went silent.

The orchestrator's leader looks for them on every notification pass
(:func:`~orchestrator.notifications.delivery.notification_pass`); each is notified once:
a case by its id (``item:5``), a robot by its process (``robot:robot-1#4f2a``), so a robot
restarted and lost again is news again. Example::

    queue_sla_breaches(store, settings, now=datetime.now(UTC), actor="notify-leader:...")

A robot is gone when it did not stop cleanly and its heartbeat is older than the run lease
(``orchestrator.lease_s``), the rule by which its runs are handed back; robots silent for
longer than :data:`ROBOT_SILENCE_NOTED` are not news any more.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from orchestrator.notifications.events import Event, messages_for, wanted
from orchestrator.results import iso_or_none
from orchestrator.settings import Settings
from orchestrator.store import NewNotification, RobotRecord, RunStore

#: A robot silent for longer than this when first seen is an old story, not a notification.
ROBOT_SILENCE_NOTED = timedelta(days=1)


def queue_sla_breaches(store: RunStore, settings: Settings, *, now: datetime, actor: str) -> int:
    """Queue one ``sla_breach`` per case still open past its deadline (of the tenants the
    configuration knows whose rules ask for it); returns how many messages were queued."""
    tenants = [
        tenant
        for tenant in settings.all_tenants()
        if wanted(settings.notifications_for(tenant), "sla_breach")
    ]
    messages: list[NewNotification] = []
    for item in store.notifications.breached_items(tenants, now=now):
        facts = {
            "item_id": item.id,
            "queue": item.queue,
            "reference": item.reference,
            "item_status": item.status,
            "deadline": iso_or_none(item.deadline),
        }
        event = Event(item.tenant, "sla_breach", f"item:{item.id}", facts)
        messages += messages_for(settings, event, now=now)
    return len(store.notifications.queue(messages, actor=actor))


def gone_robots(robots: list[RobotRecord], *, lease_s: float, now: datetime) -> list[RobotRecord]:
    """The robots of ``robots`` that went silent without stopping, recently enough to tell."""
    return [
        robot
        for robot in robots
        if robot.stopped_at is None
        and timedelta(seconds=lease_s) <= now - robot.heartbeat_at < ROBOT_SILENCE_NOTED
    ]


def queue_robots_gone(store: RunStore, settings: Settings, *, now: datetime, actor: str) -> int:
    """Queue one ``robot_gone`` per robot process gone silent, for each tenant it served
    whose rules ask for it; returns how many messages were queued."""
    lease_s = settings.orchestrator.lease_s
    gone = {
        f"robot:{robot.instance or robot.name}": robot
        for robot in gone_robots(store.list_robots(), lease_s=lease_s, now=now)
    }
    known = store.notifications.notified("robot_gone", gone)
    messages: list[NewNotification] = []
    for subject, robot in gone.items():
        if subject in known:
            continue
        facts = {
            "robot": robot.name,
            "instance": robot.instance,
            "host": robot.host,
            "heartbeat_at": iso_or_none(robot.heartbeat_at),
        }
        for tenant in robot.tenants:
            messages += messages_for(settings, Event(tenant, "robot_gone", subject, facts), now=now)
    return len(store.notifications.queue(messages, actor=actor))
