"""Run overhead: the orchestrator's own time per no-op run, from its claim to its end.

A throw-away PostgreSQL server, ``--runs`` queued runs of a no-op bot (one ``set`` step,
nothing for a target system to do) and one robot with one slot, in this process: each run is
claimed, loaded, executed and ended (report, notifications) before the next is claimed, so
the wall time per run is what the orchestrator spends on it. Prints ``run_overhead_ms`` (the
median of ``--rounds`` rounds; aim: under 5 ms per run, so the claims of 4 robots on 2 cores
reach 200 per second).

Run it with ``python -m benchmarks.run_overhead [--runs N] [--rounds N]``; to see where the
time goes, under ``py-spy record -o profile.svg -- python -m benchmarks.run_overhead``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.claims import NOOP_BOT, TENANT, queue_runs
from orchestrator.robot import Robot
from orchestrator.settings import load_settings
from orchestrator.store import RunStore, open_store
from sandbox.postgres import throwaway_postgres


def _drain(store: RunStore, robot: Robot, runs: int) -> float:
    """Seconds until one robot has ended every queued run (succeeded or not)."""
    stop = threading.Event()
    worker = threading.Thread(target=robot.run, args=(stop,))
    started = time.perf_counter()
    worker.start()
    try:
        while sum(store.count_runs().get(s, 0) for s in ("queued", "claimed", "running")):
            if not worker.is_alive():
                raise SystemExit("the robot stopped before the runs ended")
            time.sleep(0.01)
        return time.perf_counter() - started
    finally:
        stop.set()
        worker.join()
        left = runs - store.count_runs().get("succeeded", 0)
        if left:
            print(f"run_overhead_not_succeeded: {left} of {runs}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    per_run_ms: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, throwaway_postgres() as server:
        bot_dirs = [Path(tmp) / "bots"]
        (bot_dirs[0] / "noop").mkdir(parents=True)
        (bot_dirs[0] / "noop" / "bot.yaml").write_text(json.dumps(NOOP_BOT), encoding="utf-8")
        settings = load_settings(
            bot_dirs=bot_dirs, tenant=TENANT, data_dir=Path(tmp) / "data", log_level="warning"
        )
        for _ in range(args.rounds):
            with open_store(server.new_database()) as store:
                queue_runs(store, bot_dirs, args.runs, not_before=None)
                robot = Robot(settings, store, concurrency=1, name="overhead")
                per_run_ms.append(_drain(store, robot, args.runs) * 1000 / args.runs)
    print(f"run_overhead_runs: {args.runs}")
    print(f"run_overhead_ms: {statistics.median(per_run_ms):.1f}")


if __name__ == "__main__":
    main()
