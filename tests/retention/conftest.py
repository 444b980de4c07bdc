"""Fixtures for retention: a store (SQLite, or PostgreSQL where a test asks for it) and
finished runs with real files in their run directories (:mod:`_runs`).

A test runs on both backends with
``@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _runs import FinishedRuns

from orchestrator.settings import Settings, load_settings
from orchestrator.store import RunStore, open_store


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The database of the test: ``sqlite`` unless parametrised (indirectly) otherwise."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, isolated_settings: Path) -> str:
    """The URL of the test's database: SQLite in the data directory, or a fresh PostgreSQL
    database (``BOTS_DATABASE_URL`` then names it, for the commands too)."""
    if backend == "postgresql":
        url = str(request.getfixturevalue("postgres_server").new_database())
        monkeypatch = request.getfixturevalue("monkeypatch")
        monkeypatch.setenv("BOTS_DATABASE_URL", url)
        return url
    return load_settings().database


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The effective settings (the data directory of ``isolated_settings``)."""
    return load_settings()


@pytest.fixture
def store(settings: Settings) -> Iterator[RunStore]:
    with open_store(settings.database) as opened:
        yield opened


@pytest.fixture
def runs(store: RunStore, settings: Settings) -> FinishedRuns:
    """Makes finished runs with real files (see :mod:`_runs`)."""
    return FinishedRuns(store, settings)
