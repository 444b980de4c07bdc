"""The leading orchestrator applies retention when it starts leading (and daily after)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from _runs import FinishedRuns

from orchestrator.results import ArtifactKind
from orchestrator.scheduler import Orchestrator
from orchestrator.settings import load_settings
from orchestrator.store import RunStore


def test_the_leader_deletes_expired_evidence_and_audits_it(
    store: RunStore, runs: FinishedRuns
) -> None:
    old = runs.add(40)
    recent = runs.add(5)
    shot = next(a for a in old.artifacts if a.kind == ArtifactKind.SCREENSHOT)
    settings = load_settings(orchestrator={"leader_lease_s": 3})

    stop = threading.Event()
    thread = threading.Thread(target=Orchestrator(settings, store, instance="a").run, args=(stop,))
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while Path(shot.path).exists():
            assert time.monotonic() < deadline, "the leader did not apply retention"
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=30)

    assert all(Path(a.path).exists() for a in recent.artifacts)
    entries = [e for e in store.export_audit() if e["action"] == "artifacts deleted"]
    assert {e["actor"] for e in entries} == {"orchestrator:a"}
    assert {e["run_id"] for e in entries} == {old.id}
    assert store.verify_audit().ok
