"""Work queues and their items as text and JSON, and a bot's progress through a queue."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from orchestrator.results import StepRecord
from orchestrator.results import iso_or_none as iso

if TYPE_CHECKING:  # imported for their types only: a presenter loads no scheduler or store
    from orchestrator.store import QueueRecord, WorkItemRecord


def duration_text(seconds: float | None) -> str:
    """Seconds as an operator writes them: ``259200`` -> ``"3d"``, ``5400`` -> ``"90m"``."""
    if seconds is None:
        return "-"
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def queue_as_json(queue: QueueRecord) -> dict[str, Any]:
    """A work queue as ``bots queue list --json`` and ``show --json`` print it."""
    return queue.to_json()


def _counted(counts: Mapping[str, int]) -> str:
    shown = [f"{status} {number}" for status, number in counts.items() if number]
    return ", ".join(shown) or "no items"


def queue_line(queue: QueueRecord) -> str:
    """A queue as one line of ``bots queue list``: name, items in all, items per status.

    Example: ``gewerbe     12 items  new 3, needs_human 1, done 8``.
    """
    total = sum(queue.counts.values())
    noun = "item" if total == 1 else "items"
    return f"{queue.name:<24} {total:>6} {noun:<5}  {_counted(queue.counts)}"


def queue_details(queue: QueueRecord) -> list[str]:
    """A queue in full, as ``bots queue show`` prints it: its policy and its items."""
    schema = "-"
    if queue.schema is not None:
        required = queue.schema.get("required") or []
        schema = "yes" + (f" (required: {', '.join(map(str, required))})" if required else "")
    return [
        f"work queue {queue.name} of tenant {queue.tenant}",
        f"  attempts:    at most {queue.max_attempts}; retry after "
        f"{duration_text(queue.retry_delay_s)}, each next one {queue.backoff:g}x longer",
        f"  schema:      {schema}",
        f"  sla:         {duration_text(queue.sla_s)}",
        f"  retention:   payloads purged {queue.retention_days} days after an item ended",
        f"  next:        on success {queue.next_on_success or '-'}, "
        f"on failure {queue.next_on_failure or '-'}",
        f"  approval:    {'required (four eyes)' if queue.approval_required else 'none'}",
        f"  created:     {iso(queue.created_at)} by {queue.created_by}",
        f"  items:       {_counted(queue.counts)}",
    ]


def item_as_json(item: WorkItemRecord) -> dict[str, Any]:
    """A work item as ``bots queue items --json`` and ``item --json`` print it."""
    return item.to_json()


def item_line(item: WorkItemRecord) -> str:
    """An item as one line of ``bots queue items``: id, status, reference, attempts, and
    its last error where it has one."""
    line = (
        f"{item.id:>6}  {item.status.value:<17} {item.reference}  "
        f"attempts {item.attempts}  priority {item.priority}"
    )
    if item.last_error:
        error = item.last_error if len(item.last_error) <= 80 else item.last_error[:79] + "…"
        line += f"  [{item.last_error_kind}: {error}]"
    return line


def item_details(item: WorkItemRecord) -> list[str]:
    """An item in full, as ``bots queue item`` prints it: payload, output, last error,
    evidence and the runs that touched it."""

    def data(value: dict[str, Any] | None) -> str:
        if item.purged_at is not None:
            return f"(purged {iso(item.purged_at)})"
        return "-" if value is None else json.dumps(value, ensure_ascii=False)

    lines = [
        f"work item {item.id}: {item.reference} in queue {item.queue} of tenant {item.tenant}",
        f"  status:     {item.status.value}   attempts: {item.attempts}   "
        f"priority: {item.priority}",
        f"  created:    {iso(item.created_at)} by {item.created_by}",
        f"  changed:    {iso(item.updated_at)} by {item.updated_by}",
    ]
    if item.approved_by:
        lines.append(f"  approved:   by {item.approved_by}")
    if item.deadline or item.postpone_until:
        until = iso(item.postpone_until) or "-"
        lines.append(f"  deadline:   {iso(item.deadline) or '-'}   postponed until: {until}")
    if item.not_before:
        lines.append(f"  not before: {iso(item.not_before)}")
    if item.holder:
        lines.append(f"  holder:     {item.holder}   lease until: {iso(item.lease_expires_at)}")
    lines += [f"  payload:    {data(item.payload)}", f"  output:     {data(item.output)}"]
    if item.last_error:
        lines.append(f"  last error: {item.last_error_kind}: {item.last_error}")
    lines.extend(f"  evidence:   {path}" for path in item.evidence)
    lines.append(f"  runs ({len(item.runs)}):")
    lines.extend(
        f"    run {run.run_id}  attempt {run.attempt}  {run.outcome or 'working'}  {iso(run.at)}"
        for run in item.runs
    )
    return lines


class ItemProgress:
    """A bot working through a work queue, as one line: items done, with a person, failed
    or to be retried, the rate and the time left. Fed with the ``work_item`` records a
    ``for_each_item`` step leaves (message ``"done (12 left)"``, ``"needs_human: ... (3 left)"``)::

        progress = ItemProgress()
        progress.add(record)   # "items: 4 done, 1 for a person, 0 failed · 18/min · 2 min left · "
    """

    def __init__(self) -> None:
        self.counts = {"done": 0, "needs_human": 0, "failed": 0, "retrying": 0}
        self.left: int | None = None
        self._first: datetime | None = None
        self._last: datetime | None = None

    def add(self, record: StepRecord) -> str:
        """Count one item's outcome; the line to show."""
        message = record.message or ""
        outcome = message.split(":", 1)[0].split(" ", 1)[0]
        if outcome in self.counts:
            self.counts[outcome] += 1
        left = message.rsplit("(", 1)[-1].removesuffix(")").removesuffix(" left")
        self.left = int(left) if left.isdigit() else self.left
        ended = record.started_at + timedelta(milliseconds=record.duration_ms)
        self._first = self._first or record.started_at
        self._last = ended
        return self.line()

    def line(self) -> str:
        """The progress so far ("" before the first item)."""
        if self._first is None or self._last is None:
            return ""
        done = sum(self.counts.values())
        minutes = max((self._last - self._first).total_seconds() / 60, 1e-6)
        rate = done / minutes
        text = (
            f"items: {self.counts['done']} done, {self.counts['needs_human']} for a person, "
            f"{self.counts['failed']} failed, {self.counts['retrying']} to retry · {rate:.0f}/min"
        )
        if self.left is not None and rate > 0:
            text += f" · {self.left} left, about {max(self.left / rate, 0):.0f} min"
        return text + " · "
