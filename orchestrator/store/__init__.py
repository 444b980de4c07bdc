"""Run history in SQL: SQLite by default (a file in the data directory), or PostgreSQL.

Example::

    from orchestrator.store import open_store

    with open_store("sqlite:///data/bots.sqlite") as store:
        for run in store.list_runs(bot_id="gewerbe-abgleich", limit=10):
            print(run.id, run.status)

Modules: :mod:`.run_store` (the API), :mod:`.tables` (the schema as Python classes),
:mod:`.migrate` and :mod:`.migrations` (Alembic), :mod:`.database` (engines and errors).
This package is the only one that imports SQLAlchemy.
"""

from orchestrator.store.run_store import RunStore, open_store

__all__ = ["RunStore", "open_store"]
