"""What retention deletes and keeps, as text: `bots retention`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported for their types only: a presenter loads no scheduler or store
    from orchestrator.retention import RetentionOutcome


def size_text(size: int) -> str:
    """Bytes as people read them: ``532`` -> ``"532 B"``, ``1_234_567`` -> ``"1.2 MB"``."""
    amount = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if amount < 1000 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1000
    raise AssertionError("unreachable")


def retention_lines(outcome: RetentionOutcome) -> list[str]:
    """What `bots retention apply` did (or, with ``--dry-run``, would do), per tenant and kind.

    Example: ``"giessen      deleted    12 screenshot    1.2 MB  (oldest run ended 2026-09-01,
    kept 30 days)"``.
    """
    verb = "would delete" if outcome.dry_run else "deleted"
    lines = []
    if outcome.finished:
        done = "would finish" if outcome.dry_run else "finished"
        lines.append(f"{done} {outcome.finished} deletions an interrupted run had begun")
    for deletion in outcome.deletions:
        if deletion.bytes is None:  # work-item payloads
            lines.append(
                f"{deletion.tenant:<12} {verb} the payloads of {deletion.count} work items "
                "(past their queue's retention)"
            )
            continue
        oldest = f"{deletion.oldest:%Y-%m-%d}" if deletion.oldest else "-"
        lines.append(
            f"{deletion.tenant:<12} {verb} {deletion.count:>5} {deletion.kind:<10} "
            f"{size_text(deletion.bytes):>9}  (oldest run ended {oldest}, kept "
            f"{deletion.days} days)"
        )
    lines.extend(f"left alone: {note}" for note in outcome.left_alone)
    if outcome.nothing:
        lines.append("nothing has expired")
    return lines


def retention_period_lines(periods: Mapping[str, Any]) -> list[str]:
    """A tenant's retention periods as `bots retention show` prints them, from the data of
    :func:`orchestrator.retention.periods_as_json`."""
    source = "its own setting" if periods["own_setting"] else "the global setting"
    lines = [f"tenant {periods['tenant']} ({source}):"]
    lines.extend(
        f"  {period['period']:<9} {period['days']:>5} days after the run ended: "
        + ", ".join(period["kinds"])
        for period in periods["periods"]
    )
    lines.extend(
        f"  queue {queue['queue']}: payloads {queue['retention_days']} days after an item ended"
        for queue in periods["queues"]
    )
    return lines
