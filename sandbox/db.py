"""The sandbox's SQLite file: schema and connections.

One file holds the sandbox's own tables and those of every registered stand-in.

Every request opens its own short-lived connection (WAL mode, busy timeout), so the apps are
safe under concurrent requests and a re-seed while serving is seen at once by the next request.

Example::

    with connect(sandbox_dir) as conn:
        rows = conn.execute("SELECT nummer FROM vorgaenge").fetchall()
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sandbox.standins import StandIn, installed_standins

DB_NAME = "sandbox.sqlite"

#: The sandbox's own tables: accounts and sessions of every stand-in, what was issued, what was
#: seeded. Each stand-in adds its own (``StandIn.schema``).
SCHEMA = """
CREATE TABLE IF NOT EXISTS konten (
    system TEXT NOT NULL,
    benutzer TEXT NOT NULL,
    salt TEXT NOT NULL,
    passwort_hash TEXT NOT NULL,
    PRIMARY KEY (system, benutzer)
);
CREATE TABLE IF NOT EXISTS sitzungen (
    token TEXT PRIMARY KEY,
    system TEXT NOT NULL,
    benutzer TEXT NOT NULL,
    zuletzt REAL NOT NULL,
    aufrufe INTEGER NOT NULL DEFAULT 0
);
-- Every session cookie value and CSRF token the apps issued, kept after the session ended:
-- tests check that none of them reaches a run's artifacts. art: 'sitzung' (the cookie value),
-- 'csrf' (the token of session `sitzung`), 'csrf-anmeldung' (a login form's token).
CREATE TABLE IF NOT EXISTS ausgegeben (
    wert TEXT PRIMARY KEY,
    art TEXT NOT NULL,
    system TEXT NOT NULL,
    sitzung TEXT NOT NULL DEFAULT '',
    zeit REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ausgegeben_sitzung ON ausgegeben (sitzung);
-- Which stand-ins a seed filled, and how many records each made.
CREATE TABLE IF NOT EXISTS geseedet (
    standin TEXT PRIMARY KEY,
    anzahl INTEGER NOT NULL
);
"""

# Emptied by a re-seed, before each stand-in's own tables; `ausgegeben` is not: it records what
# was ever issued.
TABLES = ("sitzungen", "konten", "geseedet")


def db_path(sandbox_dir: Path) -> Path:
    """The SQLite file of a sandbox directory."""
    return Path(sandbox_dir) / DB_NAME


@contextmanager
def connect(
    sandbox_dir: Path, *, create: bool = True, standins: Sequence[StandIn] | None = None
) -> Iterator[sqlite3.Connection]:
    """Open the sandbox database (autocommit; use ``BEGIN IMMEDIATE`` for transactions).

    Args:
        sandbox_dir: The sandbox's data directory; created when missing and ``create``.
        create: Create the directory and the schema when missing.
        standins: Whose tables to create (default: every registered stand-in's).

    Yields:
        A connection whose rows behave like mappings (:class:`sqlite3.Row`).
    """
    path = db_path(sandbox_dir)
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    with _opened(str(path), create, standins) as conn:
        yield conn


@contextmanager
def empty_database(standins: Sequence[StandIn] | None = None) -> Iterator[sqlite3.Connection]:
    """A database in memory with the tables of the sandbox and its stand-ins, all empty."""
    with _opened(":memory:", True, standins) as conn:
        yield conn


@contextmanager
def _opened(
    path: str, create: bool, standins: Sequence[StandIn] | None
) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA foreign_keys=ON")
        if create:
            conn.executescript(SCHEMA)
            for standin in installed_standins() if standins is None else standins:
                conn.executescript(standin.schema)
        yield conn
    finally:
        conn.close()


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run a block as one write transaction (taken at once, so concurrent writers queue)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def hash_password(password: str, salt: str) -> str:
    """PBKDF2 hash of a password (few rounds: these are training accounts)."""
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 10_000)
    return digest.hex()


def check_password(conn: sqlite3.Connection, system: str, user: str, password: str) -> bool:
    """Whether ``user`` exists in ``system`` with this password."""
    row = conn.execute(
        "SELECT salt, passwort_hash FROM konten WHERE system = ? AND benutzer = ?",
        (system, user),
    ).fetchone()
    if row is None:
        return False
    return hmac.compare_digest(hash_password(password, row["salt"]), row["passwort_hash"])
