"""The outbox of e-mail and webhook messages: list it, deliver what is due, test channels."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.services.access import Permission
from orchestrator.services.context import Context
from orchestrator.states import NotificationStatus
from orchestrator.store import NotificationRecord

if TYPE_CHECKING:
    from orchestrator.notifications.delivery import Delivered


def list_notifications(
    ctx: Context, *, status: NotificationStatus | None, limit: int, tenant: str | None
) -> list[NotificationRecord]:
    """Notifications, newest first: of ``tenant``, else of the actor's own, else of every
    tenant (for whom may see them all)."""
    where = ctx.on_tenants(Permission.LIST_NOTIFICATIONS, tenant)
    return ctx.store.notifications.list_notifications(tenant=where, status=status, limit=limit)


def deliver_notifications(ctx: Context, *, due_only: bool) -> Delivered:
    """Send what is pending (``due_only``: not what waits out its backoff), after queueing
    SLA breaches, robots gone silent and due digests (for cron where no orchestrator runs)."""
    from orchestrator.engine.run_end import tenant_secrets
    from orchestrator.notifications import deliverer, notification_pass

    ctx.allowed(Permission.DELIVER_NOTIFICATIONS)
    return notification_pass(
        ctx.store,
        ctx.settings,
        secrets=tenant_secrets,
        holder=deliverer("cli"),
        due_only=due_only,
    )


def send_test_messages(ctx: Context, tenant: str | None, only: str | None) -> dict[str, str | None]:
    """Send a test message on each channel of the tenant (``only``: that one); channel ->
    None if sent, else why not."""
    from orchestrator.engine.run_end import tenant_secrets
    from orchestrator.notifications import try_channels

    where = ctx.on_tenant(Permission.TEST_NOTIFICATIONS, tenant)
    return try_channels(
        ctx.store, ctx.settings, where, secrets=tenant_secrets, actor=ctx.actor.actor, only=only
    )
