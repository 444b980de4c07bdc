"""The storage suite's backends: every test taking ``database_url`` or ``store`` runs once
against SQLite and once against PostgreSQL (a throw-away server, see ``tests/pg_server.py``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from orchestrator.store import RunRequest, RunStore, open_store


@pytest.fixture(params=["sqlite", "postgresql"])
def new_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[], str]:
    """Makes URLs of fresh, empty databases of the test's backend."""
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres_server")
        return server.new_database  # type: ignore[no-any-return]
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


@pytest.fixture
def new_request() -> Callable[..., RunRequest]:
    """Makes run requests of one bot of Gießen; keyword arguments override fields."""

    def make(**overrides: Any) -> RunRequest:
        values: dict[str, Any] = {
            "tenant": "giessen",
            "bot_id": "gewerbe-abgleich",
            "bot_version": "1.2.0",
            "bot_digest": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "parameters": {"ort": "Gießen", "anzahl": 3},
            "trigger": "cli",
            "actor": "user:alice@rpa-01",
            "max_parallel": 0,
        }
        values.update(overrides)
        return RunRequest(**values)

    return make


@pytest.fixture
def sql(database_url: str) -> Iterator[Callable[..., list[Any]]]:
    """Runs raw SQL against the test's database behind the store's back (as an attacker or
    an administrator with database access would); returns the rows, if any."""
    engine = sa.create_engine(database_url)

    def execute(statement: str, **params: Any) -> list[Any]:
        with engine.begin() as connection:
            result = connection.execute(sa.text(statement), params)
            return list(result) if result.returns_rows else []

    yield execute
    engine.dispose()
