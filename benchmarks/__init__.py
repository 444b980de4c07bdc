"""Side-by-side measurements, printed as ``name: value``. Run with ``make bench``."""
