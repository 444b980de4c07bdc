"""Runs every benchmark and prints its figures as ``name: value`` lines (``make bench``).

A benchmark that cannot measure (e.g. robots that did not register on a very busy machine)
says why in a ``<benchmark>_not_measured`` line; the others run all the same. The figures
and their aims are listed in docs/benchmarks.md.
"""

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
    for name, main in BENCHMARKS.items():
        try:
            main([])
        except SystemExit as exc:
            print(f"{name}_not_measured: {exc}", flush=True)
