"""Deletion on time: run evidence, reports, logs and work-item payloads past their retention.

Screenshots, traces and page captures show personal data; data protection wants them gone
when their time is up. :func:`apply_retention` (``bots retention apply``, and the leading
orchestrator once a day) deletes what has expired, per tenant and kind, records each deletion
in the audit trail and keeps the artifact's record (path, sha256, size, when deleted).
Modules: :mod:`.periods` (which kinds expire after which setting), :mod:`.apply` (the
deletion), :mod:`.outcome` (what it did). The SQL is :mod:`orchestrator.store.retention`.
Example::

    outcome = apply_retention(store, settings, actor="user:anna@giessen", dry_run=True)
    for deletion in outcome.deletions:
        print(deletion.tenant, deletion.kind, deletion.count, deletion.bytes)
"""

from orchestrator.retention.apply import apply_retention
from orchestrator.retention.outcome import PAYLOAD, Deletion, RetentionOutcome
from orchestrator.retention.periods import (
    PERIODS,
    own_setting,
    periods_as_json,
    periods_of,
    retention_rules,
)

__all__ = [
    "PAYLOAD",
    "PERIODS",
    "Deletion",
    "RetentionOutcome",
    "apply_retention",
    "own_setting",
    "periods_as_json",
    "periods_of",
    "retention_rules",
]
