"""Seeding the sandbox: every registered stand-in fills its tables, in one transaction.

The same seed and settings always give the same data: each stand-in draws from a random
generator of its own, seeded with ``settings.seed``; they are seeded in turn, each after those
it names in ``after`` (which may hand it data: ``SeedContext.handover``).

Example::

    count = seed(Path("data/sandbox"), SandboxSettings(cases=3))
    seed_each(Path("data/sandbox"), SandboxSettings())   # {"civento": 24, "gewerberegister": 10}
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from orchestrator.settings import SandboxSettings
from sandbox.db import TABLES, connect, transaction
from sandbox.standins import SeedContext, StandIn, check_settings, installed_standins


def seed(
    sandbox_dir: Path,
    settings: SandboxSettings,
    reset: bool = True,
    standins: Sequence[StandIn] | None = None,
) -> int:
    """Fill the sandbox with fresh deterministic data; the number of records the stand-ins hold.

    See :func:`seed_each` for the arguments.
    """
    standins = installed_standins() if standins is None else tuple(standins)
    seed_each(sandbox_dir, settings, reset, standins)
    with connect(sandbox_dir, standins=standins) as conn:
        counts = dict(conn.execute("SELECT standin, anzahl FROM geseedet").fetchall())
    return sum(counts.get(standin.name, 0) for standin in standins)


def seed_each(
    sandbox_dir: Path,
    settings: SandboxSettings,
    reset: bool = True,
    standins: Sequence[StandIn] | None = None,
) -> dict[str, int]:
    """Fill the sandbox with fresh deterministic data and the bot accounts.

    Works while the sandbox is serving: the tables are emptied and refilled in one transaction.

    Args:
        sandbox_dir: Where the sandbox keeps its SQLite file.
        settings: ``seed`` (RNG seed) and what the stand-ins read: ``cases``, ``password``, ...,
            and each one's own ``standins.NAME``.
        reset: Replace existing data; when False, a stand-in already seeded is left alone and
            only those not seeded yet (e.g. one installed since) are filled.
        standins: The stand-ins (default: every registered one).

    Returns:
        How many records each stand-in seeded now made, by name (none when all were left alone).
    """
    standins = installed_standins() if standins is None else tuple(standins)
    check_settings(standins, settings)
    with connect(sandbox_dir, standins=standins) as conn:
        seeded = {row[0] for row in conn.execute("SELECT standin FROM geseedet")}
        with_data = [standin for standin in standins if standin.seed is not None]
        todo = with_data if reset else _to_seed(with_data, seeded)
        if not todo:
            return {}
        counts: dict[str, int] = {}
        handover: dict[str, Any] = {}
        with transaction(conn):
            if reset:
                for table in TABLES:
                    conn.execute(f"DELETE FROM {table}")  # fixed table names
            # Children first: a stand-in seeded after another may refer to its rows.
            for standin in reversed(standins if reset else todo):
                for table in standin.tables:
                    conn.execute(f'DELETE FROM "{table}"')  # names the stand-in declared
            for standin in todo:
                context = SeedContext(
                    rng=random.Random(settings.seed),
                    settings=settings,
                    options=standin.options(settings),
                    handover=handover,
                )
                assert standin.seed is not None
                counts[standin.name] = standin.seed(conn, context)
                conn.execute(
                    "INSERT OR REPLACE INTO geseedet (standin, anzahl) VALUES (?, ?)",
                    (standin.name, counts[standin.name]),
                )
    return counts


def _to_seed(standins: Sequence[StandIn], seeded: set[str]) -> list[StandIn]:
    """The stand-ins not seeded yet, with those they seed after and those seeding after them.

    A stand-in seeded after another takes what that one hands over (the register Civento's
    transferred Vorgänge), so the two are only ever seeded together.
    """
    todo = {standin.name for standin in standins if standin.name not in seeded}
    grown = True
    while grown:
        linked = {
            name
            for standin in standins
            for name in (standin.name, *standin.after)
            if standin.name in todo or todo & set(standin.after)
        }
        grown = not linked <= todo
        todo |= linked
    return [standin for standin in standins if standin.name in todo]
