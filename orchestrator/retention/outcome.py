"""What one retention run deleted (or, in a dry run, would delete), per tenant and kind.

Example::

    outcome = apply_retention(store, settings, actor="user:anna@giessen")
    for deletion in outcome.deletions:
        print(deletion.tenant, deletion.kind, deletion.count, deletion.bytes)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orchestrator.results import iso_or_none

#: The ``kind`` of a :class:`Deletion` of work-item payloads (the others are artifact kinds).
PAYLOAD = "payload"


@dataclass(frozen=True)
class Deletion:
    """What was deleted of one tenant and kind.

    ``kind`` is an artifact kind (``screenshot``, ``trace``, ...) or :data:`PAYLOAD`;
    ``count`` counts files (items, for payloads); ``bytes`` and ``oldest`` (the earliest end
    of a run among them) are None for payloads; ``days`` is the period applied (None for
    payloads: each queue has its own).
    """

    tenant: str
    kind: str
    count: int
    bytes: int | None
    oldest: datetime | None
    days: int | None

    def to_json(self) -> dict[str, Any]:
        """As JSON-ready data (one element of ``deleted`` in `bots retention apply --json`)."""
        return {
            "tenant": self.tenant,
            "kind": self.kind,
            "count": self.count,
            "bytes": self.bytes,
            "oldest_run_end": iso_or_none(self.oldest),
            "retention_days": self.days,
        }


@dataclass(frozen=True)
class RetentionOutcome:
    """A retention run: its deletions, sorted by tenant and kind.

    ``finished`` counts the files of an earlier, interrupted run removed now (to be removed,
    in a dry run); ``left_alone`` names files it did not touch and why (outside the run's
    directory, or removing failed: tried again next time); ``evidence_runs`` are the runs
    whose evidence (screenshots, traces, ...) was deleted now, whose reports must be written
    again without it (``orchestrator.reports.run_end.refresh_run_reports``).
    """

    dry_run: bool
    at: datetime
    deletions: tuple[Deletion, ...]
    finished: int = 0
    left_alone: tuple[str, ...] = ()
    evidence_runs: tuple[int, ...] = ()

    @property
    def nothing(self) -> bool:
        """True if nothing had expired and nothing was left to finish."""
        return not self.deletions and not self.finished

    def to_json(self) -> dict[str, Any]:
        """As JSON-ready data (what `bots retention apply --json` prints)."""
        return {
            "dry_run": self.dry_run,
            "at": self.at.isoformat(),
            "deleted": [deletion.to_json() for deletion in self.deletions],
            "finished_from_before": self.finished,
            "left_alone": list(self.left_alone),
        }
