"""Tampering with the audit trail as an attacker with database rights would, for the tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Sql = Callable[..., list[Any]]


def drop_guards(sql: Sql, database_url: str) -> None:
    """What an attacker with database access does first: switch off the triggers."""
    if database_url.startswith("sqlite"):
        for (name,) in sql("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            sql(f'DROP TRIGGER "{name}"')
    else:
        sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
