"""A throw-away PostgreSQL server, for tests, benchmarks and trying the shared store.

The cluster is made with ``initdb`` in a temporary directory and started with ``pg_ctl`` on a
free loopback port; leaving the ``with`` block stops it and deletes everything::

    with throwaway_postgres() as server:
        url = server.new_database()        # postgresql+psycopg://postgres@127.0.0.1:PORT/db_1
        store = open_store(url)

As root, the server runs as the ``postgres`` system user (PostgreSQL refuses to run as root).
Durability is switched off (``fsync=off``): this server is for data nobody needs tomorrow.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

PG_BIN = Path(os.environ.get("BOTS_PG_BIN", "/usr/lib/postgresql/15/bin"))


class PostgresUnavailable(Exception):
    """The PostgreSQL binaries (or, as root, the ``postgres`` user) are missing."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    """A running throw-away server; ``url`` is its ``postgres`` database."""

    url: str
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def new_database(self) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        name = f"bots_{os.getpid()}_{next(self._numbers)}"
        conninfo = self.url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + "/" + name


def _as_server_user(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _server_command(args: list[str]) -> None:
    done = subprocess.run(_as_server_user(args), capture_output=True, text=True)
    if done.returncode != 0:
        raise PostgresUnavailable(f"{Path(args[0]).name} failed: {done.stderr or done.stdout}")


@contextmanager
def throwaway_postgres(max_connections: int = 300) -> Iterator[PostgresServer]:
    """Start a server on a free loopback port; stop and delete it on leaving.

    Raises:
        PostgresUnavailable: no binaries in ``BOTS_PG_BIN`` (fix: apt-get install postgresql),
            or running as root without a ``postgres`` user.
    """
    if not (PG_BIN / "initdb").exists():
        raise PostgresUnavailable(
            f"PostgreSQL binaries not found in {PG_BIN} (fix: apt-get install -y postgresql)"
        )
    server_user = None
    if os.geteuid() == 0:
        try:
            server_user = pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailable(
                "running as root and there is no 'postgres' user to run PostgreSQL"
            ) from None
    base = Path(tempfile.mkdtemp(prefix="bots-pg-"))
    data, port = base / "data", free_port()
    pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(base / "log")]
    try:
        if server_user is not None:
            os.chown(base, server_user.pw_uid, server_user.pw_gid)
        initdb = [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]
        _server_command([*initdb, "-E", "UTF8", "--no-sync", "--no-instructions"])
        options = (
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
            f"-c synchronous_commit=off -c max_connections={max_connections}"
        )
        _server_command([*pg_ctl, "-o", options, "-w", "-t", "30", "start"])
        yield PostgresServer(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres")
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as_server_user([*pg_ctl, "-m", "immediate", "stop"]), capture_output=True
            )
        shutil.rmtree(base, ignore_errors=True)
