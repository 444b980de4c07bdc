"""One orchestrator leads at a time, schedules keep their state, robots are known."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from orchestrator.errors import RobotNameTaken
from orchestrator.store import RunStore, ScheduleState

SHORT_TTL = 0.5
T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


def test_a_free_lease_is_taken_and_renewed_by_its_holder_only(store: RunStore) -> None:
    assert store.acquire_lease("scheduler", "orch-1", 30)
    assert store.acquire_lease("scheduler", "orch-1", 30), "the holder renews it"
    assert not store.acquire_lease("scheduler", "orch-2", 30)
    assert store.acquire_lease("reaper", "orch-2", 30), "another lease is another matter"


def test_a_lease_that_ran_out_is_taken_over(store: RunStore) -> None:
    assert store.acquire_lease("scheduler", "orch-1", SHORT_TTL)
    assert not store.acquire_lease("scheduler", "orch-2", 30)

    time.sleep(SHORT_TTL + 0.1)  # orch-1 stopped renewing

    assert store.acquire_lease("scheduler", "orch-2", 30)
    assert not store.acquire_lease("scheduler", "orch-1", 30)


def test_a_released_lease_is_free_at_once(store: RunStore) -> None:
    store.acquire_lease("scheduler", "orch-1", 30)

    store.release_lease("scheduler", "orch-2")  # not its lease: no effect
    assert not store.acquire_lease("scheduler", "orch-2", 30)
    store.release_lease("scheduler", "orch-1")

    assert store.acquire_lease("scheduler", "orch-2", 30)


def test_schedules_are_paused_and_resumed_with_an_audit_entry(store: RunStore) -> None:
    assert store.schedule_state("giessen") == {}

    store.set_schedule_paused("giessen", "morgens", True, actor="user:bob")
    assert store.schedule_state("giessen") == {"morgens": ScheduleState(True, None)}
    assert store.schedule_state("marburg") == {}

    store.set_schedule_paused("giessen", "morgens", False, actor="user:bob")
    assert store.schedule_state("giessen") == {"morgens": ScheduleState(False, None)}
    entries = list(store.export_audit(tenant="giessen"))
    assert [(e["action"], e["actor"], e["data"]) for e in entries] == [
        ("schedule paused", "user:bob", {"schedule": "morgens"}),
        ("schedule resumed", "user:bob", {"schedule": "morgens"}),
    ]


def test_record_firing_keeps_the_latest_fire_time(store: RunStore) -> None:
    store.record_firing("giessen", "morgens", T0)
    store.record_firing("giessen", "morgens", T0 + timedelta(days=1))
    store.record_firing("giessen", "morgens", T0)  # a late second orchestrator

    assert store.schedule_state("giessen")["morgens"] == ScheduleState(
        False, T0 + timedelta(days=1)
    )


def test_record_firing_keeps_a_schedule_paused(store: RunStore) -> None:
    store.set_schedule_paused("giessen", "morgens", True, actor="user:bob")

    store.record_firing("giessen", "morgens", T0)

    assert store.schedule_state("giessen")["morgens"] == ScheduleState(True, T0)


def test_robots_register_beat_and_stop(store: RunStore) -> None:
    store.register_robot(
        "robot-1",
        instance="robot-1#aaaa",
        tenants=["giessen"],
        labels=["browser"],
        concurrency=2,
        host="rpa-01",
        pid=7,
    )
    (robot,) = store.list_robots()
    assert (robot.name, robot.instance, robot.tenants, robot.labels, robot.concurrency) == (
        "robot-1",
        "robot-1#aaaa",
        ["giessen"],
        ["browser"],
        2,
    )
    assert (robot.host, robot.pid) == ("rpa-01", 7)
    assert robot.stopped_at is None and robot.heartbeat_at == robot.started_at

    time.sleep(0.01)
    store.renew("robot-1#aaaa", 30)
    assert store.list_robots()[0].heartbeat_at > robot.heartbeat_at

    store.robot_stopped("robot-1#aaaa")
    assert store.list_robots()[0].stopped_at is not None
    store.register_robot(
        "robot-1",
        instance="robot-1#bbbb",
        tenants=["marburg"],
        labels=[],
        concurrency=1,
        host="rpa-02",
        pid=8,
        replaces="robot-1#aaaa",
    )
    again = store.list_robots()[0]
    assert (again.tenants, again.host, again.stopped_at) == (["marburg"], "rpa-02", None)
    assert again.instance == "robot-1#bbbb"
    assert [e["action"] for e in store.export_audit()] == [
        "robot started",
        "robot stopped",
        "robot started",
    ]


def test_a_replaced_instance_neither_beats_nor_stops_the_new_one(store: RunStore) -> None:
    store.register_robot(
        "robot-1", instance="robot-1#old", tenants=["giessen"], labels=[], concurrency=1,
        host="rpa-01", pid=7,
    )  # fmt: skip
    store.register_robot(
        "robot-1", instance="robot-1#new", tenants=["giessen"], labels=[], concurrency=1,
        host="rpa-01", pid=8, replaces="robot-1#old",
    )  # fmt: skip
    before = store.robot("robot-1")
    assert before is not None

    time.sleep(0.01)
    store.renew("robot-1#old", 30)  # the old process, if it still lives, beats in vain
    store.robot_stopped("robot-1#old")

    after = store.robot("robot-1")
    assert after is not None
    assert (after.instance, after.heartbeat_at, after.stopped_at) == (
        "robot-1#new",
        before.heartbeat_at,
        None,
    )


def test_registering_over_an_instance_other_than_the_one_seen_is_refused(
    store: RunStore,
) -> None:
    store.register_robot(
        "robot-1", instance="robot-1#first", tenants=["giessen"], labels=[], concurrency=1,
        host="rpa-01", pid=7,
    )  # fmt: skip

    with pytest.raises(RobotNameTaken, match="robot-1#first"):
        store.register_robot(
            "robot-1", instance="robot-1#second", tenants=["giessen"], labels=[],
            concurrency=1, host="rpa-01", pid=8, replaces=None,
        )  # fmt: skip

    robot = store.robot("robot-1")
    assert robot is not None and robot.instance == "robot-1#first"
