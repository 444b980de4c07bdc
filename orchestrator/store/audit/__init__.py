"""The audit trail: the hash chain, its anchors, the trail as a repository (``store.audit``).

:mod:`.tables` (``audit_log``), :mod:`.chain` (the hash chain every write transaction appends
to), :mod:`.anchors` (its head noted down outside the database) and :mod:`.repository`
(:class:`~.repository.AuditTrail`: entries that are not status changes, checks, export).
"""

from orchestrator.store.audit.chain import hash_parts

__all__ = ["hash_parts"]
