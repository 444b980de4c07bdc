"""Runs as text and JSON: `bots history`, `bots show`, the run's artifacts."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from orchestrator.results import ArtifactKind
from orchestrator.results import iso_or_none as iso

if TYPE_CHECKING:  # imported for their types only: a presenter loads no scheduler or store
    from orchestrator.results import ArtifactRecord, RunRecord


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
    if record.status == "queued" and record.labels:
        parts.append(f"for a robot with {', '.join(record.labels)}")
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
