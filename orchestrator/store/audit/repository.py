"""The audit trail as a repository: entries that are not status changes, checks, export.

Status changes write their own entries (:mod:`orchestrator.store.lifecycle`);
:meth:`AuditTrail.audit` is for everything else. The hash chain itself is :mod:`.chain`, its anchors
:mod:`.anchors`. Example::

    trail = AuditTrail(transactions)
    trail.audit("secrets rotated", tenant="giessen", actor="user:alice", data={})
    assert trail.verify_audit().ok
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from orchestrator.store.audit.anchors import Anchor, verify_trail
from orchestrator.store.audit.chain import AuditCheck, AuditEvent, export_entries
from orchestrator.store.audit.tables import AUDIT_LOG
from orchestrator.store.tables import aware

if TYPE_CHECKING:
    from orchestrator.store.transactions import Transactions


class AuditTrail:
    """The hash-chained audit log: append, verify, read its head, export."""

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    def audit(
        self,
        action: str,
        *,
        tenant: str | None,
        actor: str,
        data: dict[str, Any],
        run_id: int | None = None,
    ) -> None:
        """Append an entry for something that is not a run's status change.

        Example: ``store.audit("secrets rotated", tenant="giessen", actor="user:alice",
        data={"names": ["CIVENTO_PASSWORD"]})``.
        """
        with self._tx.change() as tx:
            tx.record(AuditEvent(action, tenant, actor, dict(data), run_id))

    def verify_audit(self, anchors: Sequence[Anchor] = ()) -> AuditCheck:
        """Recompute the whole hash chain; name the first altered, inserted or deleted entry.

        ``anchors`` (heads noted down outside the database, :mod:`.anchors`) also show the
        newest entries deleted, or the trail rewritten with fresh hashes.

        Example::

            check = store.verify_audit(read_anchors(settings.audit_anchors_file))
            print(check.ok, check.checked, check.head_hash, check.first_bad_seq, check.problem)
        """
        with self._tx.read() as connection:
            return verify_trail(connection, anchors)

    def audit_head(self) -> tuple[int, str] | None:
        """The newest audit entry's ``seq`` and ``hash``, to note down (:mod:`.anchors`)."""
        query = select(AUDIT_LOG.c.seq, AUDIT_LOG.c.hash).order_by(AUDIT_LOG.c.seq.desc())
        with self._tx.query() as connection:
            row = connection.execute(query.limit(1)).first()
        return (row.seq, row.hash) if row is not None else None

    def export_audit(
        self, *, since: datetime | None = None, tenant: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """The audit entries at or after ``since`` (of ``tenant``), JSON-ready, in order.

        Example: ``for entry in store.export_audit(tenant="giessen"): print(entry["seq"])``.
        """
        if since is not None:
            aware(since, "since")
        with self._tx.read() as connection:
            yield from export_entries(connection, since=since, tenant=tenant)
