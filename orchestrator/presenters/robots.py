"""Robots and schedules as text and JSON: `bots robots`, `bots schedules`."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from orchestrator.results import iso_or_none as iso

if TYPE_CHECKING:  # imported for their types only: a presenter loads no scheduler or store
    from orchestrator.robot_identity import RobotState
    from orchestrator.schedules import ScheduleInfo


def robot_as_json(state: RobotState) -> dict[str, Any]:
    """A robot as ``bots robot list --json`` prints it."""
    robot = state.record
    return {
        "name": robot.name,
        "instance": robot.instance,
        "state": "alive" if state.alive else "gone",
        "labels": robot.labels,
        "tenants": robot.tenants,
        "concurrency": robot.concurrency,
        "host": robot.host,
        "pid": robot.pid,
        "started_at": iso(robot.started_at),
        "heartbeat_at": iso(robot.heartbeat_at),
        "heartbeat_age_s": round(state.heartbeat_age_s, 1),
        "stopped_at": iso(robot.stopped_at),
        "runs": state.runs,
    }


def robot_lines(state: RobotState) -> list[str]:
    """A robot as two lines of ``bots robot list``: who and where, then labels and runs."""
    row = robot_as_json(state)
    runs = ", ".join(map(str, row["runs"])) or "-"
    return [
        f"{row['name']}  {row['state']:<5}  instance {row['instance'] or '-'}  "
        f"host {row['host']} pid {row['pid']}  heartbeat {row['heartbeat_at']} "
        f"({row['heartbeat_age_s']:g} s ago)",
        f"    labels {','.join(row['labels']) or '-'}  tenants {','.join(row['tenants'])}"
        f"  runs held: {runs}",
    ]


def schedule_as_json(info: ScheduleInfo) -> dict[str, Any]:
    """A schedule as ``bots schedule list --json`` prints it (times in ISO 8601)."""
    return {
        key: value.isoformat() if hasattr(value, "isoformat") else value
        for key, value in asdict(info).items()
    }


def schedule_line(info: ScheduleInfo) -> str:
    """A schedule as one line: name, state, cron expression, bot and next firing."""
    state = "paused" if info.paused else ("disabled" if not info.enabled else "active")
    nxt = info.next_fire_at.isoformat(timespec="minutes") if info.next_fire_at else "-"
    return f"{info.name:<24} {state:<8} {info.cron:<20} {info.bot}  next: {nxt}"
