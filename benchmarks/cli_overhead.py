"""CLI run overhead: the same transfer by a hand-written Playwright script and by ``bots run``.

As :mod:`benchmarks.engine_overhead` (whose rounds it reuses: 20 new Gewerbeanmeldungen from
the Civento stand-in into the Gewerberegister, alternating rounds on a freshly seeded
sandbox), but the bot runs as cron starts it: ``bots run gewerbe-uebertragung`` in a process
of its own, so starting Python, the imports, the store, the work queue and the report count
too. Prints ``cli_run_overhead_ratio`` = median ``bots run`` time / median script time
(aim: at most 1.05).

Run it with ``python -m benchmarks.cli_overhead [--cases N] [--rounds N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.engine_overhead import BOT, side_by_side
from orchestrator.settings import PROJECT_ROOT, Settings


def bots_command() -> list[str]:
    """The ``bots`` command of this environment, as its script is installed."""
    script = Path(sys.executable).parent / "bots"
    return [str(script)] if script.is_file() else [sys.executable, "-c", "import cli; cli.main()"]


def _cli(targets: dict[str, str], settings: Settings, secrets: dict[str, str]) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BOTS_")},
        "BOTS_DATA_DIR": str(settings.data_dir),
        "BOTS_TRACE": "never",
        "BOTS_TARGETS": json.dumps(targets),
        **{f"BOTS_SECRET_{name.upper()}": value for name, value in secrets.items()},
    }
    done = subprocess.run(
        [*bots_command(), "run", BOT, "--no-retry"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(f"cli_run: exit {done.returncode}: {done.stderr.strip()[-300:]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    script, cli = side_by_side(args.cases, args.rounds, "cli", _cli)
    print(f"cli_handwritten_median_s: {script:.2f}")
    print(f"cli_run_median_s: {cli:.2f}")
    print(f"cli_run_overhead_ratio: {cli / script:.3f}")


if __name__ == "__main__":
    main()
