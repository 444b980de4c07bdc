"""What the orchestrators share about schedules: leader leases and schedule state.

Every write here is one atomic statement (``INSERT ... ON CONFLICT`` on both backends), so two
orchestrators racing for the ``scheduler`` lease or recording the same firing cannot both win.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, or_, select

from orchestrator.store.database import dialect_insert
from orchestrator.store.schedules.tables import LEASES
from orchestrator.store.schedules.tables import SCHEDULE_STATE as SCHEDULES


@dataclass(frozen=True)
class ScheduleState:
    """What the orchestrators remember of one schedule."""

    paused: bool
    last_fire_at: datetime | None  # the latest fire time a run was enqueued for


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
