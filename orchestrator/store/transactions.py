"""The one way the store's repositories reach the database: reads, writes and changes.

Every repository of :mod:`orchestrator.store` gets the same :class:`Transactions`, so a unit
of work can span aggregates, and database errors become
:class:`~orchestrator.errors.EnvironmentProblem` in one place. Example::

    transactions = Transactions(engine, url)
    with transactions.change() as tx:  # audit entries appended right before the commit
        tx.move_one(RUN_STATUS, 17, RunStatus.CANCELLED, actor="user:alice")
    with transactions.query() as connection:
        connection.scalar(select(func.count()).select_from(RUNS))
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL

from orchestrator.store.audit.chain import append
from orchestrator.store.database import database_errors, for_writing
from orchestrator.store.lifecycle import WriteTransaction
from orchestrator.store.tables import utc_now


class Transactions:
    """Short transactions on one engine; each raises ``EnvironmentProblem`` if the database
    fails, and is committed (writes) or ended (reads) on leaving its ``with`` block."""

    def __init__(self, engine: Engine, url: URL) -> None:
        self.engine = engine  # reads: deferred transactions
        # Reads of one statement: on PostgreSQL without BEGIN and ROLLBACK around it.
        single = {"isolation_level": "AUTOCOMMIT"} if url.get_backend_name() != "sqlite" else {}
        self._single = engine.execution_options(**single)
        self._writer = for_writing(engine)  # writes: SQLite's write lock from BEGIN on
        self.url = url

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Database errors inside become ``EnvironmentProblem`` naming the database."""
        with database_errors(self.url):
            yield

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for several reads in one (deferred) transaction."""
        with self.errors(), self.engine.connect() as connection:
            yield connection

    @contextmanager
    def query(self) -> Iterator[Connection]:
        """A connection for one read statement (each statement sees what is committed)."""
        with self.errors(), self._single.connect() as connection:
            yield connection

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One short write transaction without audit entries, committed on leaving."""
        with self.errors(), self._writer.begin() as connection:
            yield connection

    @contextmanager
    def change(self) -> Iterator[WriteTransaction]:
        """One write transaction whose audit entries are appended last, right before commit."""
        with self.errors(), self._writer.begin() as connection:
            tx = WriteTransaction(connection, utc_now())
            yield tx
            append(connection, tx.events, tx.now)

    def close(self) -> None:
        """Close all connections."""
        self.engine.dispose()
