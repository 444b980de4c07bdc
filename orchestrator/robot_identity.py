"""Whether the process registered under a robot's name still runs.

A robot is a stable name plus an instance per process start (see :mod:`orchestrator.robot`).
A restart under the name takes over only from a process that is gone; ``bots robot list``
shows robots alive or gone by the same rule (:func:`robot_states`). It needs no engine, so
the CLI imports it alone::

    why = still_alive(store.robot("robot-1"), lease_s=30)   # None: gone, take over
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime

from orchestrator.liveness import process_running
from orchestrator.store import RobotRecord, RunStore


def still_alive(previous: RobotRecord, lease_s: float) -> str | None:
    """Why the process registered as ``previous`` may still be running; None if it is gone.

    Alive means a heartbeat younger than the lease. On this host the process table can say
    "gone" at once, so a restart after a crash need not wait for the lease: no process has
    its pid, or that pid is a zombie, or this very process, or a process that started well
    after the registration (the pid was reused).
    """
    if previous.host == socket.gethostname() and (
        previous.pid == os.getpid() or not process_running(previous.pid, previous.started_at)
    ):
        return None
    age = (datetime.now(UTC) - previous.heartbeat_at).total_seconds()
    if age >= lease_s:
        return None
    return (
        f"on host {previous.host}, pid {previous.pid}, instance {previous.instance}, "
        f"last heartbeat {max(age, 0):.0f} s ago"
    )


@dataclass(frozen=True)
class RobotState:
    """A registered robot as an operator sees it: alive or gone, and the runs it holds."""

    record: RobotRecord
    alive: bool
    heartbeat_age_s: float
    runs: list[int]


def robot_states(store: RunStore, lease_s: float) -> list[RobotState]:
    """Every robot that ever registered, by name, judged as a restart under its name would.

    A robot is alive while it has not stopped and :func:`still_alive` says so: its heartbeat
    is younger than ``lease_s`` and, on this host, its process runs. ``runs`` are those held
    by its current instance (or, from before instances, by its name).

    Example: ``[s.record.name for s in robot_states(store, 30) if s.alive]``.
    """
    robots = store.list_robots()
    held = store.runs_held()
    now = datetime.now(UTC)
    return [
        RobotState(
            record=robot,
            alive=robot.stopped_at is None and still_alive(robot, lease_s) is not None,
            heartbeat_age_s=(now - robot.heartbeat_at).total_seconds(),
            runs=sorted(
                run
                for holder in (robot.instance, robot.name)
                if holder
                for run in held.get(holder, [])
            ),
        )
        for robot in robots
    ]
