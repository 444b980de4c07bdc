"""Records as text and JSON, written once for the CLI, the reports and a later web console.

A presenter takes a record (a run, a robot's state, a schedule, a work queue or item) and
returns lines of text or JSON-ready data; it prints nothing and reads nothing. Example::

    for line in run_details(store.get_run(17), max_robot_losses=2):
        print(line)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from orchestrator.results import ArtifactKind, StepRecord
from orchestrator.results import iso_or_none as iso

if TYPE_CHECKING:  # imported for their types only: a presenter loads no scheduler or store
    from orchestrator.identity import Identity
    from orchestrator.results import ArtifactRecord, RunRecord
    from orchestrator.retention import RetentionOutcome
    from orchestrator.robot_identity import RobotState
    from orchestrator.scheduler import ScheduleInfo
    from orchestrator.store import NotificationRecord, QueueRecord, UserRecord, WorkItemRecord


def json_text(data: Any) -> str:
    """``data`` as the indented JSON every ``--json`` option prints."""
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


# --------------------------------------------------------------------------- runs


def run_as_json(record: RunRecord, *, details: bool = False) -> dict[str, Any]:
    """A run as JSON-ready data; ``details`` adds its steps and artifacts."""
    return record.to_json(with_details=details)


def run_summary(record: RunRecord) -> list[str]:
    """What a run that just ended comes to: status, duration, error, artifacts.

    Example: ``["run 17 of gewerbe-uebertragung 1.2.0: succeeded in 4.2 s", ...]``.
    """
    duration = ""
    if record.started_at and record.finished_at:
        duration = f" in {(record.finished_at - record.started_at).total_seconds():.1f} s"
    lines = [f"run {record.id} of {record.bot} {record.version}: {record.status}{duration}"]
    if record.error:
        where = f" at {record.error_step}" if record.error_step else ""
        lines.append(f"  error{where}: {record.error}")
    lines.extend(f"  {artifact.kind}: {artifact.path}" for artifact in record.artifacts)
    lines.append(f"  details: bots show {record.id}")
    return lines


def run_line(record: RunRecord) -> str:
    """A run as one line of a run list: id, start, status, bot, trigger, queue notes."""
    started = record.started_at.strftime("%Y-%m-%d %H:%M:%S") if record.started_at else "-"
    return (
        f"{record.id:>6}  {started}  {record.status!s:<10} {record.bot} {record.version}"
        f"  ({record.trigger}){_queue_note(record)}"
    )


def _queue_note(record: RunRecord) -> str:
    """What the queue adds to a run's line: attempt, robot losses, holder, not before."""
    parts = []
    if record.attempt > 1 or record.max_attempts > 1:
        parts.append(f"attempt {record.attempt} of {record.max_attempts}")
    if record.robot_losses:
        parts.append(f"robot lost {record.robot_losses}x")
    if record.holder and record.status in ("claimed", "running"):
        until = record.lease_expires_at
        parts.append(f"held by {record.holder}" + (f" until {until.isoformat()}" if until else ""))
    if record.status == "queued" and record.not_before is not None:
        parts.append(f"not before {record.not_before.isoformat()}")
    return "  [" + ", ".join(parts) + "]" if parts else ""


def run_details(record: RunRecord, *, max_robot_losses: int) -> list[str]:
    """One run in full, as ``bots show`` prints it: parameters, steps, error and artifacts.

    ``max_robot_losses`` is the setting ``orchestrator.max_robot_losses`` (re-queues allowed).
    """
    lines = [
        f"run {record.id}: {record.bot} {record.version} ({record.digest[:12]})",
        f"  status:     {record.status}",
        f"  tenant:     {record.tenant}   trigger: {record.trigger}",
        f"  created:    {iso(record.created_at)}",
        f"  started:    {iso(record.started_at)}   finished: {iso(record.finished_at)}",
        f"  attempt:    {record.attempt} of {record.max_attempts} "
        f"({record.retries_left} retries left)   robot losses: {record.robot_losses}"
        f" (at most {max_robot_losses} re-queues)",
    ]
    if record.retry_of is not None:
        lines.append(f"  retry of:   run {record.retry_of}")
    if record.holder and record.status in ("claimed", "running"):
        lines.append(f"  holder:     {record.holder}   lease until: {iso(record.lease_expires_at)}")
    if record.status == "queued" and record.not_before is not None:
        lines.append(f"  not before: {iso(record.not_before)}")
    lines.append(f"  parameters: {json.dumps(record.parameters, ensure_ascii=False)}")
    if record.error:
        lines.append(f"  error:      {record.error}")
        if record.error_step:
            lines.append(f"  failed at:  {record.error_step}")
    lines.append(f"  steps ({len(record.steps)}):")
    for s in record.steps:
        label = f" {s.name}" if s.name else ""
        msg = f" - {s.message}" if s.message else ""
        lines.append(f"    {s.status!s:<9} {s.duration_ms:>6} ms  {s.path} {s.kind}{label}{msg}")
    if record.run_dir:
        lines.append(f"  run dir:    {record.run_dir}")
    lines.extend(
        f"  report:     {a.path}" for a in record.artifacts if a.kind == ArtifactKind.REPORT
    )
    if record.artifacts:
        lines.append("  artifacts:")
        lines.extend(artifact_line(a) for a in record.artifacts)
    return lines


def artifact_line(artifact: ArtifactRecord) -> str:
    """An artifact as ``bots show`` lists it; one retention deleted says so and when.

    Example: ``"    screenshot /data/runs/17/failure.png  sha256=9f86d081884c7d65…  deleted
    by retention on 2026-12-01"``.
    """
    line = f"    {artifact.kind!s:<10} {artifact.path}  sha256={artifact.sha256[:16]}…"
    if artifact.deleted_at is not None:
        line += f"  deleted by retention on {artifact.deleted_at:%Y-%m-%d}"
    return line


# --------------------------------------------------------------------------- robots


def robot_as_json(state: RobotState) -> dict[str, Any]:
    """A robot as ``bots robot list --json`` prints it."""
    robot = state.record
    return {
        "name": robot.name,
        "instance": robot.instance,
        "state": "alive" if state.alive else "gone",
        "labels": robot.labels,
        "tenants": robot.tenants,
        "concurrency": robot.concurrency,
        "host": robot.host,
        "pid": robot.pid,
        "started_at": iso(robot.started_at),
        "heartbeat_at": iso(robot.heartbeat_at),
        "heartbeat_age_s": round(state.heartbeat_age_s, 1),
        "stopped_at": iso(robot.stopped_at),
        "runs": state.runs,
    }


def robot_lines(state: RobotState) -> list[str]:
    """A robot as two lines of ``bots robot list``: who and where, then labels and runs."""
    row = robot_as_json(state)
    runs = ", ".join(map(str, row["runs"])) or "-"
    return [
        f"{row['name']}  {row['state']:<5}  instance {row['instance'] or '-'}  "
        f"host {row['host']} pid {row['pid']}  heartbeat {row['heartbeat_at']} "
        f"({row['heartbeat_age_s']:g} s ago)",
        f"    labels {','.join(row['labels']) or '-'}  tenants {','.join(row['tenants'])}"
        f"  runs held: {runs}",
    ]


# --------------------------------------------------------------------------- schedules


def schedule_as_json(info: ScheduleInfo) -> dict[str, Any]:
    """A schedule as ``bots schedule list --json`` prints it (times in ISO 8601)."""
    return {
        key: value.isoformat() if hasattr(value, "isoformat") else value
        for key, value in asdict(info).items()
    }


def schedule_line(info: ScheduleInfo) -> str:
    """A schedule as one line: name, state, cron expression, bot and next firing."""
    state = "paused" if info.paused else ("disabled" if not info.enabled else "active")
    nxt = info.next_fire_at.isoformat(timespec="minutes") if info.next_fire_at else "-"
    return f"{info.name:<24} {state:<8} {info.cron:<20} {info.bot}  next: {nxt}"


# --------------------------------------------------------------------------- work queues


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


# --------------------------------------------------------------------------- retention


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


# --------------------------------------------------------------------------- notifications


def notification_as_json(message: NotificationRecord) -> dict[str, Any]:
    """A queued or sent notification as JSON-ready data (`bots notifications list --json`)."""
    return message.to_json()


def notification_line(message: NotificationRecord) -> str:
    """A notification as one line: id, when queued, status, event, subject, channel, and
    its delivery where it is not sent yet.

    Example: ``"    12  2026-11-30 08:15:02  pending   run_failed   run:17 -> ordnungsamt
    [attempt 2, next 08:16:02: SMTP server smtp:25 not reachable: Connection refused]"``.
    """
    line = (
        f"{message.id:>6}  {message.created_at:%Y-%m-%d %H:%M:%S}  {message.status!s:<9} "
        f"{message.event:<12} {message.subject} -> {message.channel}"
    )
    if message.sent_at is not None:
        return f"{line}  (sent {message.sent_at:%Y-%m-%d %H:%M:%S})"
    notes = []
    if message.attempts:
        notes.append(f"attempt {message.attempts}")
    if message.not_before is not None:
        due = "digest" if message.status == "held" else "next"
        notes.append(f"{due} {message.not_before:%Y-%m-%d %H:%M:%S}")
    if message.last_error:
        notes.append(message.last_error)
    return f"{line}  [{', '.join(notes)}]" if notes else line


def user_line(user: UserRecord) -> str:
    """One user as `bots users list` prints it: tenant, name, roles, status, last use."""
    status = "disabled" if user.disabled else "active"
    used = f"{user.last_used_at:%Y-%m-%d %H:%M}" if user.last_used_at else "never"
    return (
        f"{user.tenant:<12} {user.name:<16} {','.join(user.roles):<28} {status:<8} last used {used}"
    )


def identity_line(who: Identity) -> str:
    """Who acts, as `bots whoami` prints it."""
    if who.kind == "os":
        return f"{who.actor} (operating-system account: no users exist; every role and tenant)"
    roles = ", ".join(who.to_json()["roles"])
    return f"{who.actor} (tenant {who.tenant or 'every tenant'}; roles: {roles})"
