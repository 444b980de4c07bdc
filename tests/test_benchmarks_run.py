"""The benchmarks still measure: a small run of those that need no browser or robots.

Figures are never asserted (``make bench`` prints them); a benchmark whose set-up the code has
outgrown (a catalog format, a settings key) must fail here, not in the next ``make bench``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from orchestrator.settings import PROJECT_ROOT

FIGURE = re.compile(r"^([a-z0-9_]+): (\S+)$")


def _figures(module: str, *args: str, env: dict[str, str] | None = None) -> dict[str, str]:
    shown = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, **(env or {})},
    )
    assert shown.returncode == 0, shown.stdout + shown.stderr
    return dict(m.groups() for line in shown.stdout.splitlines() if (m := FIGURE.match(line)))


def test_the_period_report_benchmark_measures(tmp_path: Path) -> None:
    figures = _figures(
        "period_report", "--runs", "2000", "--small", "1000", "--no-postgres",
        env={"KOMMUNE_BOTS_CACHE": str(tmp_path)},
    )  # fmt: skip
    assert {"period_report_seconds_1000_runs", "period_report_seconds_2000_runs"} <= set(figures)
    assert int(figures["period_report_runs_in_report_1m"]) > 0


def test_the_process_cost_benchmark_measures() -> None:
    figures = _figures("process_cost", "--rounds", "1")
    assert float(figures["robot_idle_rss_mb"]) > 0
    assert float(figures["cli_help_seconds"]) > 0
