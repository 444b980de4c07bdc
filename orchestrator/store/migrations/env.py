"""Alembic's entry point: runs the migrations in the connection the store hands over.

:func:`orchestrator.store.migrate.upgrade_to_head` passes a connection that already holds the
migration lock inside an open transaction; Alembic then runs inside that transaction and the
caller commits. Used from Alembic's own commands (``alembic_config(url)``), it connects itself.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from orchestrator.store.database import create_store_engine, parse_url
from orchestrator.store.tables import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    given = context.config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    url = parse_url(context.config.get_main_option("sqlalchemy.url") or "")
    engine = create_store_engine(url, migration=True)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
_run_online()
