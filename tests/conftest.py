"""Fixtures shared by every test: each test gets its own data directory and clean settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["pg_server"]  # tests/pg_server.py: a throw-away PostgreSQL


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Drop the developer's BOTS_* variables and point BOTS_DATA_DIR into tmp_path."""
    for name in list(os.environ):
        if name.startswith("BOTS_"):
            monkeypatch.delenv(name)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("BOTS_DATA_DIR", str(data_dir))
    return data_dir
