"""Runs every benchmark and prints its figures as ``name: value`` lines (``make bench``)."""

from benchmarks import claims, dispatch, engine_overhead, period_report, queue_rates

if __name__ == "__main__":
    engine_overhead.main([])
    claims.main([])
    dispatch.main([])
    queue_rates.main([])
    period_report.main([])
