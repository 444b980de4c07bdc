"""What orchestrators and robots share besides runs: leader leases, schedule state, robots.

Every write here is one atomic statement (``INSERT ... ON CONFLICT`` on both backends), so two
orchestrators racing for the ``scheduler`` lease or recording the same firing cannot both win.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, or_, select, update

from orchestrator.store.database import dialect_insert
from orchestrator.store.tables import LEASES, ROBOTS
from orchestrator.store.tables import SCHEDULE_STATE as SCHEDULES


@dataclass(frozen=True)
class ScheduleState:
    """What the orchestrators remember of one schedule."""

    paused: bool
    last_fire_at: datetime | None  # the latest fire time a run was enqueued for


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


def acquire_lease(
    connection: Connection, name: str, holder: str, ttl_s: float, now: datetime
) -> bool:
    """Take lease ``name`` if it is free or ran out, or renew it if ``holder`` has it."""
    statement = dialect_insert(connection, LEASES).values(
        name=name, holder=holder, expires_at=now + timedelta(seconds=ttl_s)
    )
    statement = statement.on_conflict_do_update(
        index_elements=[LEASES.c.name],
        set_={"holder": statement.excluded.holder, "expires_at": statement.excluded.expires_at},
        where=or_(LEASES.c.holder == holder, LEASES.c.expires_at < now),
    )
    return connection.execute(statement.returning(LEASES.c.name)).first() is not None


def release_lease(connection: Connection, name: str, holder: str) -> None:
    """Give up lease ``name``, if ``holder`` has it."""
    connection.execute(delete(LEASES).where(LEASES.c.name == name, LEASES.c.holder == holder))


def schedule_states(connection: Connection, tenant: str) -> dict[str, ScheduleState]:
    """Schedule name -> state, for the schedules of ``tenant`` that have any."""
    rows = connection.execute(select(SCHEDULES).where(SCHEDULES.c.tenant == tenant))
    return {row.name: ScheduleState(bool(row.paused), row.last_fire_at) for row in rows}


def set_paused(connection: Connection, tenant: str, name: str, paused: bool) -> None:
    """Pause or resume a schedule."""
    statement = dialect_insert(connection, SCHEDULES).values(
        tenant=tenant, name=name, paused=paused
    )
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=[SCHEDULES.c.tenant, SCHEDULES.c.name], set_={"paused": paused}
        )
    )


def record_firing(connection: Connection, tenant: str, name: str, fire_time: datetime) -> None:
    """Remember ``fire_time`` as the schedule's last firing, unless a later one is known."""
    statement = dialect_insert(connection, SCHEDULES).values(
        tenant=tenant, name=name, paused=False, last_fire_at=fire_time
    )
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=[SCHEDULES.c.tenant, SCHEDULES.c.name],
            set_={"last_fire_at": statement.excluded.last_fire_at},
            where=or_(SCHEDULES.c.last_fire_at.is_(None), SCHEDULES.c.last_fire_at < fire_time),
        )
    )


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
