"""A robot's record and the SQL of the ``robots`` table: register, heartbeat, stop, list.

Registering is one atomic statement (``INSERT ... ON CONFLICT`` on both backends), so two
processes registering under the same name cannot both win.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update

from orchestrator.store.database import dialect_insert
from orchestrator.store.robots.tables import ROBOTS


@dataclass(frozen=True)
class RobotRecord:
    """A robot as it registered itself; ``stopped_at`` is None while it runs (or vanished).

    ``name`` is stable (from configuration); ``instance`` names the process now registered
    under it, which holds the leases of the robot's runs (``name#<8 hex digits>``).
    """

    name: str
    tenants: list[str]
    labels: list[str]
    concurrency: int
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None
    instance: str | None = None


def lock_robot(connection: Connection, name: str) -> RobotRecord | None:
    """The registration of robot ``name``, locked until the transaction ends (PostgreSQL)."""
    row = connection.execute(select(ROBOTS).where(ROBOTS.c.name == name).with_for_update()).first()
    return RobotRecord(**row._mapping) if row is not None else None


def register_robot(
    connection: Connection,
    name: str,
    *,
    instance: str,
    tenants: Sequence[str],
    labels: Sequence[str],
    concurrency: int,
    host: str,
    pid: int,
    now: datetime,
    first: bool = False,
) -> bool:
    """Record instance ``instance`` of robot ``name`` as started now, replacing the last one.

    ``first``: the name had no registration when the caller looked: only insert, so that of
    two processes registering a new name at once, one gets False (the other was first).
    """
    values = {
        "instance": instance,
        "tenants": sorted(set(tenants)),
        "labels": sorted(set(labels)),
        "concurrency": concurrency,
        "host": host,
        "pid": pid,
        "started_at": now,
        "heartbeat_at": now,
        "stopped_at": None,
    }
    statement = dialect_insert(connection, ROBOTS).values(name=name, **values)
    if first:
        inserted = statement.on_conflict_do_nothing(index_elements=[ROBOTS.c.name])
        return connection.execute(inserted.returning(ROBOTS.c.name)).first() is not None
    connection.execute(statement.on_conflict_do_update(index_elements=[ROBOTS.c.name], set_=values))
    return True


def robot_heartbeat(connection: Connection, instance: str, now: datetime) -> None:
    """Note that robot instance ``instance`` (if registered and not replaced) is alive."""
    connection.execute(update(ROBOTS).where(ROBOTS.c.instance == instance).values(heartbeat_at=now))


def robot_stopped(connection: Connection, instance: str, now: datetime) -> None:
    """Note that robot instance ``instance`` stopped (nothing, if another replaced it)."""
    connection.execute(update(ROBOTS).where(ROBOTS.c.instance == instance).values(stopped_at=now))


def list_robots(connection: Connection) -> list[RobotRecord]:
    """Every registered robot, by name."""
    rows = connection.execute(select(ROBOTS).order_by(ROBOTS.c.name))
    return [RobotRecord(**row._mapping) for row in rows]
