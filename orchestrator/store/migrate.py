"""Bring a database's schema to the newest Alembic revision, safely from several processes.

The migrations live in :mod:`orchestrator.store.migrations`; there is no ``alembic.ini``, the
configuration is built here. :func:`upgrade_to_head` runs whenever a store opens:

1. Without any lock it reads the schema revision; at head (:data:`HEAD`), it is done, without
   loading Alembic at all (the usual case: an idle robot does not hold it).
2. Otherwise it opens one transaction that first takes a lock (SQLite: ``BEGIN IMMEDIATE``;
   PostgreSQL: a transaction-scoped advisory lock), then lets Alembic read the revision
   again and upgrade. A second process opening the same fresh database waits for the lock,
   then finds the schema at head and does nothing.

To write a new migration from changed tables (a developer task)::

    from alembic import command
    from orchestrator.store.migrate import alembic_config
    command.revision(alembic_config("sqlite:///dev.sqlite"), "add x", autogenerate=True)

Use ``rev_id="0002"`` and so on, to keep the file names in order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.engine import URL

from orchestrator.errors import EnvironmentProblem
from orchestrator.store.database import create_store_engine, database_errors, shown

if TYPE_CHECKING:
    from alembic.config import Config

# Any fixed number: the advisory lock only has to be the same for every process of ours.
_PG_MIGRATION_LOCK = 0x626F7473  # "bots"
#: The newest revision of :mod:`orchestrator.store.migrations` (a test keeps it so); a
#: database at it opens without Alembic. A new migration sets it to its own revision.
HEAD = "0009"
#: Alembic's table of the schema revision.
VERSION_TABLE = "alembic_version"


def alembic_config(url: URL | str, connection: Connection | None = None) -> Config:
    """Alembic's configuration for the store, pointing at the packaged migrations.

    ``connection``, if given, is the (already begun) connection the migrations run in;
    otherwise ``env.py`` connects to ``url`` itself.
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "orchestrator.store:migrations")
    config.set_main_option("path_separator", "os")
    rendered = url.render_as_string(hide_password=False) if isinstance(url, URL) else url
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_to_head(url: URL, engine: Engine) -> None:
    """Migrate the database at ``url`` to the newest revision, if it is not there already.

    ``engine`` is the store's own engine, used for the quick unlocked look; the upgrade itself
    runs on a separate engine whose transactions lock (see the module docstring).

    Raises:
        EnvironmentProblem: the database cannot be reached, or carries a revision this
            version of the code does not know (it was migrated by a newer version).
    """
    with database_errors(url), engine.connect() as connection:
        if _revisions(connection) == {HEAD}:
            return
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = alembic_config(url)
    script = ScriptDirectory.from_config(config)
    heads = set(script.get_heads())
    known = {rev.revision for rev in script.walk_revisions()}
    with database_errors(url), engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    _refuse_unknown(url, current, known)
    if current == heads:
        return
    migration_engine = create_store_engine(url, migration=True)
    try:
        with database_errors(url):
            with migration_engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                    )
                current = set(MigrationContext.configure(connection).get_current_heads())
                _refuse_unknown(url, current, known)
                if current != heads:
                    command.upgrade(alembic_config(url, connection), "head")
    finally:
        migration_engine.dispose()


def _revisions(connection: Connection) -> set[str]:
    """The schema revisions the database records (none for a new one), read with plain SQL."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return set()
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
    return {str(row[0]) for row in rows}


def _refuse_unknown(url: URL, current: set[str], known: set[str]) -> None:
    unknown = current - known
    if unknown:
        raise EnvironmentProblem(
            f"the run history database {shown(url)} has schema revision "
            f"{', '.join(sorted(unknown))}, which this version of bots does not know; "
            "it was probably migrated by a newer version: update bots, or use another database"
        )
