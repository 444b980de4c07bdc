"""Robots as separate processes (``bots robot start``) sharing one PostgreSQL."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from orchestrator.results import RunStatus
from orchestrator.settings import PROJECT_ROOT
from orchestrator.store import RunStore, open_store
from sandbox.postgres import PostgresServer

if TYPE_CHECKING:
    from conftest import Note, ScratchBots

pytestmark = pytest.mark.slow

LEASE_S = 2.0
BOTS = [sys.executable, "-c", "import cli; cli.main()"]  # the console script, from the checkout


@pytest.fixture
def store(postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunStore]:
    """A fresh PostgreSQL database; robots started by the test use it too."""
    url = postgres_server.new_database()
    monkeypatch.setenv("BOTS_DATABASE_URL", url)
    monkeypatch.setenv("BOTS_TENANT", "giessen")
    monkeypatch.setenv("BOTS_LOG_LEVEL", "warning")
    monkeypatch.setenv("BOTS_ROBOT__POLL_S", "0.05")
    monkeypatch.setenv("BOTS_ORCHESTRATOR__LEASE_S", str(LEASE_S))
    monkeypatch.setenv("BOTS_ORCHESTRATOR__REAP_EVERY_S", "0.5")
    with open_store(url) as opened:
        yield opened


@pytest.fixture
def start_robot(
    store: RunStore, tmp_path: Path
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Starts ``bots robot start --name NAME ...`` and waits until it registered."""
    started: list[subprocess.Popen[bytes]] = []

    def start(name: str, *args: str) -> subprocess.Popen[bytes]:
        with (tmp_path / f"{name}.log").open("wb") as log:
            robot = subprocess.Popen(
                [*BOTS, "robot", "start", "--name", name, *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=PROJECT_ROOT,
            )
        started.append(robot)
        wait_for(
            lambda: (
                robot.poll() is not None
                or any(r.name == name and r.pid == robot.pid for r in store.list_robots())
            )
        )
        assert robot.poll() is None, (tmp_path / f"{name}.log").read_text()
        return robot

    yield start
    for robot in started:
        if robot.poll() is None:
            robot.kill()
            robot.wait()


def wait_for(condition: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def most_at_once(notes: list[Note]) -> int:
    """The most runs between their ``start`` and ``end`` notes at one moment."""
    events = sorted((n.at, 1 if n.what == "start" else -1) for n in notes if n.what != "ran")
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    return peak


def test_three_robots_execute_every_run_exactly_once(
    store: RunStore, scratch_bots: ScratchBots, start_robot: Callable[..., subprocess.Popen[bytes]]
) -> None:
    scratch_bots.add("kurz", execution={"max_parallel": 0})
    # All three are up before the work comes: a robot that started first would otherwise be
    # done with all 200 short runs before the others registered, on a fast machine.
    robots = [start_robot(f"robot-{n}", "--concurrency", "4") for n in range(3)]
    queued = {scratch_bots.enqueue(store, "kurz") for _ in range(200)}
    wait_for(lambda: store.count_runs().get("succeeded") == 200, timeout=300)
    for robot in robots:
        robot.send_signal(signal.SIGTERM)
    assert [robot.wait(timeout=15) for robot in robots] == [0, 0, 0]

    assert store.count_runs() == {RunStatus.SUCCEEDED.value: 200}
    executed = Counter(note.run_id for note in scratch_bots.notes())
    assert set(executed) == queued
    assert set(executed.values()) == {1}, "a run was executed twice"
    running = Counter(e["run_id"] for e in store.export_audit() if e["action"] == "running")
    assert running == dict.fromkeys(queued, 1)
    assert len({note.pid for note in scratch_bots.notes()}) > 1, "one robot did everything"
    assert store.verify_audit().ok


def test_run_of_a_killed_robot_is_requeued_or_lost_and_never_left_running(
    store: RunStore, scratch_bots: ScratchBots, start_robot: Callable[..., subprocess.Popen[bytes]]
) -> None:
    # Pauses far longer than it takes to see both start: the kill comes while they run.
    scratch_bots.add("nachsehen", pause=10, execution={"max_parallel": 0, "retry_safe": True})
    scratch_bots.add("buchen", pause=10, execution={"max_parallel": 0})
    safe = scratch_bots.enqueue(store, "nachsehen")
    unsafe = scratch_bots.enqueue(store, "buchen")
    doomed = start_robot("robot-doomed", "--concurrency", "2")
    wait_for(lambda: sum(n.what == "start" for n in scratch_bots.notes()) == 2)

    doomed.kill()
    doomed.wait()
    assert {store.get_run(safe).status, store.get_run(unsafe).status} == {RunStatus.RUNNING}
    settled: dict[int, RunStatus] = {}

    def reaped_both() -> bool:  # standing in for the orchestrators
        settled.update(store.reap_expired())
        return len(settled) == 2

    # The lease, not the machine's speed, settles them: a run is never left running.
    wait_for(reaped_both)
    assert settled == {safe: RunStatus.QUEUED, unsafe: RunStatus.LOST}
    assert "lease expired (holder robot-doomed#" in (store.get_run(unsafe).error or "")

    survivor = start_robot("robot-survivor")
    wait_for(lambda: store.get_run(safe).status.is_terminal)
    assert store.get_run(safe).status is RunStatus.SUCCEEDED
    assert store.get_run(unsafe).status is RunStatus.LOST
    ends = [(n.run_id, n.pid) for n in scratch_bots.notes() if n.what == "end"]
    assert ends == [(safe, survivor.pid)]


def test_pool_capacity_holds_across_robots(
    store: RunStore,
    scratch_bots: ScratchBots,
    start_robot: Callable[..., subprocess.Popen[bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each robot alone can run 2 at once, together 4: only sharing the pool's count keeps 3.
    monkeypatch.setenv("BOTS_POOLS", json.dumps({"fachverfahren": 3}))
    scratch_bots.add(
        "abgleich", pause=0.4, execution={"max_parallel": 0, "pools": ["fachverfahren"]}
    )
    for n in range(2):
        start_robot(f"robot-{n}", "--concurrency", "2")
    runs = [scratch_bots.enqueue(store, "abgleich") for _ in range(9)]
    wait_for(lambda: store.count_runs().get("succeeded") == len(runs))

    notes = scratch_bots.notes()
    assert len({note.pid for note in notes}) == 2, "both robots should have taken runs"
    assert most_at_once(notes) <= 3


def test_sigterm_lets_the_running_run_finish_and_a_second_one_cancels_it(
    store: RunStore, scratch_bots: ScratchBots, start_robot: Callable[..., subprocess.Popen[bytes]]
) -> None:
    scratch_bots.add("langsam", pause=5, execution={"max_parallel": 0})
    # Both robots up before anything is queued: neither gets to a second run first.
    polite = start_robot("robot-giessen", "--tenants", "giessen")
    hurried = start_robot("robot-marburg", "--tenants", "marburg")
    giessen = scratch_bots.enqueue(store, "langsam", tenant="giessen")
    giessen_later = scratch_bots.enqueue(store, "langsam", tenant="giessen")
    marburg = scratch_bots.enqueue(store, "langsam", tenant="marburg")
    wait_for(lambda: {n.run_id for n in scratch_bots.notes()} == {giessen, marburg})

    polite.send_signal(signal.SIGTERM)
    hurried.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    hurried.send_signal(signal.SIGTERM)

    assert (polite.wait(timeout=15), hurried.wait(timeout=15)) == (0, 0)
    assert store.get_run(giessen).status is RunStatus.SUCCEEDED
    assert store.get_run(giessen_later).status is RunStatus.QUEUED, "claimed after SIGTERM"
    assert store.get_run(marburg).status is RunStatus.CANCELLED
    assert all(robot.stopped_at is not None for robot in store.list_robots())


def test_a_robot_restarted_under_its_name_hands_back_its_runs_at_once(
    store: RunStore,
    scratch_bots: ScratchBots,
    start_robot: Callable[..., subprocess.Popen[bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A lease far longer than the test: only the restart can free the dead robot's run.
    monkeypatch.setenv("BOTS_ORCHESTRATOR__LEASE_S", "600")
    scratch_bots.add("einzeln", pause=2, execution={"retry_safe": True})  # one run at a time
    first = scratch_bots.enqueue(store, "einzeln")
    behind = scratch_bots.enqueue(store, "einzeln")
    crashed = start_robot("robot-fest")
    wait_for(lambda: [n.run_id for n in scratch_bots.notes() if n.what == "start"] == [first])
    dead_instance = store.get_run(first).holder
    crashed.kill()
    crashed.wait()

    restarted = start_robot("robot-fest")  # returns once the new instance registered

    handed_back = store.get_run(first, details=False)
    assert handed_back.holder != dead_instance
    assert handed_back.robot_losses == 1 and handed_back.attempt == 1
    wait_for(lambda: store.get_run(behind).status is RunStatus.SUCCEEDED)
    assert store.get_run(first).status is RunStatus.SUCCEEDED
    ends = [(n.run_id, n.pid) for n in scratch_bots.notes() if n.what == "end"]
    assert ends == [(first, restarted.pid), (behind, restarted.pid)]
    reasons = [
        e["data"].get("reason", "")
        for e in store.export_audit()
        if e["run_id"] == first and e["action"] == "queued"
    ]
    assert any("robot robot-fest restarted" in reason for reason in reasons), reasons
    assert not any(e["actor"] == "system:lease-expiry" for e in store.export_audit())


def test_a_second_live_robot_under_one_name_refuses_to_start(
    store: RunStore, start_robot: Callable[..., subprocess.Popen[bytes]]
) -> None:
    first = start_robot("robot-einmalig")

    second = subprocess.run(
        [*BOTS, "robot", "start", "--name", "robot-einmalig"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
    )

    assert second.returncode == 75, second.stderr
    assert "robot 'robot-einmalig' is already running" in second.stderr
    assert f"pid {first.pid}" in second.stderr
    assert "Traceback" not in second.stderr
    robot = store.robot("robot-einmalig")
    assert robot is not None and robot.pid == first.pid and first.poll() is None


def test_a_robot_loss_does_not_use_up_the_bots_retries(
    store: RunStore,
    scratch_bots: ScratchBots,
    start_robot: Callable[..., subprocess.Popen[bytes]],
) -> None:
    # Lost once with its robot, then the Fachverfahren is down: the retry must still come.
    scratch_bots.add(
        "ausfall",
        pause=2,
        fail=True,
        execution={"retry_safe": True, "retries": {"attempts": 2, "backoff_s": 0}},
    )
    run_id = scratch_bots.enqueue(store, "ausfall")
    doomed = start_robot("robot-weg")
    wait_for(lambda: any(n.what == "start" for n in scratch_bots.notes()))
    doomed.kill()
    doomed.wait()

    start_robot("robot-weg")
    wait_for(lambda: store.get_run(run_id).status is RunStatus.FAILED)
    failed = store.get_run(run_id, details=False)
    assert (failed.attempt, failed.robot_losses) == (1, 1)
    retry_id = store.retry_of(run_id)
    assert retry_id is not None, "the robot loss used up the retry"
    wait_for(lambda: store.get_run(retry_id).status is RunStatus.FAILED)
    retry = store.get_run(retry_id, details=False)
    assert (retry.attempt, retry.retries_left, retry.robot_losses) == (2, 0, 0)
