"""Dispatch latency: from a schedule's fire time to a robot starting the run.

A throw-away PostgreSQL server, one orchestrator process (``python -m orchestrator.scheduler``)
with a schedule firing every second, and two robot processes with the default poll interval.
For every scheduled run: its ``started_at`` minus its fire time (the one in its dedupe key).
Prints ``dispatch_latency_p95_ms`` (target <= 1,000) and the median.

Run it with ``python -m benchmarks.dispatch [--seconds N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from orchestrator.settings import PROJECT_ROOT
from orchestrator.store import open_store
from sandbox.postgres import throwaway_postgres

BOTS = [sys.executable, "-c", "import cli; cli.main()"]  # `bots`, from the checkout

NOOP_BOT = {
    "id": "noop",
    "name": "Nichts tun",
    "version": "1.0.0",
    "owner": {"city": "Gießen", "fachamt": "IT"},
    "execution": {"max_parallel": 0},
    "steps": [{"set": {"done": "ja"}}],
}


def measure(seconds: float) -> list[float]:
    """Latencies in ms of the scheduled runs started within ``seconds`` of firing."""
    with (
        tempfile.TemporaryDirectory(prefix="bots-dispatch-") as scratch,
        throwaway_postgres() as pg,
    ):
        bots = Path(scratch) / "bots"
        (bots / "noop").mkdir(parents=True)
        (bots / "noop" / "bot.yaml").write_text(json.dumps(NOOP_BOT), encoding="utf-8")
        url = pg.new_database()
        open_store(url).close()
        env = {
            **os.environ,
            "BOTS_DATABASE_URL": url,
            "BOTS_DATA_DIR": str(Path(scratch) / "data"),
            "BOTS_BOT_DIRS": json.dumps([str(bots)]),
            "BOTS_TENANT": "bench",
            "BOTS_SCHEDULES": json.dumps({"takt": {"bot": "noop", "cron": "* * * * * *"}}),
            "BOTS_LOG_LEVEL": "warning",
        }
        commands = [
            [*BOTS, "robot", "start", "--name", "robot-1", "--tenants", "bench"],
            [*BOTS, "robot", "start", "--name", "robot-2", "--tenants", "bench"],
            [sys.executable, "-m", "orchestrator.scheduler"],
        ]
        processes = [
            subprocess.Popen(c, cwd=PROJECT_ROOT, env=env, stderr=subprocess.DEVNULL)
            for c in commands
        ]
        try:
            time.sleep(seconds)
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(timeout=60)
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    text(
                        "SELECT dedupe_key, started_at FROM runs "
                        "WHERE trigger = 'schedule' AND started_at IS NOT NULL"
                    )
                ).all()
        finally:
            engine.dispose()
    latencies = []
    for key, started_at in rows:
        fired = datetime.fromisoformat(key.rsplit("@", 1)[1])
        latencies.append((started_at - fired).total_seconds() * 1000)
    return latencies


def main(argv: list[str] | None = None) -> None:
    """Print ``dispatch_latency_p95_ms``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=25.0, help="How long to measure.")
    args = parser.parse_args(argv)
    latencies = measure(args.seconds)
    if len(latencies) < 5:  # a busy machine: say so, and let the other figures be measured
        print(f"dispatch_runs: {len(latencies)} (too few to measure a latency)")
        return
    p95 = statistics.quantiles(latencies, n=20)[-1]
    print(f"dispatch_runs: {len(latencies)}")
    print(f"dispatch_latency_median_ms: {statistics.median(latencies):.0f}")
    print(f"dispatch_latency_p95_ms: {p95:.0f}")


if __name__ == "__main__":
    main()
