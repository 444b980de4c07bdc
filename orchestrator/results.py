"""Run and step outcomes: the third of definition, execution and result.

These are plain records, independent of how the store keeps them, so the engine, the CLI
and later the reports share one vocabulary. A run's status and its moves are declared with
the other state machines in :mod:`orchestrator.states`; they are importable from here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from orchestrator.states import ACTIVE, TERMINAL, TRANSITIONS, RunStatus

__all__ = [
    "ACTIVE",
    "TERMINAL",
    "TRANSITIONS",
    "ArtifactKind",
    "ArtifactRecord",
    "RunRecord",
    "RunStatus",
    "StepRecord",
    "StepStatus",
    "iso_or_none",
]


class StepStatus(StrEnum):
    """The outcome of one executed step."""

    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"
    RECOVERED = "recovered"  # failed inside a `try`/`retry` that then handled it


class ArtifactKind(StrEnum):
    """What an artifact file holds."""

    LOG = "log"
    SCREENSHOT = "screenshot"
    TRACE = "trace"
    HTML = "html"
    URL = "url"
    DOWNLOAD = "download"
    OUTPUT = "output"
    REPORT = "report"


@dataclass(frozen=True)
class StepRecord:
    """One executed step. ``path`` locates it in the bot, e.g. ``steps[4].do[1]``."""

    path: str
    kind: str
    name: str | None
    status: StepStatus
    started_at: datetime
    duration_ms: int
    message: str | None = None


@dataclass(frozen=True)
class ArtifactRecord:
    """A file kept for a run, with its sha256 so tampering and corruption show.

    ``deleted_at`` is set once retention deleted the file (``bots retention apply``): the
    record stays, saying what existed and when it went.
    """

    kind: ArtifactKind
    path: str
    sha256: str
    size: int
    step_path: str | None = None
    deleted_at: datetime | None = None


@dataclass(frozen=True)
class RunRecord:
    """A run as the history shows it."""

    id: int
    bot: str
    version: str
    digest: str
    tenant: str
    trigger: str
    status: RunStatus
    parameters: dict[str, Any]
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None = None
    error_step: str | None = None
    run_dir: str | None = None
    # The queue's view: attempts (retries after application errors), robot losses (re-queues
    # after a robot vanished, counted apart), who holds the lease until when, and when a
    # queued retry may start.
    attempt: int = 1
    max_attempts: int = 1
    robot_losses: int = 0
    holder: str | None = None
    lease_expires_at: datetime | None = None
    retry_of: int | None = None
    not_before: datetime | None = None
    created_at: datetime | None = None
    # Robot labels the run needs: the bot's own and those of the connectors it uses.
    labels: tuple[str, ...] = ()
    steps: list[StepRecord] = field(default_factory=list)
    artifacts: list[ArtifactRecord] = field(default_factory=list)

    @property
    def retries_left(self) -> int:
        """Attempts the bot's retries still allow after this one (robot losses not counted)."""
        return max(0, self.max_attempts - self.attempt)

    def to_json(self, *, with_details: bool = False) -> dict[str, Any]:
        """The run as JSON-ready data (the shape `bots history --json` prints)."""
        data: dict[str, Any] = {
            "id": self.id,
            "bot": self.bot,
            "version": self.version,
            "digest": self.digest,
            "tenant": self.tenant,
            "trigger": self.trigger,
            "status": str(self.status),
            "parameters": self.parameters,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "error": self.error,
            "error_step": self.error_step,
            "run_dir": self.run_dir,
            "created_at": iso_or_none(self.created_at),
            "attempt": self.attempt,
            "max_attempts": self.max_attempts,
            "retries_left": self.retries_left,
            "robot_losses": self.robot_losses,
            "holder": self.holder,
            "lease_expires_at": iso_or_none(self.lease_expires_at),
            "retry_of": self.retry_of,
            "not_before": iso_or_none(self.not_before),
            "labels": list(self.labels),
        }
        if with_details:
            data["steps"] = [
                {
                    "path": s.path,
                    "kind": s.kind,
                    "name": s.name,
                    "status": str(s.status),
                    "started_at": s.started_at.isoformat(),
                    "duration_ms": s.duration_ms,
                    "message": s.message,
                }
                for s in self.steps
            ]
            data["artifacts"] = [
                {
                    "kind": str(a.kind),
                    "path": a.path,
                    "sha256": a.sha256,
                    "size": a.size,
                    "step_path": a.step_path,
                    "deleted_at": iso_or_none(a.deleted_at),
                }
                for a in self.artifacts
            ]
        return data


def iso_or_none(value: datetime | None) -> str | None:
    """``value`` in ISO 8601, or None: how records, JSON output and the CLI show times."""
    return value.isoformat() if value is not None else None
