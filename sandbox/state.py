"""What the stand-ins hold, read straight from SQLite (serving or not).

Each registered stand-in adds its keys (its ``state``) and its lines (its ``state_lines``).

Example::

    state = read_state(settings.sandbox_dir)
    state["vorgaenge_by_status"]   # Civento's: {"Neu": 12, "In Bearbeitung": 3, ...}
    state["duplicates"]            # the Gewerberegister's: [] when nothing was entered twice
    print(format_state(state))
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sandbox.db import connect, db_path, empty_database
from sandbox.standins import StandIn, installed_standins


def read_state(sandbox_dir: Path, standins: Sequence[StandIn] | None = None) -> dict[str, Any]:
    """The sandbox's data as a JSON-able dict.

    Keys: ``seeded`` (bool: a seed has filled it) and those of each stand-in's ``state``; an
    empty sandbox gives each stand-in's keys as it reads them from empty tables.

    Raises:
        ValueError: Two stand-ins give the same key.
    """
    standins = installed_standins() if standins is None else tuple(standins)
    state: dict[str, Any] = {"seeded": False}
    # Without a sandbox yet: the same keys, read from an empty database in memory.
    exists = db_path(sandbox_dir).exists()
    with connect(sandbox_dir, standins=standins) if exists else empty_database(standins) as conn:
        state["seeded"] = conn.execute("SELECT COUNT(*) FROM geseedet").fetchone()[0] > 0
        for standin in standins:
            if standin.state is None:
                continue
            section = standin.state(conn)
            shared = sorted(set(section) & set(state))
            if shared:
                raise ValueError(f"stand-in {standin.name!r} gives keys taken: {shared}")
            state.update(section)
    return state


def format_state(state: dict[str, Any], standins: Sequence[StandIn] | None = None) -> str:
    """The state as a few readable lines (German, as the sandbox's UI), stand-in by stand-in."""
    if not state["seeded"]:
        return "Sandbox ist leer: `bots sandbox seed` legt Beispieldaten an."
    standins = installed_standins() if standins is None else tuple(standins)
    lines: list[str] = []
    for standin in standins:
        if standin.state_lines is not None:
            lines += standin.state_lines(state)
    return "\n".join(lines)
