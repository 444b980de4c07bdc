"""Engines for the run history: URL checks, SQLite settings, and readable errors.

Two backends are supported: SQLite (the embedded default, one file in the data directory) and
PostgreSQL through psycopg 3. Every SQLite connection gets::

    PRAGMA busy_timeout = 30000   -- wait for another process's write instead of failing
    PRAGMA foreign_keys = ON      -- SQLite leaves them off unless asked, per connection
    PRAGMA journal_mode = WAL     -- readers never block the writer (persistent in the file)

SQLAlchemy, not the sqlite3 module, begins SQLite transactions: reads with a plain (deferred)
``BEGIN``, writes with ``BEGIN IMMEDIATE`` (see :func:`for_writing`). A deferred transaction
that reads and then writes cannot wait for another writer (SQLite answers SQLITE_BUSY at once,
or both wait for each other); one that takes the write lock first simply queues up.

Database failures become :class:`~orchestrator.errors.ConfigError` (the URL is wrong) or
:class:`~orchestrator.errors.EnvironmentProblem` (the database cannot be reached or used), with
the driver's one-line reason and never a password.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event, exc
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from orchestrator.errors import ConfigError, EnvironmentProblem

BUSY_TIMEOUT_MS = 30_000
PING_AFTER_IDLE_S = 5.0
# Umlauts stay readable in the stored parameters (German addresses, names, Aktenzeichen).
_json_dumps = partial(json.dumps, ensure_ascii=False)
SUPPORTED = "sqlite:///<file> or postgresql+psycopg://<user>@<host>/<database>"


def parse_url(database_url: str) -> URL:
    """Parse and check a database URL; ``postgresql://`` is taken to mean psycopg 3.

    Example: ``parse_url("postgresql://bots@db/bots").drivername == "postgresql+psycopg"``.

    Raises:
        ConfigError: the URL is malformed, names another database system or driver, or asks
            for an in-memory SQLite database (the history must outlive the process).
    """
    try:
        url = make_url(database_url)
    except exc.ArgumentError:
        raise ConfigError(
            f"database URL {database_url!r} is not a valid URL; expected {SUPPORTED}"
        ) from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise ConfigError(
            f"database URL {shown(url)!r} names an unsupported database or driver "
            f"({url.drivername}); expected {SUPPORTED}"
        )
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        raise ConfigError(
            f"database URL {shown(url)!r} is an in-memory SQLite database, which would lose "
            "the run history when the process ends; name a file: sqlite:///<path>"
        )
    return url


def shown(url: URL) -> str:
    """The URL as it may appear in messages and logs: with the password masked."""
    return url.render_as_string(hide_password=True)


# Execution option that makes SQLite transactions begin with the write lock.
_WRITE_LOCK = "bots_sqlite_write_lock"


def for_writing(engine: Engine) -> Engine:
    """The same engine (and pool), whose transactions take SQLite's write lock at ``BEGIN``.

    Example::

        with for_writing(engine).begin() as connection:   # BEGIN IMMEDIATE on SQLite
            connection.execute(update(...))

    PostgreSQL ignores it: there, rows are locked by the statements themselves.
    """
    return engine.execution_options(**{_WRITE_LOCK: True})


def create_store_engine(url: URL, *, migration: bool = False) -> Engine:
    """An engine for ``url`` with the SQLite settings above applied to each connection.

    With ``migration=True`` the engine is for one schema upgrade: no pool, and on SQLite every
    transaction starts with ``BEGIN IMMEDIATE``, so it holds the write lock from its first
    statement and concurrent upgraders queue up (the lock waits up to the busy timeout).
    Otherwise SQLite transactions begin deferred unless the engine is :func:`for_writing`.

    Raises:
        EnvironmentProblem: the directory of an SQLite file cannot be created.
    """
    if url.get_backend_name() != "sqlite":
        if migration:
            return create_engine(url, poolclass=NullPool, json_serializer=_json_dumps)
        engine = create_engine(url, json_serializer=_json_dumps)
        _ping_when_idle(engine)
        return engine

    _create_sqlite_dir(url)
    engine = create_engine(
        url,
        poolclass=NullPool if migration else None,
        json_serializer=_json_dumps,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            _switch_to_wal(cursor)
        finally:
            cursor.close()
        # Hand transaction control to SQLAlchemy, which emits the BEGIN below.
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = migration or connection.get_execution_options().get(_WRITE_LOCK, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _switch_to_wal(cursor: Any) -> None:
    """``PRAGMA journal_mode = WAL``, waiting for a lock like any statement would.

    Changing the journal mode of a new database needs it to itself, and SQLite answers
    "database is locked" at once, without its busy handler, while another process is creating
    the same file: several processes opening a fresh database at once retry here until the
    busy timeout.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use if it lay idle for a while (the server may have
    restarted meanwhile), like ``pool_pre_ping`` but without a round trip on every checkout:
    robots and orchestrators reuse their connections many times a second."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return
        try:
            dbapi_connection.execute("SELECT 1")
            dbapi_connection.rollback()  # end the transaction psycopg began for it
        except Exception as err:  # whatever the driver raises for a dead connection
            # The pool throws this connection away and checks out another.
            raise exc.DisconnectionError(str(err)) from err


def _create_sqlite_dir(url: URL) -> None:
    if url.query.get("uri") or not url.database or url.database.startswith("file:"):
        return
    directory = Path(url.database).expanduser().resolve().parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise EnvironmentProblem(
            f"cannot create the directory {directory} for the run history database: "
            f"{err.strerror or err}"
        ) from None


@contextmanager
def database_errors(url: URL) -> Iterator[None]:
    """Turn a failure to reach or use the database into :class:`EnvironmentProblem`.

    Example::

        with database_errors(url):
            connection.execute(...)

    Errors that point at a bug (integrity, SQL syntax) pass through unchanged.
    """
    try:
        yield
    except (exc.OperationalError, exc.InterfaceError, exc.TimeoutError) as err:
        raise EnvironmentProblem(
            f"the run history database {shown(url)} cannot be used: {reason(err)}"
        ) from err
    except exc.DatabaseError as err:
        if type(err) is not exc.DatabaseError:  # IntegrityError, ProgrammingError, ...
            raise
        # e.g. "file is not a database"
        raise EnvironmentProblem(
            f"the run history database {shown(url)} cannot be used: {reason(err)}"
        ) from err


def reason(err: Exception) -> str:
    """The driver's own first line for a SQLAlchemy error, without SQL or links."""
    original = getattr(err, "orig", None) or err
    lines = [line.strip() for line in str(original).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(original).__name__


def dialect_insert(connection: Connection, table: Table) -> pg.Insert | sqlite.Insert:
    """An ``INSERT`` into ``table`` that can say ``ON CONFLICT ...``, for either backend.

    Example::

        statement = dialect_insert(connection, leases).values(name="scheduler", ...)
        connection.execute(statement.on_conflict_do_nothing(index_elements=["name"]))
    """
    if connection.dialect.name == "postgresql":
        return pg.insert(table)
    return sqlite.insert(table)
