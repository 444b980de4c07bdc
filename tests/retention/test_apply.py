"""Deletion on time, through the library: what expires goes, with its record and audit entry
kept; what has not expired stays; per tenant, per kind, and safely when killed midway."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from _runs import HOLDER, FinishedRuns
from sqlalchemy import update

from orchestrator.presenters import item_details, run_details
from orchestrator.results import ArtifactKind, RunRecord
from orchestrator.retention import PAYLOAD, PERIODS, apply_retention
from orchestrator.settings import PROJECT_ROOT, Settings, load_settings
from orchestrator.store import RunStore
from orchestrator.store.tables import utc_now
from orchestrator.store.work.tables import WORK_ITEMS

K = ArtifactKind
ADMIN = "user:anna@default"
EVIDENCE = {K.SCREENSHOT, K.TRACE, K.HTML, K.URL}


def on_disk(run: RunRecord) -> dict[ArtifactKind, bool]:
    return {artifact.kind: Path(artifact.path).exists() for artifact in run.artifacts}


def deleted_kinds(store: RunStore, run: RunRecord) -> set[ArtifactKind]:
    return {a.kind for a in store.get_run(run.id).artifacts if a.deleted_at is not None}


def retention_entries(store: RunStore) -> list[dict[str, object]]:
    return [e for e in store.export_audit() if e["action"] == "artifacts deleted"]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_expired_screenshots_and_traces_go_and_unexpired_ones_stay(
    store: RunStore, settings: Settings, runs: FinishedRuns
) -> None:
    old = runs.add(40)
    recent = runs.add(5)

    outcome = apply_retention(store, settings, actor=ADMIN)

    assert on_disk(old) == {K.SCREENSHOT: False, K.HTML: False, K.URL: False, K.TRACE: False,
                            K.LOG: True}  # fmt: skip
    assert all(on_disk(recent).values())
    assert deleted_kinds(store, old) == EVIDENCE
    assert deleted_kinds(store, recent) == set()
    # The record keeps what existed: path, sha256 and size, and when it was deleted.
    for before, after in zip(old.artifacts, store.get_run(old.id).artifacts, strict=True):
        assert (after.path, after.sha256, after.size) == (before.path, before.sha256, before.size)
    assert {(d.tenant, d.kind, d.count, d.days) for d in outcome.deletions} == {
        ("default", kind.value, 1, 30) for kind in EVIDENCE
    }
    trace = next(a for a in old.artifacts if a.kind == K.TRACE)
    (counted,) = [d for d in outcome.deletions if d.kind == "trace"]
    assert counted.bytes == trace.size and counted.oldest == old.finished_at
    assert store.verify_audit().ok


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_each_deletion_is_audited_per_run_and_kind_without_content(
    store: RunStore, settings: Settings, runs: FinishedRuns
) -> None:
    old = runs.add(40)

    apply_retention(store, settings, actor=ADMIN)

    entries = retention_entries(store)
    assert sorted(e["data"]["kind"] for e in entries) == sorted(k.value for k in EVIDENCE)
    for entry in entries:
        assert (entry["run_id"], entry["tenant"], entry["actor"]) == (old.id, "default", ADMIN)
        data = entry["data"]
        assert isinstance(data, dict)
        artifact = next(a for a in old.artifacts if a.kind == data["kind"])
        assert (data["files"], data["bytes"], data["retention_days"]) == (1, artifact.size, 30)
        assert "Müller" not in json.dumps(entry, ensure_ascii=False)
    assert store.verify_audit().ok


def test_reports_and_logs_keep_their_own_periods(store: RunStore, runs: FinishedRuns) -> None:
    settings = load_settings(retention={"evidence_days": 30, "reports_days": 90, "logs_days": 200})
    files = {"shot.png": K.SCREENSHOT, "report/bericht.html": K.REPORT, "run.log.jsonl": K.LOG}
    ancient = runs.add(400, files)
    older = runs.add(100, files)
    old = runs.add(40, files)

    apply_retention(store, settings, actor=ADMIN)

    assert deleted_kinds(store, ancient) == {K.SCREENSHOT, K.REPORT, K.LOG}
    assert deleted_kinds(store, older) == {K.SCREENSHOT, K.REPORT}
    assert deleted_kinds(store, old) == {K.SCREENSHOT}
    assert on_disk(older) == {K.SCREENSHOT: False, K.REPORT: False, K.LOG: True}
    # The emptied report directory went with its files; the run directory holds the log.
    assert not (Path(older.run_dir or "") / "report").exists()
    # Every file of the oldest run is gone, and so is its empty run directory.
    assert not Path(ancient.run_dir or "").exists()


def test_a_tenant_setting_overrides_the_global_period(store: RunStore, runs: FinishedRuns) -> None:
    settings = load_settings(tenants={"marburg": {"retention": {"evidence_days": 7}}})
    marburg = runs.add(10, tenant="marburg")
    giessen = runs.add(10, tenant="giessen")

    outcome = apply_retention(store, settings, actor=ADMIN)

    assert deleted_kinds(store, marburg) == EVIDENCE
    assert deleted_kinds(store, giessen) == set()
    assert {(d.tenant, d.days) for d in outcome.deletions} == {("marburg", 7)}


def test_only_the_tenant_asked_for_is_touched(
    store: RunStore, settings: Settings, runs: FinishedRuns
) -> None:
    marburg = runs.add(40, tenant="marburg")
    giessen = runs.add(40, tenant="giessen")

    apply_retention(store, settings, actor=ADMIN, tenant="giessen")

    assert deleted_kinds(store, giessen) == EVIDENCE
    assert all(on_disk(marburg).values())


def test_a_dry_run_deletes_nothing_and_names_what_apply_then_deletes(
    store: RunStore, settings: Settings, runs: FinishedRuns
) -> None:
    old = runs.add(40)
    runs.add(5)
    head = store.audit_head()

    dry = apply_retention(store, settings, actor=ADMIN, dry_run=True)

    assert all(on_disk(old).values())
    assert deleted_kinds(store, old) == set()
    assert store.audit_head() == head
    done = apply_retention(store, settings, actor=ADMIN)
    assert dry.dry_run and not done.dry_run
    assert dry.deletions == done.deletions


def test_a_second_apply_finds_nothing_to_do(
    store: RunStore, settings: Settings, runs: FinishedRuns
) -> None:
    runs.add(40)
    apply_retention(store, settings, actor=ADMIN)
    head = store.audit_head()

    again = apply_retention(store, settings, actor=ADMIN)

    assert again.nothing and again.deletions == ()
    assert store.audit_head() == head


def test_the_history_still_shows_a_run_whose_evidence_is_gone(
    store: RunStore, settings: Settings, runs: FinishedRuns
) -> None:
    old = runs.add(40)
    apply_retention(store, settings, actor=ADMIN)

    shown = store.get_run(old.id)
    lines = run_details(shown, max_robot_losses=2)

    today = f"{utc_now():%Y-%m-%d}"
    shot = next(line for line in lines if "failure.png" in line)
    assert shot.endswith(f"deleted by retention on {today}")
    log = next(line for line in lines if "run.log.jsonl" in line)
    assert "deleted" not in log
    as_json = shown.to_json(with_details=True)["artifacts"]
    assert {a["kind"]: a["deleted_at"] is not None for a in as_json}[K.TRACE] is True


def test_work_item_evidence_links_say_the_file_was_deleted(
    store: RunStore, settings: Settings, runs: FinishedRuns
) -> None:
    queues = store.queues
    queues.create_queue("default", "gewerbe", actor=ADMIN)
    queues.add_item("default", "gewerbe", "GA-2026-0815", {"name": "Müller"}, actor=ADMIN)
    run = runs.add(40, {"items/1/failure.png": K.SCREENSHOT, "run.log.jsonl": K.LOG})
    shot = next(a for a in run.artifacts if a.kind == K.SCREENSHOT)
    item = queues.claim_item("default", "gewerbe", holder=HOLDER, lease_s=60, run_id=run.id)
    assert item is not None
    queues.fail_item(item.id, holder=HOLDER, kind="business", message="Gewerbe unklar",
                     evidence=[shot.path], run_id=run.id)  # fmt: skip

    ended = queues.get_item(item.id).updated_at

    apply_retention(store, settings, actor=ADMIN)

    noted = queues.get_item(item.id)
    today = f"{utc_now():%Y-%m-%d}"
    assert noted.evidence == [f"{shot.path} (deleted by retention on {today})"]
    assert noted.updated_at == ended  # its payload's retention still counts from its end
    assert f"  evidence:   {shot.path} (deleted by retention on {today})" in item_details(noted)
    (entry,) = [e for e in retention_entries(store) if e["data"]["kind"] == "screenshot"]
    assert entry["data"]["work_items"] == [item.id]


def test_work_item_payloads_past_their_queue_retention_are_purged_and_counted(
    store: RunStore, settings: Settings
) -> None:
    queues = store.queues
    queues.create_queue("default", "gewerbe", retention_days=30, actor=ADMIN)
    queues.add_item("default", "gewerbe", "GA-1", {"name": "Müller"}, actor=ADMIN)
    item = queues.claim_item("default", "gewerbe", holder=HOLDER, lease_s=60)
    assert item is not None
    queues.complete_item(item.id, holder=HOLDER, output={"az": "GR-1"})
    with store.transactions.write() as connection:  # it ended 40 days ago
        connection.execute(
            update(WORK_ITEMS)
            .where(WORK_ITEMS.c.id == item.id)
            .values(updated_at=utc_now() - timedelta(days=40))
        )

    outcome = apply_retention(store, settings, actor=ADMIN)

    assert [(d.tenant, d.kind, d.count) for d in outcome.deletions] == [("default", PAYLOAD, 1)]
    purged = queues.get_item(item.id)
    assert (purged.payload, purged.reference) == (None, "GA-1")


def test_a_file_outside_its_run_directory_is_left_alone(
    store: RunStore, settings: Settings, runs: FinishedRuns, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere" / "wichtig.png"
    run = runs.add(40, {f"../../../elsewhere/{elsewhere.name}": K.SCREENSHOT})
    assert elsewhere.exists() and not elsewhere.is_relative_to(Path(run.run_dir or ""))

    outcome = apply_retention(store, settings, actor=ADMIN)

    assert elsewhere.exists()
    assert deleted_kinds(store, run) == set()
    (note,) = outcome.left_alone
    assert "outside the run's directory" in note and f"run {run.id}" in note


def test_every_artifact_kind_has_a_period() -> None:
    covered = [kind for kinds, _ in PERIODS.values() for kind in kinds]
    assert sorted(covered) == sorted(ArtifactKind)  # each once: a new kind needs a period


# ------------------------------------------------------------- killed between mark and unlink

KILLED_AFTER_MARKING = """
import os, signal, sys
from pathlib import Path

from orchestrator.retention import apply_retention
from orchestrator.settings import load_settings
from orchestrator.store import open_store

def killed(self, missing_ok=False):  # the deletion is recorded: die before removing a file
    os.kill(os.getpid(), signal.SIGKILL)

Path.unlink = killed
settings = load_settings()
with open_store(settings.database) as store:
    apply_retention(store, settings, actor="user:anna@default")
"""


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_a_kill_between_marking_and_removing_is_finished_by_the_next_apply(
    store: RunStore, settings: Settings, runs: FinishedRuns
) -> None:
    old = runs.add(40)

    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_MARKING],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert killed.returncode == -9, killed.stderr
    # The first kind's batch (html) is recorded as deleted and audited, its file still there:
    # no row says "present" of a file that is gone.
    assert deleted_kinds(store, old) == {K.HTML}
    assert all(on_disk(old).values())
    assert [e["data"]["kind"] for e in retention_entries(store)] == ["html"]
    outcome = apply_retention(store, settings, actor=ADMIN)
    assert outcome.finished == 1
    assert on_disk(old) == {K.SCREENSHOT: False, K.HTML: False, K.URL: False, K.TRACE: False,
                            K.LOG: True}  # fmt: skip
    assert apply_retention(store, settings, actor=ADMIN).nothing
    assert store.verify_audit().ok
