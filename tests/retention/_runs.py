"""Finished runs with real files in their run directories, ended as long ago as a test says
(the ``runs`` fixture)::

    run = runs.add(40)                                  # a failed run that ended 40 days ago
    run = runs.add(5, {"shot.png": K.SCREENSHOT}, tenant="marburg")
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from orchestrator.engine.artifacts import sha256_of
from orchestrator.results import ArtifactKind, ArtifactRecord, RunRecord, RunStatus
from orchestrator.settings import Settings
from orchestrator.store import RunRequest, RunStore
from orchestrator.store.runs.tables import RUNS
from orchestrator.store.tables import utc_now

HOLDER = "cli:rpa-01:4711"
K = ArtifactKind

#: What a failed browser run keeps: failure evidence, its trace and its log.
FAILED_RUN_FILES: Mapping[str, ArtifactKind] = {
    "failure.png": K.SCREENSHOT,
    "failure.html": K.HTML,
    "failure-url.txt": K.URL,
    "trace.zip": K.TRACE,
    "run.log.jsonl": K.LOG,
}


@dataclass(frozen=True)
class FinishedRuns:
    """Makes runs that ended some days ago, each with real files in its run directory."""

    store: RunStore
    settings: Settings

    def add(
        self,
        ended_days_ago: float,
        files: Mapping[str, ArtifactKind] = FAILED_RUN_FILES,
        *,
        tenant: str = "default",
    ) -> RunRecord:
        """A failed run of ``tenant`` that ended ``ended_days_ago`` days ago, keeping ``files``
        (name in the run directory -> kind); each file holds a case's personal data."""
        request = RunRequest(
            tenant=tenant,
            bot_id="gewerbe-uebertragung",
            bot_version="1.0.0",
            bot_digest="0" * 64,
            parameters={},
            trigger="schedule",
            actor=f"schedule:{tenant}/morgens",
            max_parallel=0,
        )
        run_id = self.store.start_standalone(request, holder=HOLDER, lease_s=600, pool_limits={})
        run_dir = self.settings.runs_dir / str(run_id)
        self.store.set_run_dir(run_id, str(run_dir))
        kept = [self._write(run_dir / name, kind, run_id) for name, kind in files.items()]
        self.store.finish_run(
            run_id, RunStatus.FAILED, "Element fehlt", "steps[3]", holder=HOLDER, artifacts=kept
        )
        self.ended(run_id, ended_days_ago)
        return self.store.get_run(run_id)

    def ended(self, run_id: int, days_ago: float) -> None:
        """Let run ``run_id`` have ended ``days_ago`` days ago."""
        with self.store.transactions.write() as connection:
            connection.execute(
                update(RUNS)
                .where(RUNS.c.id == run_id)
                .values(finished_at=utc_now() - timedelta(days=days_ago))
            )

    @staticmethod
    def _write(path: Path, kind: ArtifactKind, run_id: int) -> ArtifactRecord:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{kind} of run {run_id}: Erika Müller, Gewerbeanmeldung", "utf-8")
        sha256, size = sha256_of(path)
        return ArtifactRecord(kind, str(path), sha256, size)
