"""A run's record in SQL: its steps and artifacts written, and the run read back.

:func:`insert_steps` and :func:`insert_artifacts` take the caller's connection, so a run's
last steps and artifacts go into the transaction that records its outcome. A run comes back
as a :class:`~orchestrator.results.RunRecord`: :func:`run_summary` from a row of
:data:`SUMMARY_COLUMNS` (lists, the robot's path), :func:`run_record` from the ORM row with
its steps and artifacts loaded (``bots show``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, insert, select

from orchestrator.results import (
    ArtifactKind,
    ArtifactRecord,
    RunRecord,
    RunStatus,
    StepRecord,
    StepStatus,
)
from orchestrator.store.runs.tables import ARTIFACTS, RUNS, STEPS, RunRow
from orchestrator.store.tables import aware, utc_now


def insert_steps(connection: Connection, run_id: int, steps: Sequence[StepRecord]) -> None:
    """Insert steps numbered after the run's last one (one writer per run at a time).

    Two cached statements, the last number and the rows: a single ``INSERT ... SELECT``
    from ``VALUES`` is compiled anew for every batch, which cost a short run more than the
    round trip it saves.
    """
    if not steps:
        return
    last = select(func.coalesce(func.max(STEPS.c.seq), 0)).where(STEPS.c.run_id == run_id)
    first = int(connection.scalar(last) or 0)
    connection.execute(
        insert(STEPS),
        [
            {
                "run_id": run_id,
                "seq": first + n,
                "path": step.path,
                "kind": step.kind,
                "name": step.name,
                "status": StepStatus(step.status).value,
                "started_at": aware(step.started_at, "StepRecord.started_at"),
                "duration_ms": step.duration_ms,
                "message": step.message,
            }
            for n, step in enumerate(steps, start=1)
        ],
    )


def insert_artifacts(
    connection: Connection, run_id: int, artifacts: Sequence[ArtifactRecord]
) -> None:
    now = utc_now()
    connection.execute(
        insert(ARTIFACTS),
        [
            {
                "run_id": run_id,
                "step_path": artifact.step_path,
                "kind": ArtifactKind(artifact.kind).value,
                "path": artifact.path,
                "sha256": artifact.sha256,
                "size": artifact.size,
                "created_at": now,
            }
            for artifact in artifacts
        ],
    )


SUMMARY_COLUMNS = (
    RUNS.c.id,
    RUNS.c.bot_id,
    RUNS.c.bot_version,
    RUNS.c.bot_digest,
    RUNS.c.tenant,
    RUNS.c.trigger,
    RUNS.c.status,
    RUNS.c.parameters,
    RUNS.c.started_at,
    RUNS.c.finished_at,
    RUNS.c.error,
    RUNS.c.error_step,
    RUNS.c.run_dir,
    RUNS.c.attempt,
    RUNS.c.max_attempts,
    RUNS.c.robot_losses,
    RUNS.c.holder,
    RUNS.c.lease_expires_at,
    RUNS.c.retry_of,
    RUNS.c.not_before,
    RUNS.c.created_at,
    RUNS.c.labels,
)


def run_summary(row: Any) -> RunRecord:
    """A run without its steps and artifacts, from a row of :data:`SUMMARY_COLUMNS`."""
    return RunRecord(
        id=row.id,
        bot=row.bot_id,
        version=row.bot_version,
        digest=row.bot_digest,
        tenant=row.tenant,
        trigger=row.trigger,
        status=RunStatus(row.status),
        parameters=dict(row.parameters),
        started_at=row.started_at,
        finished_at=row.finished_at,
        error=row.error,
        error_step=row.error_step,
        run_dir=row.run_dir,
        attempt=row.attempt,
        max_attempts=row.max_attempts,
        robot_losses=row.robot_losses,
        holder=row.holder,
        lease_expires_at=row.lease_expires_at,
        retry_of=row.retry_of,
        not_before=row.not_before,
        created_at=row.created_at,
        labels=tuple(row.labels or ()),
    )


def run_record(row: RunRow) -> RunRecord:
    """A run with its steps (in order) and artifacts, from its ORM row."""
    steps = [
        StepRecord(
            path=s.path,
            kind=s.kind,
            name=s.name,
            status=StepStatus(s.status),
            started_at=s.started_at,
            duration_ms=s.duration_ms,
            message=s.message,
        )
        for s in row.steps
    ]
    artifacts = [
        ArtifactRecord(
            kind=ArtifactKind(a.kind),
            path=a.path,
            sha256=a.sha256,
            size=a.size,
            step_path=a.step_path,
            deleted_at=a.deleted_at,
        )
        for a in row.artifacts
    ]
    return dataclasses.replace(run_summary(row), steps=steps, artifacts=artifacts)
