"""A robot in this process, on SQLite: what it takes from the queue and how runs end."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest

import orchestrator.robot_runs as robot_module
from orchestrator.errors import RobotNameTaken
from orchestrator.results import RunRecord, RunStatus
from orchestrator.robot import Robot
from orchestrator.settings import Settings, load_settings
from orchestrator.store import ClaimedRun, RunStore, open_store

if TYPE_CHECKING:
    from conftest import ScratchBots

TENANT = "giessen"


@pytest.fixture
def settings(scratch_bots: ScratchBots) -> Settings:
    return load_settings(
        tenant=TENANT,
        orchestrator={"lease_s": 1.5, "reap_every_s": 0.2},
        robot={"poll_s": 0.05},
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[RunStore]:
    with open_store(settings.database) as opened:
        yield opened


@contextmanager
def robot_running(settings: Settings, store: RunStore, **options: Any) -> Iterator[Robot]:
    """A robot serving in a thread until the block ends (then stopped, joined)."""
    robot = Robot(settings, store, name="robot-test", **options)
    stop = threading.Event()
    thread = threading.Thread(target=robot.run, args=(stop,))
    thread.start()
    try:
        yield robot
    finally:
        stop.set()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the robot did not stop"


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def status(store: RunStore, run_id: int) -> RunStatus:
    return store.get_run(run_id).status


def ended(store: RunStore, run_id: int) -> bool:
    return status(store, run_id).is_terminal


def test_robot_takes_no_run_needing_a_label_it_lacks(
    settings: Settings, store: RunStore, scratch_bots: ScratchBots
) -> None:
    scratch_bots.add("fachverfahren-buchen", execution={"labels": ["drucker"]})
    # a bot needing nothing beyond the robot's labels (a label of a connector it does not use
    # would be a validation error: its steps are hook calls)
    scratch_bots.add("civento-lesen")
    printer = scratch_bots.enqueue(store, "fachverfahren-buchen")  # older: claimed first
    browser = scratch_bots.enqueue(store, "civento-lesen")

    with robot_running(settings, store, labels=["browser"], concurrency=2):
        wait_for(lambda: ended(store, browser))

    assert status(store, browser) is RunStatus.SUCCEEDED
    assert status(store, printer) is RunStatus.QUEUED


def test_robot_takes_only_runs_of_its_tenants(
    settings: Settings, store: RunStore, scratch_bots: ScratchBots
) -> None:
    scratch_bots.add("meldung")
    marburg = scratch_bots.enqueue(store, "meldung", tenant="marburg")  # older
    giessen = scratch_bots.enqueue(store, "meldung", tenant="giessen")

    with robot_running(settings, store, tenants=["giessen"], concurrency=2):
        wait_for(lambda: ended(store, giessen))

    assert status(store, giessen) is RunStatus.SUCCEEDED
    assert store.get_run(giessen).tenant == "giessen"
    assert status(store, marburg) is RunStatus.QUEUED
    [registered] = store.list_robots()
    assert (registered.name, registered.tenants) == ("robot-test", ["giessen"])
    assert registered.stopped_at is not None


def test_bot_with_max_parallel_one_never_runs_twice_at_once(
    settings: Settings, store: RunStore, scratch_bots: ScratchBots
) -> None:
    scratch_bots.add("einzeln", pause=0.3, execution={"max_parallel": 1})
    runs = [scratch_bots.enqueue(store, "einzeln") for _ in range(3)]

    with robot_running(settings, store, concurrency=3):
        wait_for(lambda: all(ended(store, run_id) for run_id in runs))

    assert {status(store, run_id) for run_id in runs} == {RunStatus.SUCCEEDED}
    notes = scratch_bots.notes()
    starts = sorted(n.at for n in notes if n.what == "start")
    ends = sorted(n.at for n in notes if n.what == "end")
    assert len(starts) == len(ends) == 3
    assert all(end <= next_start for end, next_start in zip(ends, starts[1:], strict=False))


def test_cancelling_a_running_run_stops_it_as_cancelled(
    settings: Settings, store: RunStore, scratch_bots: ScratchBots
) -> None:
    scratch_bots.add("lang", pause=60)
    run_id = scratch_bots.enqueue(store, "lang")

    with robot_running(settings, store):
        wait_for(lambda: any(n.what == "start" for n in scratch_bots.notes()))
        assert store.cancel(run_id, tenant=TENANT, actor="user:alice@rpa-01") is RunStatus.RUNNING
        wait_for(lambda: ended(store, run_id), timeout=10)

    assert status(store, run_id) is RunStatus.CANCELLED
    assert not any(n.what == "end" for n in scratch_bots.notes())


def test_failed_run_is_retried_as_a_new_attempt(
    settings: Settings, store: RunStore, scratch_bots: ScratchBots
) -> None:
    scratch_bots.add("wackelig", fail=True, execution={"retries": {"attempts": 2, "backoff_s": 0}})
    first = scratch_bots.enqueue(store, "wackelig")

    with robot_running(settings, store):
        wait_for(lambda: len(store.list_runs(tenant=TENANT)) == 2)
        wait_for(lambda: all(r.status.is_terminal for r in store.list_runs(tenant=TENANT)))

    runs = store.list_runs(tenant=TENANT)
    assert [r.status for r in runs] == [RunStatus.FAILED, RunStatus.FAILED], "no third attempt"
    assert "Fachverfahren antwortet nicht" in (store.get_run(first).error or "")
    [retry] = [r.id for r in runs if r.id != first]
    [queued] = [
        entry
        for entry in store.export_audit(tenant=TENANT)
        if entry["run_id"] == retry and entry["action"] == "queued"
    ]
    assert queued["actor"].startswith("robot:robot-test#")
    assert (queued["data"]["retry_of"], queued["data"]["attempt"]) == (first, 2)
    assert store.get_run(retry).trigger == "retry"


def test_run_of_a_bot_that_cannot_be_loaded_fails_with_the_reason(
    settings: Settings, store: RunStore, scratch_bots: ScratchBots
) -> None:
    bot_dir = scratch_bots.add("verschwunden")
    run_id = scratch_bots.enqueue(store, "verschwunden")
    shutil.rmtree(bot_dir)

    with robot_running(settings, store):
        wait_for(lambda: ended(store, run_id))

    run = store.get_run(run_id)
    assert run.status is RunStatus.FAILED
    assert "cannot load bot 'verschwunden'" in (run.error or "")


def test_run_hanging_past_its_timeout_is_ended_as_timed_out_by_the_robot(
    settings: Settings,
    store: RunStore,
    scratch_bots: ScratchBots,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scratch_bots.add("haengt", timeout=0.3)
    run_id = scratch_bots.enqueue(store, "haengt")
    released = threading.Event()

    def hanging_engine(
        bot: Any, claimed: ClaimedRun, *, store: RunStore, holder: str, cancel: threading.Event,
        **_: Any,
    ) -> RunRecord:  # fmt: skip
        """An engine stuck in a step that ignores every timeout, until cancelled."""
        store.mark_running(claimed.id, holder=holder)
        if cancel.wait(10):
            released.set()
        return store.get_run(claimed.id)

    monkeypatch.setattr(robot_module, "run_claimed", hanging_engine)
    monkeypatch.setattr(robot_module, "WATCHDOG_GRACE_S", 0.2)

    with robot_running(settings, store):
        wait_for(lambda: ended(store, run_id), timeout=5)
        assert released.wait(5), "the hung run was not told to stop"

    run = store.get_run(run_id)
    assert run.status is RunStatus.TIMED_OUT
    assert "ended by robot robot-test#" in (run.error or "")


def test_a_second_robot_under_the_same_name_in_one_process_refuses(
    settings: Settings, store: RunStore
) -> None:
    with robot_running(settings, store) as first:
        wait_for(lambda: store.robot("robot-test") is not None)
        twin = Robot(settings, store, name="robot-test")
        with pytest.raises(RobotNameTaken, match="already running in this process"):
            twin.run(threading.Event())
        registered = store.robot("robot-test")
        assert registered is not None and registered.instance == first.instance


def test_a_robot_whose_name_another_instance_took_over_stops(
    settings: Settings, store: RunStore, scratch_bots: ScratchBots
) -> None:
    scratch_bots.add("lange", pause=60, execution={"retry_safe": True})
    run_id = scratch_bots.enqueue(store, "lange")
    robot = Robot(settings, store, name="robot-test")
    thread = threading.Thread(target=robot.run, args=(threading.Event(),))
    thread.start()
    wait_for(lambda: status(store, run_id) is RunStatus.RUNNING)

    # What a restart elsewhere does after this process seemed gone (frozen past its lease).
    store.register_robot(
        "robot-test", instance="robot-test#elsewhere", tenants=[TENANT], labels=["browser"],
        concurrency=1, host="rpa-02", pid=1, replaces=robot.instance,
    )  # fmt: skip

    thread.join(timeout=30)
    assert not thread.is_alive(), "the replaced robot kept going"
    handed_back = store.get_run(run_id, details=False)
    assert (handed_back.status, handed_back.robot_losses) == (RunStatus.QUEUED, 1)
    registered = store.robot("robot-test")
    assert registered is not None
    assert (registered.instance, registered.stopped_at) == ("robot-test#elsewhere", None)
