"""The storage suite's backends: every test taking ``database_url`` or ``store`` runs once
against SQLite and once against PostgreSQL.

PostgreSQL is a throw-away cluster made with ``initdb`` in a temporary directory and started
with ``pg_ctl`` on a free loopback port, once per test session; each test gets its own fresh
database in it. As root, the server runs as the ``postgres`` system user (PostgreSQL refuses
to run as root). Without the binaries the PostgreSQL cases are skipped.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from orchestrator.store import RunStore, open_store

PG_BIN = Path(os.environ.get("BOTS_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
_database_numbers = itertools.count(1)


def _free_port() -> int:
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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A running throw-away PostgreSQL cluster; yields the URL of its ``postgres`` database."""
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL binaries not found in {PG_BIN}")
    if os.geteuid() == 0:
        try:
            server_user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run PostgreSQL")
    base = Path(tempfile.mkdtemp(prefix="bots-pg-"))
    data, port = base / "data", _free_port()
    pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(base / "log")]
    try:
        if os.geteuid() == 0:
            os.chown(base, server_user.pw_uid, server_user.pw_gid)
        initdb = [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]
        _server_command([*initdb, "-E", "UTF8", "--no-sync", "--no-instructions"])
        options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
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


@pytest.fixture(params=["sqlite", "postgresql"])
def new_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[], str]:
    """Makes URLs of fresh, empty databases of the test's backend."""
    if request.param == "postgresql":
        server_url = request.getfixturevalue("postgres_server")
        return lambda: _fresh_postgres_database(server_url)
    directory = tmp_path_factory.mktemp("db")
    numbers = itertools.count(1)
    return lambda: f"sqlite:///{directory / f'history-{next(numbers)}' / 'bots.sqlite'}"


@pytest.fixture
def database_url(new_database_url: Callable[[], str]) -> str:
    """The URL of a fresh, empty database (a file that does not exist yet, for SQLite)."""
    return new_database_url()


@pytest.fixture
def store(database_url: str) -> Iterator[RunStore]:
    """An open store on a fresh database."""
    opened = open_store(database_url)
    yield opened
    opened.close()
