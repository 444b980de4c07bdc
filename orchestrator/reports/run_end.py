"""The run report written when a run ends (``reports.on_run_end``)."""

from __future__ import annotations

from orchestrator.settings import Settings
from orchestrator.store import RunStore


def write_run_report(store: RunStore, settings: Settings, run_id: int) -> None:
    """Write run ``run_id``'s report into its run directory, as configured."""
    return None
