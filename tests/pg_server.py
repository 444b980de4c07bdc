"""Pytest fixtures for a throw-away PostgreSQL server (see ``sandbox/postgres.py``).

One server per test session; each test makes its own fresh database in it with
``postgres_server.new_database()``. Without the binaries the PostgreSQL cases are skipped,
except in CI (``CI=true``), where they fail: ``make test`` installs the binaries.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from sandbox.postgres import PostgresServer, PostgresUnavailable, throwaway_postgres


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A running throw-away PostgreSQL server."""
    try:
        with throwaway_postgres() as server:
            yield server
    except PostgresUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc} (CI must test PostgreSQL; `make test` installs it)")
        pytest.skip(str(exc))
