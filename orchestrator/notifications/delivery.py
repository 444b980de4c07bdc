"""Delivering the outbox: claim a message, send it, mark it sent, or retry it later.

Whoever comes next delivers: the process whose run queued a message tries it at once
(:func:`deliver` with its ids), the orchestrator's leader every ``deliver_every_s``
(:func:`notification_pass`, which also looks for SLA breaches and lost robots and puts
together the daily digests), ``bots run`` at its end and ``bots notifications deliver`` from
cron. A message is claimed under a lease, one at a time, so two deliverers never send it
both; a failed attempt makes it pending again after a backoff (``retry_after_s``, doubling,
at most ``retry_max_s``) until ``max_attempts`` are used up. Once a channel failed in a
pass, the pass leaves that channel's other messages for the next one: a mail server that is
down costs one timeout per pass, not one per message. Example::

    done = deliver(store, settings, secrets=tenant_secrets, holder=deliverer("cron"))
    done.sent, done.failed   # ids sent; (id, why) not sent this time
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import structlog

from orchestrator.errors import BotsError, ConfigError
from orchestrator.notifications.channels import SecretsFor, send
from orchestrator.notifications.messages import Message, compose
from orchestrator.notifications.watch import queue_robots_gone, queue_sla_breaches
from orchestrator.results import iso_or_none
from orchestrator.settings import NotificationSettings, Settings
from orchestrator.store import NewNotification, NotificationRecord, RunStore

#: How long a claimed message is a deliverer's: well beyond the few timeouts one send can
#: take; a deliverer that died leaves its message to others after this.
DELIVERY_LEASE_S = 300.0
#: Messages one pass delivers at most (the rest wait for the next pass).
MAX_PER_PASS = 200


@dataclass
class Delivered:
    """What a delivery pass did: ids sent, and (id, why) of those not sent this time."""

    sent: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)


def deliverer(role: str) -> str:
    """A deliverer's name for claims and the audit trail:
    ``notify-<role>:<host>:<pid>:<thread>``."""
    return f"notify-{role}:{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def render(message: NotificationRecord, zone: ZoneInfo) -> Message:
    """The queued ``message`` as sent; the webhook JSON also names it and when it arose."""
    composed = compose(message.event, message.tenant, message.lang, message.facts, zone=zone)
    data = {**composed.data, "notification": message.id}
    data["created_at"] = iso_or_none(message.created_at)
    return Message(subject=composed.subject, text=composed.text, data=data)


def backoff_s(config: NotificationSettings, attempts: int) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones."""
    return min(config.retry_after_s * 2 ** max(attempts - 1, 0), config.retry_max_s)


def deliver(
    store: RunStore,
    settings: Settings,
    *,
    secrets: SecretsFor,
    holder: str,
    ids: Collection[int] | None = None,
    due_only: bool = True,
    limit: int = MAX_PER_PASS,
) -> Delivered:
    """Send pending messages (only ``ids``, if given), oldest first; see the module docstring.

    ``due_only`` False also sends messages still waiting out their backoff (an operator who
    knows the server is back). Database errors propagate: nothing was lost, the next pass
    goes on.
    """
    zone = ZoneInfo(settings.orchestrator.timezone)
    down: set[tuple[str, str]] = set()
    done = Delivered()
    for _ in range(limit):
        claimed = store.notifications.claim(
            holder=holder, lease_s=DELIVERY_LEASE_S, ids=ids, skip=down, due_only=due_only
        )
        if not claimed:
            break
        message = claimed[0]
        why = _send(message, settings, secrets, zone)
        if why is None:
            _mark_sent(store, message, holder)
            done.sent.append(message.id)
            continue
        down.add((message.tenant, message.channel))
        done.failed.append((message.id, why))
        _retry_later(store, settings.notifications_for(message.tenant), message, holder, why)
    return done


def _send(
    message: NotificationRecord, settings: Settings, secrets: SecretsFor, zone: ZoneInfo
) -> str | None:
    """Send ``message`` on its channel; None if delivered, else why not."""
    channel = settings.notifications_for(message.tenant).channels.get(message.channel)
    try:
        if channel is None:
            raise ConfigError(
                f"tenant {message.tenant!r} has no notification channel {message.channel!r} "
                "any more"
            )
        send(channel, render(message, zone), secrets(message.tenant))
    except BotsError as exc:
        return str(exc)
    return None


def _mark_sent(store: RunStore, message: NotificationRecord, holder: str) -> None:
    try:
        store.notifications.mark_sent(message.id, holder=holder)
    except BotsError as exc:  # the claim ran out meanwhile: said once in the log
        structlog.get_logger(__name__).error(
            "notification sent, but its claim was lost", notification=message.id, error=str(exc)
        )


def _retry_later(
    store: RunStore,
    config: NotificationSettings,
    message: NotificationRecord,
    holder: str,
    why: str,
) -> None:
    gone = message.channel not in config.channels
    give_up = gone or message.attempts >= config.max_attempts
    retry_at = None
    if not give_up:
        retry_at = datetime.now(UTC) + timedelta(seconds=backoff_s(config, message.attempts))
    store.notifications.delivery_failed(message.id, holder=holder, error=why, retry_at=retry_at)
    structlog.get_logger(__name__).warning(
        "notification not delivered",
        notification=message.id,
        tenant=message.tenant,
        channel=message.channel,
        attempt=message.attempts,
        error=why,
        retry_at=iso_or_none(retry_at),
    )


def assemble_digests(store: RunStore, settings: Settings, *, now: datetime, actor: str) -> int:
    """Turn the held messages whose digest is due into one digest per tenant, channel and
    language (a new pending message); returns how many digests were queued."""
    zone = ZoneInfo(settings.orchestrator.timezone)
    groups: dict[tuple[str, str, str], list[NotificationRecord]] = {}
    for message in store.notifications.due_held(now=now):
        groups.setdefault((message.tenant, message.channel, message.lang), []).append(message)
    queued = 0
    for (tenant, channel, lang), entries in groups.items():
        first = entries[0].id
        facts = {
            "date": now.astimezone(zone).date().isoformat(),
            "entries": [
                {"event": entry.event, "subject": entry.subject, "facts": entry.facts}
                for entry in entries
            ],
        }
        digest = NewNotification(
            tenant=tenant,
            event="digest",
            subject=f"digest:{first}",
            channel=channel,
            dedupe_key=f"{tenant}:digest:{first}:{channel}",
            lang=lang,
            facts=facts,
        )
        if store.notifications.digest([entry.id for entry in entries], digest, actor=actor):
            queued += 1
    return queued


def configured(settings: Settings) -> bool:
    """Whether any tenant the configuration knows has notification rules."""
    return any(settings.notifications_for(tenant).rules for tenant in settings.all_tenants())


def deliver_pending(
    store: RunStore,
    settings: Settings,
    *,
    secrets: SecretsFor,
    holder: str,
    due_only: bool = True,
) -> Delivered:
    """Put due digests together and deliver what is pending (`bots run` at its end)."""
    if not configured(settings):
        return Delivered()
    assemble_digests(store, settings, now=datetime.now(UTC), actor=holder)
    return deliver(store, settings, secrets=secrets, holder=holder, due_only=due_only)


def notification_pass(
    store: RunStore,
    settings: Settings,
    *,
    secrets: SecretsFor,
    holder: str,
    due_only: bool = True,
) -> Delivered:
    """One round of the orchestrator's leader (and `bots notifications deliver`): queue SLA
    breaches and lost robots not notified yet, put due digests together, deliver."""
    if not configured(settings):
        return Delivered()
    now = datetime.now(UTC)
    queue_sla_breaches(store, settings, now=now, actor=holder)
    queue_robots_gone(store, settings, now=now, actor=holder)
    return deliver_pending(store, settings, secrets=secrets, holder=holder, due_only=due_only)


def try_channels(
    store: RunStore,
    settings: Settings,
    tenant: str,
    *,
    secrets: SecretsFor,
    actor: str,
    only: str | None = None,
) -> dict[str, str | None]:
    """Send a test message on each of ``tenant``'s channels (or channel ``only``) now,
    past the outbox; each try is audited (``notification test``, without the text).

    Returns channel name -> None if delivered, else why not.

    Raises:
        ConfigError: the tenant has no channels, or none named ``only``.
    """
    config = settings.notifications_for(tenant)
    channels = dict(sorted(config.channels.items()))
    if only is not None:
        if only not in channels:
            known = ", ".join(channels) or "none"
            raise ConfigError(f"tenant {tenant!r} has no notification channel {only!r} ({known})")
        channels = {only: channels[only]}
    if not channels:
        raise ConfigError(
            f"tenant {tenant!r} has no notification channels: configure notifications.channels "
            "(see docs/notifications.md)"
        )
    zone = ZoneInfo(settings.orchestrator.timezone)
    outcome: dict[str, str | None] = {}
    for name, channel in channels.items():
        message = compose("test", tenant, config.lang, {"channel": name}, zone=zone)
        try:
            send(channel, message, secrets(tenant))
            outcome[name] = None
        except BotsError as exc:
            outcome[name] = str(exc)
        data = {"channel": name, "kind": channel.kind, "error": outcome[name]}
        store.audit("notification test", tenant=tenant, actor=actor, data=data)
    return outcome
