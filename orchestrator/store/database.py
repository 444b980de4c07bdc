"""Engines for the run history: URL checks, SQLite settings, and readable errors.

Two backends are supported: SQLite (the embedded default, one file in the data directory) and
PostgreSQL through psycopg 3. Every SQLite connection gets::

    PRAGMA busy_timeout = 30000   -- wait for another process's write instead of failing
    PRAGMA foreign_keys = ON      -- SQLite leaves them off unless asked, per connection
    PRAGMA journal_mode = WAL     -- readers never block the writer (persistent in the file)

Database failures become :class:`~orchestrator.errors.ConfigError` (the URL is wrong) or
:class:`~orchestrator.errors.EnvironmentProblem` (the database cannot be reached or used), with
the driver's one-line reason and never a password.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from orchestrator.errors import ConfigError, EnvironmentProblem

BUSY_TIMEOUT_MS = 30_000
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


def create_store_engine(url: URL, *, migration: bool = False) -> Engine:
    """An engine for ``url`` with the SQLite settings above applied to each connection.

    With ``migration=True`` the engine is for one schema upgrade: no pool, and on SQLite every
    transaction starts with ``BEGIN IMMEDIATE``, so it holds the write lock from its first
    statement and concurrent upgraders queue up (the lock waits up to the busy timeout).

    Raises:
        EnvironmentProblem: the directory of an SQLite file cannot be created.
    """
    if url.get_backend_name() != "sqlite":
        kwargs: dict[str, Any] = {"pool_pre_ping": True, "json_serializer": _json_dumps}
        if migration:
            kwargs["poolclass"] = NullPool
        return create_engine(url, **kwargs)

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
            cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()
        if migration:
            # Hand transaction control to SQLAlchemy, which emits BEGIN IMMEDIATE below.
            dbapi_connection.isolation_level = None

    if migration:

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


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
