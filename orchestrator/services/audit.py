"""The tamper-evident audit trail: verify it, anchor its head (only a verified one), export.

Example::

    with open_context(settings, token) as ctx:
        anchoring = anchor_audit(ctx)
        if not anchoring.check.ok: ...            # nothing noted down: a broken head
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orchestrator.services.access import Permission
from orchestrator.services.context import Context
from orchestrator.store import Anchor, AuditCheck, note_anchor, read_anchors


@dataclass(frozen=True)
class Verification:
    """The chain checked, and the anchors it was checked against."""

    check: AuditCheck
    anchors: list[Anchor]


@dataclass(frozen=True)
class Anchoring:
    """The chain checked, and the anchor noted down (None: the trail broken, empty, or its
    head noted already)."""

    check: AuditCheck
    anchor: Anchor | None


def verify_audit(ctx: Context) -> Verification:
    """Check the whole hash chain and against the anchors file (no entry is shown)."""
    ctx.allowed(Permission.VERIFY_AUDIT)
    anchors = read_anchors(ctx.settings.audit_anchors_file)
    return Verification(ctx.store.verify_audit(anchors), anchors)


def anchor_audit(ctx: Context) -> Anchoring:
    """Verify the trail, and only if it is intact note its head down in the anchors file."""
    ctx.allowed(Permission.ANCHOR_AUDIT)
    path = ctx.settings.audit_anchors_file
    check = ctx.store.verify_audit(read_anchors(path))
    if not check.ok:
        return Anchoring(check, None)
    return Anchoring(check, note_anchor(path, ctx.store.audit_head()))


def export_audit(
    ctx: Context, *, since: datetime | None, tenant: str | None
) -> Iterator[dict[str, Any]]:
    """The audit entries at or after ``since``, JSON-ready, in order: of ``tenant``, else
    of the actor's own, else of every tenant (for whom may see them all). Read them before
    the context closes.

    Raises:
        NotAllowed: the actor may not export, or not that tenant's entries.
    """
    where = ctx.on_tenants(Permission.EXPORT_AUDIT, tenant)
    return ctx.store.export_audit(since=since, tenant=where)
