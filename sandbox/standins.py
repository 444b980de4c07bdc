"""Stand-ins: the target systems the sandbox serves, registered like connectors.

A stand-in is a :class:`StandIn` named by an entry point of the group
``kommune_bots.standins``; the sandbox serves, seeds and reports whatever is registered there,
the built-in Civento and Gewerberegister as much as a package installed beside the project::

    [project.entry-points."kommune_bots.standins"]
    notizblock = "kb_notizblock:STANDIN"

A stand-in is either a web app (``router``: mounted at ``/NAME`` of the sandbox's ASGI app) or a
process (``process``: a desktop application under the run's display, started and stopped with
the sandbox). Its tables live in the sandbox's one SQLite file (``schema``, emptied by a re-seed:
``tables``); ``seed`` fills them, ``state`` and ``state_lines`` say what they hold for
``bots sandbox state``, and ``settings`` validates its own part of the settings
(``sandbox.standins.NAME``).

Example::

    for standin in installed_standins():
        print(standin.name, standin.router is not None)
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

from fastapi import APIRouter
from pydantic import BaseModel

from orchestrator.settings import SandboxSettings

ENTRY_POINT_GROUP = "kommune_bots.standins"


class StandInProcess(Protocol):
    """A stand-in that is a process (a desktop application), not a web app.

    The sandbox calls ``start`` when it starts serving, with the environment the process runs
    in (the run's ``DISPLAY`` among it), and ``stop`` when it stops; ``address`` then says where
    it is (e.g. ``"pid 4711 on :99"``), for ``bots sandbox serve`` to print.
    """

    @property
    def address(self) -> str:
        """Where the running process is, in words."""
        ...

    def start(self, env: Mapping[str, str]) -> None:
        """Start the process with this environment; return once it is ready."""
        ...

    def stop(self) -> None:
        """Stop the process and wait for it to end."""
        ...


@dataclass
class SeedContext:
    """What a stand-in's ``seed`` gets besides its connection.

    Attributes:
        rng: The stand-in's random generator, seeded with ``settings.seed`` (each stand-in gets
            its own, so adding a stand-in changes no other one's data).
        settings: The sandbox settings (``seed``, ``cases``, ``password``, ...).
        options: The stand-in's own settings (its ``settings`` model), or None.
        handover: What stand-ins seeded earlier left for later ones, by the receiver's name
            (Civento's transferred Vorgänge are the Gewerberegister's entries).
    """

    rng: random.Random
    settings: SandboxSettings
    options: BaseModel | None = None
    handover: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StandIn:
    """A registered stand-in (see the module docstring).

    Attributes:
        name: Its name: the URL prefix ``/NAME``, the key of its settings and its
            ``bots sandbox`` lines.
        title: How the sandbox's start page and ``bots sandbox serve`` name it.
        router: Its web app, mounted at ``/NAME`` (give this or ``process``).
        process: Makes its process for a sandbox directory (give this or ``router``).
        static: A directory served at ``/NAME/static`` (never answered with a fault).
        schema: Its tables (``CREATE TABLE IF NOT EXISTS ...``), in the sandbox's SQLite file.
        tables: Its tables a re-seed empties, in this order (children before parents).
        seed: Fills its tables (inside the seed's one transaction); returns how many records
            it made.
        seed_unit: What those records are, for ``bots sandbox seed`` (``"Vorgänge"``).
        after: Stand-ins whose seed runs before this one's (it uses their ``handover``).
        state: What its tables hold, as JSON-able keys of ``bots sandbox state --json``
            (name them after the stand-in; no two stand-ins may share a key).
        state_lines: Those keys as lines of ``bots sandbox state``.
        settings: The model of its own settings (``sandbox.standins.NAME``), or None.
    """

    name: str
    title: str
    router: APIRouter | None = None
    process: Callable[[Path], StandInProcess] | None = None
    static: Path | None = None
    schema: str = ""
    tables: tuple[str, ...] = ()
    seed: Callable[[sqlite3.Connection, SeedContext], int] | None = None
    seed_unit: str = "Einträge"
    after: tuple[str, ...] = ()
    state: Callable[[sqlite3.Connection], dict[str, Any]] | None = None
    state_lines: Callable[[dict[str, Any]], list[str]] | None = None
    settings: type[BaseModel] | None = None

    def __post_init__(self) -> None:
        if (self.router is None) == (self.process is None):
            raise ValueError(f"stand-in {self.name!r}: give a router or a process, not both")

    def options(self, settings: SandboxSettings) -> BaseModel | None:
        """Its own settings, validated by its ``settings`` model (None without one)."""
        values = settings.standins.get(self.name, {})
        if self.settings is None:
            if values:
                raise ValueError(f"stand-in {self.name!r} has no settings: {sorted(values)}")
            return None
        return self.settings.model_validate(values)


@lru_cache(maxsize=1)
def installed_standins() -> tuple[StandIn, ...]:
    """Every registered stand-in, each after those it seeds ``after``.

    Raises:
        TypeError: An entry point names something that is not a :class:`StandIn`.
        ValueError: Two stand-ins share a name, or one seeds after one not registered.
    """
    found = []
    # By name, as the connectors are: the order must not depend on how sys.path is laid out.
    for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda point: point.name):
        standin = point.load()
        if not isinstance(standin, StandIn):
            raise TypeError(f"entry point {point.name!r} ({point.value}) is not a StandIn")
        found.append(standin)
    return in_seed_order(found)


def in_seed_order(standins: Sequence[StandIn]) -> tuple[StandIn, ...]:
    """``standins`` in their order, except that each comes after those it seeds ``after``.

    Raises:
        ValueError: Two share a name, one seeds after one not given, or two after each other.
    """
    by_name: dict[str, StandIn] = {}
    for standin in standins:
        if standin.name in by_name:
            raise ValueError(f"two stand-ins are named {standin.name!r}")
        by_name[standin.name] = standin
    ordered: dict[str, StandIn] = {}

    def place(standin: StandIn, waiting: tuple[str, ...]) -> None:
        if standin.name in ordered:
            return
        for before in standin.after:
            if before not in by_name:
                raise ValueError(f"stand-in {standin.name!r} seeds after unknown {before!r}")
            if before in waiting:
                raise ValueError(f"stand-ins seed after each other: {', '.join(waiting)}")
            place(by_name[before], (*waiting, standin.name))
        ordered[standin.name] = standin

    for standin in standins:
        place(standin, ())
    return tuple(ordered.values())


def check_settings(standins: Sequence[StandIn], settings: SandboxSettings) -> None:
    """Refuse settings of stand-ins that are not registered, and invalid ones of those that are.

    Raises:
        ValueError: ``sandbox.standins`` names an unknown stand-in or holds invalid values.
    """
    names = {standin.name for standin in standins}
    unknown = sorted(set(settings.standins) - names)
    if unknown:
        raise ValueError(f"settings of unknown stand-ins: {', '.join(unknown)}")
    for standin in standins:
        standin.options(settings)
