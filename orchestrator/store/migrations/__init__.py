"""Alembic migrations of the run history, applied by :mod:`orchestrator.store.migrate`."""
