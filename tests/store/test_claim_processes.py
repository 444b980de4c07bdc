"""Robots in separate processes share one queue: every run is executed exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from orchestrator.results import RunStatus
from orchestrator.store import RunRequest, RunStore

ROBOTS = 3
RUNS = 200

ROBOT_WHEN_TOLD = """
import json, sys, time
from pathlib import Path
from orchestrator.results import RunStatus
from orchestrator.store import open_store

url, name, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
with open_store(url) as store:
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.002)
    done = []
    while claimed := store.claim(holder=name, tenants=["giessen"], labels=[], limit=4,
                                 lease_s=30, pool_limits={}):
        for run in claimed:
            store.mark_running(run.id, holder=name)
            store.finish_run(run.id, RunStatus.SUCCEEDED, holder=name)
            done.append(run.id)
print(json.dumps(done), flush=True)
"""


def test_robot_processes_claim_every_run_exactly_once(
    store: RunStore,
    database_url: str,
    new_request: Callable[..., RunRequest],
    tmp_path: Path,
) -> None:
    queued = {store.enqueue(new_request(parameters={"n": n})) for n in range(RUNS)}
    go = tmp_path / "go"
    robots = [
        subprocess.Popen(
            [sys.executable, "-c", ROBOT_WHEN_TOLD, database_url, f"robot-{n}", str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(ROBOTS)
    ]
    for robot in robots:  # all connected and waiting: now they race
        assert robot.stdout is not None
        assert robot.stdout.readline().strip() == "ready"
    go.touch()
    outcomes = [robot.communicate(timeout=120) for robot in robots]

    for robot, (_, stderr) in zip(robots, outcomes, strict=True):
        assert robot.returncode == 0, stderr
    done = Counter(run_id for stdout, _ in outcomes for run_id in json.loads(stdout))
    assert set(done) == queued
    assert set(done.values()) == {1}, "a run was executed twice"
    assert store.count_runs() == {RunStatus.SUCCEEDED.value: RUNS}
    check = store.verify_audit()
    assert (check.ok, check.checked) == (True, RUNS * 4)
