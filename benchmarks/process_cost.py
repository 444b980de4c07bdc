"""Process cost: what an idle robot holds and what ``bots --help`` takes.

- ``robot_idle_rss_mb``: ``bots robot start`` against a throw-away store (SQLite in a
  temporary data dir, its schema made before the robot starts, as a robot meets the store
  of a running installation: only the first process opening a new one migrates it) is
  waited for until it has registered and polled idle for a moment;
  its resident memory is then read from ``/proc/PID/status`` (``VmRSS``) and it is stopped
  (aim: 80 MB);
- ``cli_help_seconds``: the median wall time of ``bots --help`` as a subprocess over
  ``--rounds`` rounds (aim: 0.3 s).

Both are what importing the command's modules costs: a command imports what it needs when it
needs it. Run it with ``python -m benchmarks.process_cost [--rounds N]``.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.cli_overhead import bots_command
from orchestrator.settings import PROJECT_ROOT, load_settings
from orchestrator.store import open_store

ROBOT = "idle"
REGISTER_TIMEOUT_S = 60.0
IDLE_S = 2.0  # a few polls after registering: the memory of a robot at rest


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise LookupError(f"no VmRSS for process {pid}")


def robot_idle_rss_mb() -> float | None:
    """The idle robot's resident memory in MB; None (and why, printed) if it did not start."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("BOTS_")},
            "BOTS_DATA_DIR": tmp,
            "BOTS_LOG_LEVEL": "warning",
        }
        database = load_settings(data_dir=Path(tmp)).database
        open_store(database).close()  # the schema in place
        robot = subprocess.Popen(
            [*bots_command(), "robot", "start", "--name", ROBOT],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + REGISTER_TIMEOUT_S
            while time.monotonic() < deadline and robot.poll() is None:
                if Path(tmp, "bots.sqlite").is_file():
                    with open_store(database) as store:
                        if any(r.name == ROBOT for r in store.list_robots()):
                            break
                time.sleep(0.2)
            else:
                print(f"robot_idle: not registered (exit {robot.poll()})")
                return None
            time.sleep(IDLE_S)
            return _rss_mb(robot.pid)
        finally:
            robot.send_signal(signal.SIGTERM)
            robot.wait(timeout=60)


def cli_help_seconds(rounds: int) -> float:
    """Median seconds of ``bots --help``."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run([*bots_command(), "--help"], cwd=PROJECT_ROOT, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    rss = robot_idle_rss_mb()
    if rss is not None:
        print(f"robot_idle_rss_mb: {rss:.0f}")
    print(f"cli_help_seconds: {cli_help_seconds(args.rounds):.2f}")


if __name__ == "__main__":
    main()
