"""A wrong database URL or an unusable database gives a clear message, not a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import sqlalchemy as sa

from orchestrator.errors import ConfigError, EnvironmentProblem
from orchestrator.store import database, open_store
from orchestrator.store.database import parse_url
from sandbox.postgres import PostgresServer


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("not a url", "not a valid URL"),
        ("mysql://bots@db/bots", "unsupported"),
        ("postgresql+psycopg2://bots@db/bots", "unsupported"),
        ("sqlite://", "in-memory"),
        ("sqlite:///:memory:", "in-memory"),
    ],
)
def test_wrong_urls_are_configuration_errors(url: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        open_store(url)


def test_plain_postgresql_urls_mean_psycopg_3() -> None:
    assert parse_url("postgresql://bots@db/bots").drivername == "postgresql+psycopg"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_server_is_an_environment_problem() -> None:
    url = f"postgresql+psycopg://bots:geheim@127.0.0.1:{_closed_port()}/bots"

    with pytest.raises(EnvironmentProblem) as caught:
        open_store(url)

    message = str(caught.value)
    assert "127.0.0.1" in message and "refused" in message.lower()
    assert "geheim" not in message
    assert "[SQL" not in message and "sqlalche.me" not in message


def test_a_file_that_is_no_database_is_an_environment_problem(tmp_path: Path) -> None:
    path = tmp_path / "bots.sqlite"
    path.write_bytes(b"this is a spreadsheet, honestly " * 100)

    with pytest.raises(EnvironmentProblem, match="not a database"):
        open_store(f"sqlite:///{path}")


def test_an_impossible_directory_is_an_environment_problem(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data directory should be")

    with pytest.raises(EnvironmentProblem, match="cannot create the directory"):
        open_store(f"sqlite:///{blocker / 'bots.sqlite'}")


def test_a_connection_the_server_dropped_while_idle_is_replaced(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "PING_AFTER_IDLE_S", 0.0)
    url = postgres_server.new_database()
    with open_store(url) as store:
        store.ping()  # a pooled connection now waits for the next use
        admin = sa.create_engine(postgres_server.url)
        with admin.begin() as connection:  # as a server restart would
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": url.rsplit("/", 1)[1]},
            )
        admin.dispose()

        assert store.list_runs() == []
