"""Claims per second: how fast robots sharing one PostgreSQL empty a queue of no-op runs.

A throw-away PostgreSQL server, 2,000 queued runs of a no-op bot (no labels, ``max_parallel``
0, no pools: nothing limits the claims), 4 robot processes (``bots robot start
--concurrency 8``). The runs are queued with a ``not_before`` a few seconds ahead, so every
robot has registered and is polling when they become claimable: the clock starts then. Prints

- ``claims_per_second``: 2,000 / time until no run is queued any more (all claimed; robots
  claim only for free slots, so this includes executing all but the last few; aim: at least
  200 on 2 cores);
- ``runs_per_second``: 2,000 / time until every run has ended (all through ``run_bot``).

Run it with ``python -m benchmarks.claims [--runs N] [--robots N] [--concurrency N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from orchestrator.model.loader import resolve_bot
from orchestrator.requests import run_request
from orchestrator.settings import PROJECT_ROOT, load_settings
from orchestrator.store import RunStore, open_store
from sandbox.postgres import throwaway_postgres

TENANT = "bench"
NOOP_BOT = {
    "id": "noop",
    "name": "Nichts tun",
    "version": "1.0.0",
    "owner": {"city": "Gießen", "fachamt": "IT"},
    "execution": {"max_parallel": 0},
    "steps": [{"set": {"done": "ja"}}],
}
START_MARGIN_S = 15.0  # robots start and runs are queued meanwhile


def queue_runs(
    store: RunStore, bot_dirs: list[Path], runs: int, *, not_before: datetime | None
) -> None:
    """Queue ``runs`` runs of the no-op bot, claimable from ``not_before`` (None: now)."""
    settings = load_settings(bot_dirs=bot_dirs, tenant=TENANT)
    request = run_request(
        resolve_bot("noop", bot_dirs),
        settings=settings,
        tenant=TENANT,
        params={},
        trigger="benchmark",
        actor="benchmark:claims",
        not_before=not_before,
    )
    for _ in range(runs):
        store.enqueue(request)


def _wait_registered(store: RunStore, names: set[str], until: float) -> None:
    while {r.name for r in store.list_robots()} < names:
        if time.monotonic() > until:
            raise SystemExit("robots did not register in time: raise START_MARGIN_S")
        time.sleep(0.05)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--robots", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp, throwaway_postgres() as server:
        bot_dir = Path(tmp) / "bots" / "noop"
        bot_dir.mkdir(parents=True)
        (bot_dir / "bot.yaml").write_text(json.dumps(NOOP_BOT), encoding="utf-8")
        url = server.new_database()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("BOTS_")},
            "BOTS_DATABASE_URL": url,
            "BOTS_DATA_DIR": str(Path(tmp) / "data"),
            "BOTS_BOT_DIRS": json.dumps([str(bot_dir.parent)]),
            "BOTS_TENANT": TENANT,
            "BOTS_LOG_LEVEL": "warning",
            "BOTS_ROBOT__POLL_S": "0.05",
        }
        with open_store(url) as store:
            start_at = time.monotonic() + START_MARGIN_S
            not_before = datetime.now(UTC) + timedelta(seconds=START_MARGIN_S)
            names = [f"bench-{n}" for n in range(args.robots)]
            robots = [
                subprocess.Popen(
                    [
                        sys.executable,
                        "-c",
                        "import cli; cli.main()",
                        "robot",
                        "start",
                        "--name",
                        name,
                        "--concurrency",
                        str(args.concurrency),
                    ],
                    env=env,
                    cwd=PROJECT_ROOT,
                    stdout=subprocess.DEVNULL,
                )
                for name in names
            ]
            try:
                queue_runs(store, [bot_dir.parent], args.runs, not_before=not_before)
                _wait_registered(store, set(names), start_at)
                time.sleep(max(0.0, start_at - time.monotonic()))
                claimed_at = finished_at = None
                while finished_at is None:
                    counts = store.count_runs()
                    now = time.monotonic()
                    if claimed_at is None and not counts.get("queued"):
                        claimed_at = now
                    if sum(counts.get(s, 0) for s in ("queued", "claimed", "running")) == 0:
                        finished_at = now
                    time.sleep(0.05)  # coarse enough not to load the 2 cores, fine for ~10 s
                failed = args.runs - store.count_runs().get("succeeded", 0)
            finally:
                for robot in robots:
                    robot.send_signal(signal.SIGTERM)
                for robot in robots:
                    robot.wait(timeout=60)
    assert claimed_at is not None
    print(f"claims_per_second: {args.runs / (claimed_at - start_at):.0f}")
    print(f"runs_per_second: {args.runs / (finished_at - start_at):.0f}")
    if failed:
        print(f"runs_not_succeeded: {failed}")


if __name__ == "__main__":
    main()
