"""What the engine and the CLI rely on from the run history, on every backend."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from orchestrator.errors import RunNotFound
from orchestrator.results import ArtifactKind, ArtifactRecord, RunStatus, StepRecord, StepStatus
from orchestrator.store import RunRequest, RunStore, open_store

T0 = datetime(2025, 3, 14, 8, 30, 15, 123456, tzinfo=UTC)
BERLIN_WINTER = timezone(timedelta(hours=1))


def start(store: RunStore, **overrides: Any) -> int:
    """Start a run in this process, as ``bots run`` does; it is running until finished."""
    values: dict[str, Any] = {
        "tenant": "giessen",
        "bot_id": "gewerbe-abgleich",
        "bot_version": "1.2.0",
        "bot_digest": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "parameters": {"datum": "2025-03-14"},
        "trigger": "cli",
        "actor": "user:mueller@rpa-01",
        "max_parallel": 0,
    }
    values.update(overrides)
    return store.start_standalone(
        RunRequest(**values), holder="cli:rpa-01:4711", lease_s=600, pool_limits={}
    )


def step(path: str, started_at: datetime = T0, **overrides: Any) -> StepRecord:
    values: dict[str, Any] = {
        "path": path,
        "kind": "click",
        "name": None,
        "status": StepStatus.OK,
        "started_at": started_at,
        "duration_ms": 120,
    }
    values.update(overrides)
    return StepRecord(**values)


def test_a_run_round_trips_with_steps_and_artifacts(store: RunStore) -> None:
    before = datetime.now(UTC)
    parameters = {"ort": "Gießen", "anzahl": 3, "nur_neue": True, "filter": {"plz": ["35390"]}}
    run_id = start(store, parameters=parameters, trigger="user:mueller")
    steps = [
        step("steps[0]", kind="open", name="Civento öffnen"),
        step("steps[1].do[0]", status=StepStatus.RECOVERED, message="Zeitüberschreitung"),
        step("steps[2]", status=StepStatus.FAILED, duration_ms=30_000, message="not found"),
    ]
    artifacts = [
        ArtifactRecord(ArtifactKind.LOG, "runs/1/log.jsonl", "a" * 64, 2048),
        ArtifactRecord(
            ArtifactKind.SCREENSHOT, "/abs/shot.png", "b" * 64, 5_000_000_000, step_path="steps[2]"
        ),
    ]
    for s in steps:
        store.record_step(run_id, s)
    for a in artifacts:
        store.record_artifact(run_id, a)
    store.finish_run(run_id, RunStatus.FAILED, error="Element fehlt", error_step="steps[2]")

    run = store.get_run(run_id)

    assert (run.id, run.bot, run.version, run.tenant, run.trigger) == (
        run_id,
        "gewerbe-abgleich",
        "1.2.0",
        "giessen",
        "user:mueller",
    )
    assert run.digest.startswith("9f86d081")
    assert run.parameters == parameters
    assert run.status is RunStatus.FAILED
    assert (run.error, run.error_step) == ("Element fehlt", "steps[2]")
    assert run.steps == steps
    assert run.artifacts == artifacts
    assert run.started_at is not None and run.finished_at is not None
    assert before <= run.started_at <= run.finished_at <= datetime.now(UTC)
    assert run.started_at.tzinfo is UTC


def test_a_started_run_is_running_until_finished(store: RunStore) -> None:
    run_id = start(store)
    running = store.get_run(run_id)
    assert running.status is RunStatus.RUNNING
    assert running.started_at is not None and running.finished_at is None

    store.finish_run(run_id, RunStatus.SUCCEEDED)

    finished = store.get_run(run_id)
    assert finished.status is RunStatus.SUCCEEDED
    assert finished.error is None and finished.finished_at is not None


def test_times_come_back_as_the_same_instant_in_utc(store: RunStore) -> None:
    run_id = start(store)
    local = datetime(2025, 1, 31, 23, 59, 59, 999999, tzinfo=BERLIN_WINTER)
    store.record_step(run_id, step("steps[0]", started_at=local))

    stored = store.get_run(run_id).steps[0].started_at

    assert stored == local
    assert stored.tzinfo is UTC and stored.hour == 22


def test_naive_times_are_refused(store: RunStore) -> None:
    run_id = start(store)
    with pytest.raises(ValueError, match="timezone-aware"):
        store.record_step(run_id, step("steps[0]", started_at=datetime(2025, 1, 1, 12)))
    assert store.get_run(run_id).steps == []


def test_steps_keep_the_order_they_were_recorded_in(store: RunStore) -> None:
    run_id = start(store)
    other = start(store)
    paths = [f"steps[{i}]" for i in range(12)]
    for i, path in enumerate(paths):
        # Start times deliberately out of order: the order of recording is what counts.
        store.record_step(run_id, step(path, started_at=T0 - timedelta(seconds=i)))
        store.record_step(other, step(f"other[{i}]"))

    assert [s.path for s in store.get_run(run_id).steps] == paths
    assert len(store.get_run(other).steps) == 12


def test_steps_recorded_in_batches_and_with_the_outcome_follow_each_other(
    store: RunStore, sql: Any
) -> None:
    run_id = start(store)
    batches = [[step(f"steps[{n}]") for n in range(k, k + 3)] for k in (0, 3)]
    for batch in batches:
        store.record_steps(run_id, batch)

    store.finish_run(run_id, RunStatus.SUCCEEDED, steps=[step("steps[6]"), step("steps[7]")])

    assert [s.path for s in store.get_run(run_id).steps] == [f"steps[{n}]" for n in range(8)]
    numbers = sql("SELECT seq FROM steps WHERE run_id = :r ORDER BY seq", r=run_id)
    assert [row.seq for row in numbers] == list(range(1, 9))


def test_list_runs_is_newest_first_limited_and_without_details(store: RunStore) -> None:
    ids = [start(store) for _ in range(5)]
    store.record_step(ids[-1], step("steps[0]"))

    runs = store.list_runs(limit=3)

    assert [r.id for r in runs] == ids[::-1][:3]
    assert all(r.steps == [] and r.artifacts == [] for r in runs)


def test_list_runs_filters_by_bot_and_tenant(store: RunStore) -> None:
    a_giessen = start(store, bot_id="a", tenant="giessen")
    b_giessen = start(store, bot_id="b", tenant="giessen")
    a_marburg = start(store, bot_id="a", tenant="marburg")

    def ids(**filters: Any) -> list[int]:
        return [r.id for r in store.list_runs(**filters)]

    assert ids() == [a_marburg, b_giessen, a_giessen]
    assert ids(bot_id="a") == [a_marburg, a_giessen]
    assert ids(tenant="giessen") == [b_giessen, a_giessen]
    assert ids(bot_id="a", tenant="marburg") == [a_marburg]
    assert ids(bot_id="unknown") == []


def test_get_run_is_scoped_to_the_tenant(store: RunStore) -> None:
    run_id = start(store, tenant="marburg")

    assert store.get_run(run_id, tenant="marburg").id == run_id
    with pytest.raises(RunNotFound, match=f"{run_id}.*giessen"):
        store.get_run(run_id, tenant="giessen")


def test_unknown_runs_are_reported_as_not_found(store: RunStore) -> None:
    # Steps and artifacts of unknown runs are refused by the foreign keys, which SQLite only
    # enforces when the store switches them on: this test also proves it does.
    start(store)
    missing = 4711
    with pytest.raises(RunNotFound):
        store.get_run(missing)
    with pytest.raises(RunNotFound):
        store.record_step(missing, step("steps[0]"))
    with pytest.raises(RunNotFound):
        store.record_artifact(missing, ArtifactRecord(ArtifactKind.LOG, "x", "c" * 64, 1))
    with pytest.raises(RunNotFound):
        store.finish_run(missing, RunStatus.SUCCEEDED)
    with pytest.raises(RunNotFound):
        store.set_run_dir(missing, "runs/4711")


def test_finish_run_needs_a_terminal_status(store: RunStore) -> None:
    run_id = start(store)
    with pytest.raises(ValueError, match="terminal"):
        store.finish_run(run_id, RunStatus.RUNNING)
    assert store.get_run(run_id).finished_at is None


def test_set_run_dir_stores_the_directory(store: RunStore, database_url: str) -> None:
    run_id = start(store)
    store.set_run_dir(run_id, "runs/42")

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            stored = connection.execute(
                sa.text("SELECT run_dir FROM runs WHERE id = :id"), {"id": run_id}
            ).scalar_one()
    finally:
        engine.dispose()
    assert stored == "runs/42"


def test_reopening_keeps_the_history(database_url: str) -> None:
    with open_store(database_url) as first:
        run_id = start(first)
        first.finish_run(run_id, RunStatus.SUCCEEDED)

    with open_store(database_url) as again:
        assert [r.id for r in again.list_runs()] == [run_id]
        assert start(again) > run_id
        again.ping()


CRASHING_RUN = """
import os, sys
from datetime import UTC, datetime
from orchestrator.results import StepRecord, StepStatus
from orchestrator.store import RunRequest, open_store

store = open_store(sys.argv[1])
request = RunRequest(tenant="t", bot_id="b", bot_version="1", bot_digest="d", parameters={},
                     trigger="cli", actor="user:alice", max_parallel=0)
run_id = store.start_standalone(request, holder="cli:host:1", lease_s=600, pool_limits={})
store.record_step(run_id, StepRecord("steps[0]", "open", None, StepStatus.OK,
                                     datetime.now(UTC), 5))
print(run_id, flush=True)
os._exit(9)  # dies mid-run: no finish_run, no close
"""


def test_a_crash_mid_run_leaves_what_was_recorded(database_url: str) -> None:
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_RUN, database_url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert crashed.returncode == 9, crashed.stderr

    with open_store(database_url) as store:
        run = store.get_run(int(crashed.stdout))
    assert run.status is RunStatus.RUNNING
    assert [s.path for s in run.steps] == ["steps[0]"]
