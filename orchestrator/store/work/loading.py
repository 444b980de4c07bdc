"""Work queues loaded in bulk: many items in one transaction, declared queues made so.

The functions take the caller's transaction; :class:`~.repository.WorkQueueRepository` (the
store's ``queues``) wraps them as ``add_items`` and ``sync``. Example::

    with transactions.change() as tx:
        results = add_rows(tx, "giessen", "gewerbe", rows, actor="user:alice")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from sqlalchemy import Connection

from orchestrator.errors import PayloadInvalid, QueueNotFound
from orchestrator.store.lifecycle import WriteTransaction
from orchestrator.store.work.moves import (
    by_reference,
    check_payload,
    insert_item,
    queue_by_name,
)
from orchestrator.store.work.queues import POLICY_DEFAULTS, save_queue
from orchestrator.store.work.records import AddResult

#: Row problems named in a refusal at most; the rest are counted.
MAX_PROBLEMS = 20
_ROUTES = ("next_on_success", "next_on_failure")


class ItemRow(Protocol):
    """One item to add: where it came from (``row 3``), its reference and its payload
    (``orchestrator.queue_files.Row`` is one)."""

    @property
    def where(self) -> str: ...
    @property
    def reference(self) -> str: ...
    @property
    def payload(self) -> Any: ...


@dataclass(frozen=True)
class SyncResult:
    """What ``sync`` did to one declared queue: ``created``, ``changed`` (with the policy
    keys that changed) or ``unchanged``."""

    name: str
    action: Literal["created", "changed", "unchanged"]
    changes: tuple[str, ...] = ()

    def __str__(self) -> str:
        """``created``, ``changed (max_attempts, sla_s)`` or ``unchanged``."""
        return f"changed ({', '.join(self.changes)})" if self.action == "changed" else self.action


def add_rows(
    tx: WriteTransaction,
    tenant: str,
    queue: str,
    rows: Sequence[ItemRow],
    *,
    actor: str,
    priority: int = 0,
) -> list[AddResult]:
    """Add ``rows`` to ``queue`` in the caller's transaction after checking every new row's
    payload; see ``WorkQueueRepository.add_items``.

    Raises:
        QueueNotFound: the tenant has no such queue.
        PayloadInvalid: rows do not fit the schema; the message names each row and field.
    """
    found = queue_by_name(tx.connection, tenant, queue)
    problems = []
    for row in rows:
        if by_reference(tx.connection, found.id, row.reference) is None:
            try:
                check_payload(found, row.reference, row.payload)
            except PayloadInvalid as exc:
                problems.append(f"{row.where}: {exc}")
    if problems:
        shown = problems[:MAX_PROBLEMS]
        more = len(problems) - len(shown)
        tail = [f"... and {more} more"] if more else []
        raise PayloadInvalid("nothing was added:\n  " + "\n  ".join(shown + tail))
    return [
        AddResult(
            *insert_item(tx, found, row.reference, row.payload, actor=actor, priority=priority)
        )
        for row in rows
    ]


def sync_queues(
    tx: WriteTransaction,
    tenant: str,
    policies: Mapping[str, Mapping[str, Any]],
    *,
    actor: str,
) -> list[SyncResult]:
    """Give the queues of ``tenant`` named in ``policies`` those policies, in the caller's
    transaction; see ``WorkQueueRepository.sync``.

    Raises:
        QueueNotFound: a ``next_on_*`` queue is neither declared nor stored.
        ConfigError, PayloadInvalid: a policy cannot work (see ``save_queue``).
    """
    before = {name: _stored(tx.connection, tenant, name) for name in policies}
    created = set()
    for name, policy in policies.items():
        if before[name] is None:
            # Routes to queues still to be created are set in the second pass.
            routes = {
                key: None
                for key in _ROUTES
                if policy[key] is not None and _stored(tx.connection, tenant, policy[key]) is None
            }
            save_queue(tx, tenant, name, {**policy, **routes}, actor=actor, update_existing=False)
            created.add(name)
    results = []
    for name, policy in policies.items():
        now = _stored(tx.connection, tenant, name)
        changes: tuple[str, ...] = ()
        if now != policy:
            try:
                save_queue(tx, tenant, name, policy, actor=actor, update_existing=True)
            except QueueNotFound as exc:  # a route to a queue neither declared nor stored
                raise QueueNotFound(f"work queue {name!r} routes to a queue: {exc}") from None
            changes = tuple(key for key in policy if now and now[key] != policy[key])
        if name in created:
            results.append(SyncResult(name, "created"))
        elif now != policy:
            results.append(SyncResult(name, "changed", changes))
        else:
            results.append(SyncResult(name, "unchanged"))
    # The queues created first, as they were created; then the others, as declared.
    return sorted(results, key=lambda result: result.action != "created")


def _stored(connection: Connection, tenant: str, name: str) -> dict[str, Any] | None:
    """The policy of queue ``name`` as stored (``POLICY_DEFAULTS``' keys), or None."""
    try:
        shown = queue_by_name(connection, tenant, name).to_json()
    except QueueNotFound:
        return None
    return {key: shown["schema" if key == "payload_schema" else key] for key in POLICY_DEFAULTS}
