"""Work queues and their items: create, sync, list, add, retry, resolve, approve, purge.

Each operation authorises once (:class:`~orchestrator.services.context.Context`) on the tenant
of the one tenant rule, whose queues and items alone exist for the actor, and is audited
under the actor. Four eyes: approving needs :attr:`Permission.APPROVE_ITEM`, and the store
refuses an item's creator or last editor whatever the roles. Example::

    with open_context(settings, token) as ctx:
        item = resolve_item(ctx, 7, "retry", "address corrected", tenant=None)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from orchestrator.queue_files import declared_policy
from orchestrator.services.access import Permission
from orchestrator.services.context import Context
from orchestrator.states import WorkItemStatus
from orchestrator.store import (
    POLICY_DEFAULTS,
    AddResult,
    ItemRow,
    QueueRecord,
    SyncResult,
    WorkItemRecord,
)

#: A setting's value that clears it in :func:`create_queue` with ``update``.
CLEARED = "none"


def create_queue(
    ctx: Context,
    name: str,
    given: Mapping[str, Any],
    *,
    update: bool,
    tenant: str | None,
) -> QueueRecord:
    """Create a queue, or with ``update`` change one: each setting of ``given``
    (``max_attempts``, ``retry_delay_s``, ``backoff``, ``schema``, ``sla_s``,
    ``retention_days``, ``next_on_success``, ``next_on_failure``, ``approval_required``)
    that is None keeps the queue's value (the defaults for a new queue); :data:`CLEARED`
    clears it.

    Raises:
        NotAllowed: the actor may not create queues there.
        QueueNotFound: ``update`` and the tenant has no such queue.
    """
    where = ctx.on_tenant(Permission.CREATE_QUEUE, tenant)
    if update:
        base = ctx.store.queues.get_queue(where, name).to_json()
    else:
        base = {**POLICY_DEFAULTS, "schema": POLICY_DEFAULTS["payload_schema"]}
    policy = {key: base[key] if value is None else value for key, value in given.items()}
    cleared: dict[str, Any] = {k: None if v == CLEARED else v for k, v in policy.items()}
    return ctx.store.queues.create_queue(
        where, name, **cleared, actor=ctx.actor.actor, update=update
    )


def sync_queues(ctx: Context, tenant: str | None) -> tuple[str, list[SyncResult]]:
    """Create or change the tenant's queues as the configuration declares them, in one
    transaction; returns the tenant and one result per declared queue (none declared: [])."""
    where = ctx.on_tenant(Permission.SYNC_QUEUES, tenant)
    declared = ctx.settings.queues_for(where)
    if not declared:
        return where, []
    policies = {name: declared_policy(queue) for name, queue in declared.items()}
    return where, ctx.store.queues.sync(where, policies, actor=ctx.actor.actor)


def list_queues(ctx: Context, tenant: str | None) -> list[QueueRecord]:
    """The tenant's queues with their items counted per status."""
    return ctx.store.queues.list_queues(ctx.on_tenant(Permission.LIST_QUEUES, tenant))


def get_queue(ctx: Context, name: str, tenant: str | None) -> QueueRecord:
    """One queue of the tenant (QueueNotFound for another tenant's, as for none)."""
    return ctx.store.queues.get_queue(ctx.on_tenant(Permission.SHOW_QUEUE, tenant), name)


def add_items(
    ctx: Context, queue: str, rows: Sequence[ItemRow], *, priority: int, tenant: str | None
) -> list[AddResult]:
    """Add ``rows`` in one transaction (all new ones, or none); known references stay."""
    where = ctx.on_tenant(Permission.ADD_ITEMS, tenant)
    return ctx.store.queues.add_items(where, queue, rows, priority=priority, actor=ctx.actor.actor)


def list_items(
    ctx: Context,
    queue: str,
    *,
    status: Sequence[WorkItemStatus] | None,
    limit: int,
    tenant: str | None,
) -> list[WorkItemRecord]:
    """A queue's items, oldest first, optionally only those in ``status``."""
    where = ctx.on_tenant(Permission.LIST_ITEMS, tenant)
    return ctx.store.queues.list_items(where, queue, status=status or None, limit=limit)


def get_item(ctx: Context, item_id: int, tenant: str | None) -> WorkItemRecord:
    """One item of the tenant with its runs (ItemNotFound for another tenant's)."""
    where = ctx.on_tenant(Permission.SHOW_ITEM, tenant)
    return ctx.store.queues.get_item(item_id, tenant=where)


def retry_item(
    ctx: Context, item_id: int, comment: str | None, tenant: str | None
) -> WorkItemRecord:
    """Queue a done, failed or needs_human item again (attempts reset)."""
    where = ctx.on_tenant(Permission.RETRY_ITEM, tenant)
    return ctx.store.queues.retry_item(
        item_id, actor=ctx.actor.actor, tenant=where, comment=comment
    )


def resolve_item(
    ctx: Context,
    item_id: int,
    action: Literal["retry", "done", "abandon"],
    comment: str,
    tenant: str | None,
) -> WorkItemRecord:
    """Settle an item a person looked at: give it back to the robots, done, or abandon."""
    where = ctx.on_tenant(Permission.RESOLVE_ITEM, tenant)
    return ctx.store.queues.resolve_item(
        item_id, action=action, comment=comment, actor=ctx.actor.actor, tenant=where
    )


def approve_item(
    ctx: Context, item_id: int, comment: str | None, tenant: str | None
) -> WorkItemRecord:
    """Approve an item awaiting approval (four eyes: an approver, not who created or last
    changed it)."""
    where = ctx.on_tenant(Permission.APPROVE_ITEM, tenant)
    return ctx.store.queues.approve_item(
        item_id, actor=ctx.actor.actor, tenant=where, comment=comment
    )


def purge_payloads(ctx: Context, *, dry_run: bool, tenant: str | None) -> list[int]:
    """Delete payload and output of items past their queue's retention; their ids."""
    where = ctx.on_tenant(Permission.PURGE_PAYLOADS, tenant)
    return ctx.store.queues.purge(where, dry_run=dry_run, actor=ctx.actor.actor)
