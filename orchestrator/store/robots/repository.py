"""Robots and their leases: registrations, heartbeats, and the runs each one holds.

A robot registers under its name (replacing the instance that ran under it before, whose
runs it hands back as robot losses), renews the leases of the runs it holds (its heartbeat),
and stops. Example::

    robots = RobotRepository(transactions)
    robots.register_robot("robot-1", instance="robot-1#5be0f3a1", tenants=["giessen"],
                          labels=["browser"], concurrency=2, host="rpa-01", pid=4711)
    if 17 in robots.renew("robot-1#5be0f3a1", 30):
        cancel_event.set()
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta

from sqlalchemy import select

from orchestrator.errors import RobotNameTaken
from orchestrator.states import ACTIVE, RunStatus
from orchestrator.store.audit.chain import AuditEvent
from orchestrator.store.robots import records
from orchestrator.store.robots.records import RobotRecord
from orchestrator.store.robots.tables import ROBOTS
from orchestrator.store.runs.moves import (
    MAX_ROBOT_LOSSES,
    RUN_STATUS,
    RUN_WORK,
    robot_lost,
    select_runs,
)
from orchestrator.store.runs.tables import RUNS
from orchestrator.store.transactions import Transactions


class RobotRepository:
    """Robots, their registrations and the leases of the runs they hold."""

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    def register_robot(
        self,
        name: str,
        *,
        instance: str,
        tenants: Collection[str],
        labels: Collection[str],
        concurrency: int,
        host: str,
        pid: int,
        replaces: str | None = None,
        max_losses: int = MAX_ROBOT_LOSSES,
    ) -> list[tuple[int, RunStatus]]:
        """Register ``instance`` as the process of robot ``name`` now (audited).

        ``replaces`` is the instance the caller found registered under the name and judged
        gone (:meth:`robot`); the runs it still holds are handed back at once, in the same
        transaction, as a robot loss (re-queued or ``lost``, see
        :func:`~orchestrator.store.runs.moves.robot_lost`), instead of waiting for their
        leases to run out. Returns what became of them. :meth:`renew` with ``instance`` is
        the robot's heartbeat.

        Example::

            before = store.robot("robot-1")
            store.register_robot("robot-1", instance="robot-1#5be0f3a1", tenants=["giessen"],
                                 labels=["browser"], concurrency=2, host="rpa-01", pid=4711,
                                 replaces=before.instance if before else None)

        Raises:
            RobotNameTaken: another process registered under ``name`` after the caller looked
                (the registration is no longer ``replaces``); nothing was changed.
        """
        taken = f"robot {name!r} was registered meanwhile by another process"
        with self._tx.change() as tx:
            current = records.lock_robot(tx.connection, name)
            registered = current.instance if current is not None else None
            if current is not None and registered != replaces:
                raise RobotNameTaken(
                    f"{taken} (instance {registered}, host {current.host}, pid {current.pid}); "
                    "two robots cannot share a name."
                )
            # A name never registered has no row to lock: the insert itself decides who was
            # first, on PostgreSQL as on SQLite.
            if not records.register_robot(
                tx.connection,
                name,
                instance=instance,
                tenants=sorted(tenants),
                labels=sorted(labels),
                concurrency=concurrency,
                host=host,
                pid=pid,
                now=tx.now,
                first=current is None,
            ):
                raise RobotNameTaken(f"{taken}; two robots cannot share a name.")
            data = {
                "robot": name,
                "instance": instance,
                "replaces": registered,
                "tenants": sorted(tenants),
                "labels": sorted(labels),
                "host": host,
                "pid": pid,
            }
            tx.record(AuditEvent("robot started", None, instance, data))
            # The name's earlier holders: the replaced instance, and the name itself (robots
            # registered before instances existed held their runs by name).
            holders = [holder for holder in (registered, name) if holder]
            held = tx.connection.execute(
                select_runs()
                .where(
                    RUNS.c.holder.in_(holders),
                    RUNS.c.status.in_([status.value for status in ACTIVE]),
                )
                .order_by(RUNS.c.id)
                .with_for_update()
            ).all()
            runs = [RUN_STATUS.read(row) for row in held]
            reason = f"robot {name} restarted; its instance {registered or name} is gone"
            return robot_lost(tx, runs, reason=reason, actor=instance, max_losses=max_losses)

    def robot(self, name: str) -> RobotRecord | None:
        """The registration of robot ``name``, or None if it never registered.

        Example: ``store.robot("robot-1").instance`` -> ``"robot-1#5be0f3a1"``.
        """
        with self._tx.read() as connection:
            row = connection.execute(select(ROBOTS).where(ROBOTS.c.name == name)).first()
        return RobotRecord(**row._mapping) if row is not None else None

    def robot_stopped(self, instance: str) -> None:
        """Record that robot instance ``instance`` stopped (audited).

        Example: ``store.robot_stopped("robot-1#5be0f3a1")``.
        """
        with self._tx.change() as tx:
            records.robot_stopped(tx.connection, instance, tx.now)
            tx.record(AuditEvent("robot stopped", None, instance, {"instance": instance}))

    def list_robots(self) -> list[RobotRecord]:
        """Every robot that ever registered, by name.

        Example: ``[r.name for r in store.list_robots() if r.stopped_at is None]``.
        """
        with self._tx.read() as connection:
            return records.list_robots(connection)

    def runs_held(self) -> dict[str, list[int]]:
        """The claimed and running runs by holder (robot instance or ``cli:host:pid``).

        Example: ``store.runs_held()`` -> ``{"robot-1#5be0f3a1": [17, 18]}``.
        """
        query = (
            select(RUNS.c.holder, RUNS.c.id)
            .where(RUNS.c.status.in_([status.value for status in ACTIVE]))
            .order_by(RUNS.c.id)
        )
        held: dict[str, list[int]] = {}
        with self._tx.query() as connection:
            for row in connection.execute(query):
                held.setdefault(row.holder, []).append(row.id)
        return held

    def renew(self, holder: str, lease_s: float) -> set[int]:
        """Extend the leases of all claimed/running runs of ``holder`` to now + ``lease_s``.

        Also the heartbeat of the robot of that name, if one registered. Returns the ids among
        the runs whose cancellation was requested (:meth:`.RunRepository.cancel`): stop them.

        Example: ``if 17 in store.renew("robot-1", 30): cancel_event.set()``.
        """
        with self._tx.change() as tx:
            # The robot's row before its runs, as a registration locks them: a restart under
            # the name cannot deadlock with a renewal of the instance it replaces.
            records.robot_heartbeat(tx.connection, holder, tx.now)
            until = tx.now + timedelta(seconds=lease_s)
            returning = ("id", "cancel_requested")
            renewed = RUN_WORK.renew(tx.connection, holder, until, returning=returning)
        return {row.id for row in renewed if row.cancel_requested}
