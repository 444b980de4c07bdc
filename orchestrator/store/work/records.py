"""Work queues and their items as callers get them back: records with ``to_json()``.

:class:`QueueRecord` (a queue, its policy and its items counted per status),
:class:`WorkItemRecord` (an item, with the runs that touched it where asked for),
:class:`WorkItemRun` and :class:`AddResult`. Built from rows of :mod:`.tables`; the
repository is :mod:`.repository`. Example::

    added = store.queues.add_item("giessen", "gewerbe", "GA-2026-0815", {"name": "Müller"},
                                  actor="user:alice")
    added.created, added.item.to_json()["status"]  # (True, "new")
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row

from orchestrator.results import iso_or_none
from orchestrator.states import WorkItemStatus


@dataclass(frozen=True)
class QueueRecord:
    """A work queue of a tenant: its policy and, from reads, its items per status.

    ``counts`` maps every status (``"new"``, ``"done"``, ...) to its number of items.
    """

    id: int
    tenant: str
    name: str
    max_attempts: int
    retry_delay_s: float
    backoff: float
    schema: dict[str, Any] | None
    sla_s: float | None
    retention_days: int
    next_on_success: str | None
    next_on_failure: str | None
    approval_required: bool
    created_at: datetime
    created_by: str
    counts: Mapping[str, int]

    @classmethod
    def from_row(cls, row: Row[Any], counts: Mapping[str, int] | None = None) -> QueueRecord:
        """From a row of ``queues``; statuses missing from ``counts`` count 0."""
        values = dict(row._mapping)
        values["schema"] = values.pop("payload_schema")
        every = {status.value: 0 for status in WorkItemStatus}
        return cls(**values, counts={**every, **(counts or {})})

    def to_json(self) -> dict[str, Any]:
        """The queue as JSON-ready data (the shape `bots queue list --json` prints)."""
        return {
            "id": self.id,
            "tenant": self.tenant,
            "name": self.name,
            "max_attempts": self.max_attempts,
            "retry_delay_s": self.retry_delay_s,
            "backoff": self.backoff,
            "schema": self.schema,
            "sla_s": self.sla_s,
            "retention_days": self.retention_days,
            "next_on_success": self.next_on_success,
            "next_on_failure": self.next_on_failure,
            "approval_required": self.approval_required,
            "created_at": iso_or_none(self.created_at),
            "created_by": self.created_by,
            "counts": dict(self.counts),
        }


@dataclass(frozen=True)
class WorkItemRun:
    """A run that touched an item: which attempt, and the status it left the item in
    (None while it works on it)."""

    run_id: int
    attempt: int
    outcome: str | None
    at: datetime

    def to_json(self) -> dict[str, Any]:
        """As JSON-ready data."""
        return {
            "run_id": self.run_id,
            "attempt": self.attempt,
            "outcome": self.outcome,
            "at": iso_or_none(self.at),
        }


@dataclass(frozen=True)
class WorkItemRecord:
    """One case of a work queue, as stored.

    ``payload`` and ``output`` are None once purged (``purged_at``); ``reference``, the
    status and the history stay. ``attempts`` counts how often a robot took it; ``runs``
    is filled by ``get_item`` only.
    """

    id: int
    tenant: str
    queue: str
    queue_id: int
    reference: str
    payload: dict[str, Any] | None
    output: dict[str, Any] | None
    priority: int
    postpone_until: datetime | None
    deadline: datetime | None
    status: WorkItemStatus
    attempts: int
    last_error_kind: str | None
    last_error: str | None
    evidence: list[str]
    holder: str | None
    lease_expires_at: datetime | None
    not_before: datetime | None
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    approved_by: str | None
    purged_at: datetime | None
    runs: tuple[WorkItemRun, ...] = ()

    @classmethod
    def from_row(cls, row: Row[Any], runs: tuple[WorkItemRun, ...] = ()) -> WorkItemRecord:
        """From a row of ``work_items`` with the queue's name as ``queue``."""
        values = dict(row._mapping)
        values["status"] = WorkItemStatus(values["status"])
        values["evidence"] = list(values["evidence"] or [])
        return cls(**values, runs=runs)

    def to_json(self) -> dict[str, Any]:
        """The item as JSON-ready data (the shape `bots queue items --json` prints)."""
        return {
            "id": self.id,
            "tenant": self.tenant,
            "queue": self.queue,
            "reference": self.reference,
            "status": self.status.value,
            "priority": self.priority,
            "attempts": self.attempts,
            "payload": self.payload,
            "output": self.output,
            "postpone_until": iso_or_none(self.postpone_until),
            "deadline": iso_or_none(self.deadline),
            "last_error_kind": self.last_error_kind,
            "last_error": self.last_error,
            "evidence": list(self.evidence),
            "holder": self.holder,
            "lease_expires_at": iso_or_none(self.lease_expires_at),
            "not_before": iso_or_none(self.not_before),
            "created_at": iso_or_none(self.created_at),
            "created_by": self.created_by,
            "updated_at": iso_or_none(self.updated_at),
            "updated_by": self.updated_by,
            "approved_by": self.approved_by,
            "purged_at": iso_or_none(self.purged_at),
            "runs": [run.to_json() for run in self.runs],
        }


@dataclass(frozen=True)
class AddResult:
    """What ``add_item`` did: ``created`` False means the reference was known already and
    ``item`` is the existing item (nothing was changed)."""

    item: WorkItemRecord
    created: bool
