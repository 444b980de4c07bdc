"""A throw-away PostgreSQL server for tests: ``postgres_server`` and ``fresh_postgres_database``.

The cluster is made with ``initdb`` in a temporary directory and started with ``pg_ctl`` on a
free loopback port, once per test session; each test makes its own fresh database in it. As
root, the server runs as the ``postgres`` system user (PostgreSQL refuses to run as root).
Without the binaries the PostgreSQL cases are skipped, except in CI (``CI=true``), where they
fail: ``make test`` installs the binaries.
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
from pathlib import Path

import psycopg
import pytest

PG_BIN = Path(os.environ.get("BOTS_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
_database_numbers = itertools.count(1)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    return ["runuser", "-u", "postgres", "--", *args]


def _server_command(args: list[str]) -> None:
    done = subprocess.run(_as_server_user(args), capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"{Path(args[0]).name} failed: {done.stderr or done.stdout}")


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must test PostgreSQL; `make test` installs it)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A running throw-away PostgreSQL cluster; yields the URL of its ``postgres`` database."""
    if not (PG_BIN / "initdb").exists():
        _skip_or_fail(f"PostgreSQL binaries not found in {PG_BIN}")
    if os.geteuid() == 0:
        try:
            server_user = pwd.getpwnam("postgres")
        except KeyError:
            _skip_or_fail("running as root and there is no 'postgres' user to run PostgreSQL")
    base = Path(tempfile.mkdtemp(prefix="bots-pg-"))
    data, port = base / "data", free_port()
    pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(base / "log")]
    try:
        if os.geteuid() == 0:
            os.chown(base, server_user.pw_uid, server_user.pw_gid)
        initdb = [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]
        _server_command([*initdb, "-E", "UTF8", "--no-sync", "--no-instructions"])
        options = (
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        )
        _server_command([*pg_ctl, "-o", options, "-w", "-t", "30", "start"])
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as_server_user([*pg_ctl, "-m", "immediate", "stop"]), capture_output=True
            )
        shutil.rmtree(base, ignore_errors=True)


def _fresh_postgres_database(server_url: str) -> str:
    name = f"bots_test_{os.getpid()}_{next(_database_numbers)}"
    conninfo = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + "/" + name


def fresh_postgres_database(server_url: str) -> str:
    """Create an empty database on the server and return its URL."""
    name = f"bots_test_{os.getpid()}_{next(_database_numbers)}"
    conninfo = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + "/" + name
