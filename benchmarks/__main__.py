"""Runs every benchmark and prints its figures as ``name: value`` lines."""

from benchmarks.engine_overhead import main

if __name__ == "__main__":
    main()
