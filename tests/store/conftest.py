"""The storage suite's backends: every test taking ``database_url`` or ``store`` runs once
against SQLite and once against PostgreSQL (a throw-away server, see ``tests/pg_server.py``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest

from orchestrator.store import RunStore, open_store


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
