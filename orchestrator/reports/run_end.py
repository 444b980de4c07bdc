"""The run report written when a run ends (``reports.on_run_end``).

It goes to ``<run dir>/report/bericht.html`` (and ``bericht.pdf`` with ``reports.pdf``) and is
recorded as an artifact of kind ``report``, so ``bots show`` lists it (a robot's run writes it
when first read: :func:`ensure_run_report`) and retention deletes it
after ``retention.reports_days``.

A report embeds the run's failure screenshots, which show personal data and are kept only
``retention.evidence_days``: once retention deleted them, :func:`refresh_run_reports` writes
the report again without them (it then says when they were deleted).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from orchestrator.reports.run_report import write_run_report_files
from orchestrator.results import ArtifactKind, ArtifactRecord, RunRecord
from orchestrator.settings import Settings
from orchestrator.store import RunStore

REPORT_DIR = "report"
REPORT_NAME = "bericht"


def write_run_report(store: RunStore, settings: Settings, run_id: int) -> None:
    """Write run ``run_id``'s report into its run directory, as configured."""
    if not settings.reports.on_run_end:
        return
    run_dir = store.get_run(run_id, details=False).run_dir
    if run_dir is None:
        return
    written = write_run_report_files(
        store,
        settings,
        run_id,
        Path(run_dir) / REPORT_DIR,
        lang=settings.reports.lang,
        pdf=settings.reports.pdf,
        name=REPORT_NAME,
    )
    store.record_artifacts(run_id, [_artifact(path) for path in written.paths])


def ensure_run_report(
    store: RunStore, settings: Settings, run_id: int, *, run: RunRecord | None = None
) -> bool:
    """Write the report of the ended run ``run_id`` if it has none yet (a robot's runs leave
    theirs to the first reader); whether it was written now. ``run``: its record with
    artifacts, if the caller has it. A report retention deleted is not written again."""
    if not settings.reports.on_run_end:
        return False
    run = run if run is not None else store.get_run(run_id)
    if run.finished_at is None or any(a.kind == ArtifactKind.REPORT for a in run.artifacts):
        return False
    write_run_report(store, settings, run_id)
    return True


def _artifact(path: Path) -> ArtifactRecord:
    data = path.read_bytes()
    return ArtifactRecord(
        kind=ArtifactKind.REPORT,
        path=str(path.resolve()),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )


def refresh_run_reports(store: RunStore, settings: Settings, run_ids: Iterable[int]) -> list[int]:
    """Write the kept reports of the runs ``run_ids`` again, in place, from what is left of
    their evidence (after retention deleted screenshots); the runs whose report was
    rewritten. Reports already deleted, or never written, are left alone."""
    rewritten = []
    for run_id in sorted(set(run_ids)):
        run = store.get_run(run_id)
        kept = [
            Path(a.path)
            for a in run.artifacts
            if a.kind == ArtifactKind.REPORT and a.deleted_at is None and Path(a.path).is_file()
        ]
        html = next((path for path in kept if path.suffix == ".html"), None)
        if html is None:
            continue
        written = write_run_report_files(
            store,
            settings,
            run_id,
            html.parent,
            lang=settings.reports.lang,
            pdf=html.with_suffix(".pdf") in kept,
            name=html.stem,
        )
        for path in written.paths:
            store.rewrite_artifact(run_id, _artifact(path))
        rewritten.append(run_id)
    return rewritten
