"""Runs every benchmark and prints its figures as ``name: value`` lines (``make bench``).

A benchmark that cannot measure (e.g. robots that did not register on a very busy machine)
says why in a ``<benchmark>_not_measured`` line; the others run all the same. A benchmark
that breaks (a defect) says so the same way, with its traceback, and ``make bench`` then
ends with an error after the others ran. The figures
and their aims are listed in docs/benchmarks.md.
"""

import traceback
from collections.abc import Callable

from benchmarks import (
    claims,
    cli_overhead,
    dispatch,
    engine_overhead,
    period_report,
    process_cost,
    queue_rates,
    run_overhead,
)

BENCHMARKS: dict[str, Callable[[list[str]], None]] = {
    "engine_overhead": engine_overhead.main,
    "cli_overhead": cli_overhead.main,
    "claims": claims.main,
    "run_overhead": run_overhead.main,
    "dispatch": dispatch.main,
    "queue_rates": queue_rates.main,
    "period_report": period_report.main,
    "process_cost": process_cost.main,
}

if __name__ == "__main__":
    broken = []
    for name, main in BENCHMARKS.items():
        try:
            main([])
        except SystemExit as exc:
            print(f"{name}_not_measured: {exc}", flush=True)
        except Exception as exc:  # a defect of one benchmark: say so, measure the others
            traceback.print_exc()
            print(f"{name}_not_measured: {type(exc).__name__}: {exc}", flush=True)
            broken.append(name)
    if broken:
        raise SystemExit(f"benchmarks that broke: {', '.join(broken)}")
