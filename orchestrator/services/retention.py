"""Deletion on time: apply the retention periods (audited), show them.

Both cover the tenant of the one tenant rule, else every tenant the actor may see: all of
them for the OS account and users of tenant ``*``, the user's own otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.services.access import Permission
from orchestrator.services.context import Context

if TYPE_CHECKING:
    from orchestrator.retention import RetentionOutcome


def apply_retention(ctx: Context, *, dry_run: bool, tenant: str | None) -> RetentionOutcome:
    """Delete what has expired, per tenant and kind (``dry_run``: only say what)."""
    from orchestrator.engine.run_end import expire_records

    where = ctx.on_tenants(Permission.APPLY_RETENTION, tenant)
    return expire_records(
        ctx.store, ctx.settings, actor=ctx.actor.actor, tenant=where, dry_run=dry_run
    )


def retention_periods(ctx: Context, tenant: str | None) -> list[dict[str, Any]]:
    """How long each kind of record is kept, per tenant (the configured ones and those with
    work queues, when no one tenant is meant), with each work queue's period."""
    from orchestrator.retention import periods_as_json

    where = ctx.on_tenants(Permission.SHOW_RETENTION, tenant)
    store = ctx.store
    if where:
        tenants = [where]
    else:
        tenants = sorted({*ctx.settings.all_tenants(), *store.retention.queue_tenants()})
    return [
        periods_as_json(
            ctx.settings,
            name,
            {queue.name: queue.retention_days for queue in store.queues.list_queues(name)},
        )
        for name in tenants
    ]
