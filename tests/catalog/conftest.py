"""Fixtures of the catalog tests: a throw-away project (:mod:`_catalog_project`) as the
current directory, and run histories on SQLite and PostgreSQL, as the storage suite's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _catalog_project import Project, make_project


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """The project, as current directory and settings (``catalog_file``, ``bot_dirs``)."""
    made = make_project(tmp_path / "project")
    monkeypatch.chdir(made.root)
    monkeypatch.setenv("BOTS_CATALOG_FILE", str(made.catalog))
    monkeypatch.setenv("BOTS_BOT_DIRS", f'["{made.root / "bots"}"]')
    return made


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh run history on SQLite, then on PostgreSQL (tests/pg_server.py)."""
    if request.param == "postgresql":
        yield request.getfixturevalue("postgres_server").new_database()
        return
    yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'history.sqlite'}"
