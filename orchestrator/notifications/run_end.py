"""Notifications a run's end gives rise to (a failed run, cases for a person)."""

from __future__ import annotations

from orchestrator.settings import Settings
from orchestrator.store import RunStore


def notify_run_end(store: RunStore, settings: Settings, run_id: int, *, final: bool) -> None:
    """Queue the notifications run ``run_id``'s end calls for; ``final``: no retry follows."""
    return None
