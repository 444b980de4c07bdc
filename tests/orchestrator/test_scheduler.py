"""Schedules: skips (holidays, windows, pause), one run per fire time, leader takeover."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from orchestrator.errors import ConfigError
from orchestrator.scheduler import Orchestrator
from orchestrator.schedules import (
    check_schedules,
    list_schedules,
    pause_schedule,
    resume_schedule,
    skip_reason,
)
from orchestrator.settings import (
    PROJECT_ROOT,
    ScheduleSettings,
    Settings,
    load_settings,
)
from orchestrator.store import RunStore, open_store, read_anchors
from sandbox.postgres import PostgresServer

if TYPE_CHECKING:
    from conftest import ScratchBots

BERLIN = ZoneInfo("Europe/Berlin")


def at(text_: str) -> datetime:
    return datetime.fromisoformat(text_).replace(tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-12-25 07:30", "Erster Weihnachtstag"),
        ("2026-04-06 07:30", "Ostermontag"),
        ("2026-06-04 07:30", "Fronleichnam"),  # a holiday in Hesse, not in every Land
        ("2026-11-23 07:30", None),
    ],
)
def test_hessian_public_holidays_are_skipped(moment: str, expected: str | None) -> None:
    schedule = ScheduleSettings(bot="b", cron="30 7 * * *", skip_holidays=True)
    reason = skip_reason(schedule, at(moment))
    assert (reason is None) if expected is None else (expected in (reason or ""))
    assert skip_reason(schedule.model_copy(update={"skip_holidays": False}), at(moment)) is None


def test_firings_outside_the_window_are_skipped() -> None:
    schedule = ScheduleSettings(bot="b", cron="0 * * * *", window="06:00-18:00")
    assert skip_reason(schedule, at("2026-11-23 06:00")) is None
    assert skip_reason(schedule, at("2026-11-23 18:00")) is None
    assert "outside the window" in (skip_reason(schedule, at("2026-11-23 19:00")) or "")


def test_bad_cron_expressions_are_named_with_their_schedule() -> None:
    settings = load_settings(
        tenants={
            "giessen": {
                "schedules": {
                    "morgens": {"bot": "b", "cron": "30 7 * * mon-fri"},
                    "kaputt": {"bot": "b", "cron": "61 7 * * *"},
                    "sekunden": {"bot": "b", "cron": "*/5 * * * * *"},
                }
            }
        }
    )
    with pytest.raises(ConfigError) as error:
        check_schedules(settings)
    assert "giessen/kaputt" in str(error.value) and "61 7 * * *" in str(error.value)
    assert "morgens" not in str(error.value) and "sekunden" not in str(error.value)


def schedule_settings(cron: str, **extra: object) -> Settings:
    return load_settings(
        tenant="giessen",
        tenants={"giessen": {"schedules": {"takt": {"bot": "notiz", "cron": cron, **extra}}}},
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    with open_store(f"sqlite:///{tmp_path / 'bots.sqlite'}") as opened:
        yield opened


def test_one_fire_time_yields_one_run_when_two_orchestrators_fire_it(
    scratch_bots: ScratchBots, store: RunStore
) -> None:
    scratch_bots.add("notiz")
    settings = schedule_settings("*/2 * * * * *")
    first = Orchestrator(settings, store, instance="a")
    second = Orchestrator(settings, store, instance="b")
    fire_time = at("2026-11-23 08:00")
    assert first.fire("giessen", "takt", fire_time) == second.fire("giessen", "takt", fire_time)
    runs = store.list_runs(tenant="giessen")
    assert [(r.bot, r.trigger, str(r.status)) for r in runs] == [("notiz", "schedule", "queued")]


@contextmanager
def running(orchestrator: Orchestrator) -> Iterator[None]:
    """Run ``orchestrator`` in a thread for the block; stop it (it releases the lease) after."""
    stop = threading.Event()
    thread = threading.Thread(target=orchestrator.run, args=(stop,))
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def wait_for(condition: Callable[[], bool], failure: str) -> None:
    """Wait (up to 20 s) until ``condition()`` holds; else fail with ``failure``."""
    deadline = time.monotonic() + 20
    while not condition():
        assert time.monotonic() < deadline, failure
        time.sleep(0.05)


def test_the_leader_notes_the_audit_head_when_it_starts_leading_and_as_the_trail_grows(
    store: RunStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    anchors = tmp_path / "anker" / "audit.jsonl"

    def orchestrator(instance: str, anchor_every_s: float) -> Orchestrator:
        settings = load_settings(
            tenant="giessen",
            audit_anchors=anchors,
            orchestrator={"anchor_every_s": anchor_every_s, "leader_lease_s": 3},
        )
        return Orchestrator(settings, store, instance=instance)

    def write_entry() -> None:
        store.audit("note", tenant="giessen", actor="user:alice", data={})

    def noted() -> list[int]:
        return [anchor.seq for anchor in read_anchors(anchors)]

    ticks = [0]  # the leader renews its lease on every tick of its loop: count them
    lease_lost = threading.Event()  # as when the database is away for a while
    acquire_lease = store.acquire_lease

    def counted_acquire_lease(name: str, holder: str, ttl_s: float) -> bool:
        ticks[0] += 1
        return not lease_lost.is_set() and acquire_lease(name, holder, ttl_s)

    def a_whole_tick_later() -> None:
        later = ticks[0] + 2
        wait_for(lambda: ticks[0] >= later, "the orchestrator does not tick")

    monkeypatch.setattr(store, "acquire_lease", counted_acquire_lease)

    write_entry()
    with running(orchestrator("a", anchor_every_s=0.2)):
        wait_for(lambda: noted() == [1], "no anchor when it started leading")
        write_entry()
        wait_for(lambda: noted() == [1, 2], "no anchor when the trail grew")
    write_entry()  # while nobody leads
    with running(orchestrator("b", anchor_every_s=3600)):
        wait_for(lambda: noted() == [1, 2, 3], "no anchor when it took over")
        write_entry()
        a_whole_tick_later()
        assert noted() == [1, 2, 3]  # an hour between anchors: entry 4 waits for its turn
        lease_lost.set()
        a_whole_tick_later()
        lease_lost.clear()
        wait_for(lambda: noted() == [1, 2, 3, 4], "no anchor when it led again")

    assert store.verify_audit(read_anchors(anchors)).ok


def test_a_paused_schedule_skips_its_firings_and_the_audit_trail_says_so(
    scratch_bots: ScratchBots, store: RunStore
) -> None:
    scratch_bots.add("notiz")
    settings = schedule_settings("30 7 * * *")
    pause_schedule(settings, store, "giessen", "takt", "user:anna@rathaus")
    assert [s.paused for s in list_schedules(settings, store, "giessen")] == [True]
    orchestrator = Orchestrator(settings, store, instance="a")
    assert orchestrator.fire("giessen", "takt", at("2026-11-23 07:30")) is None
    resume_schedule(settings, store, "giessen", "takt", "user:anna@rathaus")
    assert orchestrator.fire("giessen", "takt", at("2026-11-24 07:30")) is not None
    actions = [entry["action"] for entry in store.export_audit(tenant="giessen")]
    assert "schedule skipped" in actions
    with pytest.raises(ConfigError, match="no schedule 'abends'"):
        pause_schedule(settings, store, "giessen", "abends", "user:anna@rathaus")


def test_a_new_leader_makes_up_the_fire_times_missed_meanwhile(
    scratch_bots: ScratchBots, store: RunStore
) -> None:
    scratch_bots.add("notiz")
    settings = schedule_settings("*/2 * * * * *", misfire_grace_s=60, coalesce=False)
    now = datetime.now(BERLIN).replace(microsecond=0)
    last = now - timedelta(seconds=10 + now.second % 2)
    store.record_firing("giessen", "takt", last)
    orchestrator = Orchestrator(settings, store, instance="a")
    first_call = datetime.now(BERLIN)
    orchestrator._fire_due("giessen", "takt", make_up=True)
    made_up = len(store.list_runs(tenant="giessen", limit=100))
    assert 5 <= made_up <= 7  # every 2 s since the last firing, 10-11 s and the call ago
    orchestrator._fire_due(
        "giessen", "takt", make_up=True
    )  # a second leader doing the same adds nothing
    second_call = datetime.now(BERLIN)
    # ... but the fire times that came due meanwhile (every even second), on a slow machine.
    due_meanwhile = int(second_call.timestamp()) // 2 - int(first_call.timestamp()) // 2
    assert made_up <= len(store.list_runs(tenant="giessen", limit=100)) <= made_up + due_meanwhile


def test_missed_fire_times_are_coalesced_into_one_run_and_audited(
    scratch_bots: ScratchBots, store: RunStore
) -> None:
    scratch_bots.add("notiz")
    settings = schedule_settings("*/2 * * * * *", misfire_grace_s=60)  # coalesce by default
    now = datetime.now(BERLIN).replace(microsecond=0)
    last = now - timedelta(seconds=10 + now.second % 2)
    store.record_firing("giessen", "takt", last)
    Orchestrator(settings, store, instance="a")._fire_due("giessen", "takt", make_up=True)
    (run,) = store.list_runs(tenant="giessen", limit=100)
    (entry,) = [
        e for e in store.export_audit(tenant="giessen") if e["action"] == "schedule coalesced"
    ]
    assert 4 <= len(entry["data"]["fire_times"]) <= 5
    latest = datetime.fromisoformat(entry["data"]["into"])
    assert all(datetime.fromisoformat(t) < latest for t in entry["data"]["fire_times"])
    assert store.schedule_state("giessen")["takt"].last_fire_at == latest
    assert run.trigger == "schedule"


@pytest.mark.slow
def test_standby_takes_over_from_a_killed_leader_with_no_duplicate_and_no_gap(
    scratch_bots: ScratchBots, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    scratch_bots.add("notiz")
    url = postgres_server.new_database()
    open_store(url).close()  # migrate once, before two processes start
    env = {
        **os.environ,
        "BOTS_DATABASE_URL": url,
        "BOTS_TENANT": "giessen",
        "BOTS_TENANTS": json.dumps(
            {
                "giessen": {
                    # every fire time its own run, so a gap would show (coalescing hides it)
                    "schedules": {
                        "takt": {"bot": "notiz", "cron": "* * * * * *", "coalesce": False}
                    }
                }
            }
        ),
        "BOTS_ORCHESTRATOR__LEADER_LEASE_S": "2",
        "BOTS_LOG_LEVEL": "warning",
    }
    logs = [(tmp_path / f"orchestrator-{n}.log").open("wb") for n in range(2)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "orchestrator.scheduler"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for log in logs
    ]
    engine = create_engine(url)

    def leader_pid() -> int | None:
        with engine.connect() as connection:
            holder = connection.execute(
                text("SELECT holder FROM leases WHERE name = 'scheduler'")
            ).scalar()
        return int(holder.rsplit(":", 1)[1]) if holder else None

    def fire_times() -> list[str]:
        with engine.connect() as connection:
            keys = connection.execute(text("SELECT dedupe_key FROM runs")).scalars().all()
        return sorted(key.rsplit("@", 1)[1] for key in keys)

    try:
        deadline = time.monotonic() + 20
        while len(fire_times()) < 3:
            assert time.monotonic() < deadline, "the leader does not fire"
            time.sleep(0.2)
        leader = leader_pid()
        (killed,) = [p for p in processes if p.pid == leader]
        (standby,) = [p for p in processes if p.pid != leader]
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        deadline = time.monotonic() + 15
        while leader_pid() != standby.pid:
            assert time.monotonic() < deadline, "the standby did not take over"
            time.sleep(0.2)
        time.sleep(2.5)  # the new leader fires on its own for a while
        standby.send_signal(signal.SIGTERM)
        assert standby.wait(timeout=30) == 0
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
        engine.dispose()

    times = [datetime.fromisoformat(t) for t in fire_times()]
    assert len(times) == len(set(times))  # one run per fire time
    steps = {(b - a).total_seconds() for a, b in itertools.pairwise(times)}
    assert steps == {1.0}, times  # no fire time missed across the takeover
    assert len(times) >= 6


def test_the_leader_purges_payloads_past_retention_and_hands_back_lost_items(
    store: RunStore,
) -> None:
    from datetime import UTC, datetime, timedelta

    from orchestrator.states import WorkItemStatus

    queues = store.queues
    queues.create_queue("giessen", "eingang", retention_days=1, actor="user:alice")
    done = queues.add_item("giessen", "eingang", "GA-1", {"name": "Müller"}, actor="user:alice")
    lost = queues.add_item("giessen", "eingang", "GA-2", {"name": "Weiß"}, actor="user:alice")
    taken = queues.claim_item("giessen", "eingang", holder="robot-x", lease_s=30)
    assert taken is not None and taken.id == done.item.id
    queues.complete_item(taken.id, holder="robot-x", output={"az": "AZ-1"})
    queues.claim_item("giessen", "eingang", holder="robot-dead", lease_s=0.05)
    time.sleep(0.1)  # robot-dead's lease ran out

    # A day and more later: the payload of the finished item is past its retention.
    later = datetime.now(UTC) + timedelta(days=2)
    assert queues.purge("giessen", now=later, dry_run=True) == [done.item.id]
    settings = load_settings(tenant="giessen", orchestrator={"leader_lease_s": 3})
    with running(Orchestrator(settings, store, instance="a")):
        wait_for(
            lambda: queues.get_item(lost.item.id).status == WorkItemStatus.RETRYING,
            "the lost item was not handed back",
        )
    assert queues.get_item(done.item.id).payload is not None  # not yet past retention now
    assert queues.purge("giessen", now=later) == [done.item.id]
    purged = queues.get_item(done.item.id)
    assert purged.payload is None and purged.output is None
    assert purged.reference == "GA-1" and purged.status == WorkItemStatus.DONE
    again = queues.add_item("giessen", "eingang", "GA-1", {"name": "Müller"}, actor="user:bob")
    assert not again.created and again.item.id == done.item.id
    assert store.verify_audit().ok
