"""What nobody reports by themselves: cases past their deadline and robots gone silent, found
by the orchestrator's leader (or `bots notifications deliver`), each notified once."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from _notify import TENANT, MakeSettings, SmtpServer, scan

from orchestrator.engine.run_end import tenant_secrets
from orchestrator.notifications import deliverer, notification_pass
from orchestrator.notifications.watch import queue_robots_gone
from orchestrator.scheduler import Orchestrator
from orchestrator.store import RunStore

MAIL = "leitstelle"
WATCH = [{"channels": [MAIL], "events": ["sla_breach", "robot_gone"]}]


def _late_case(store: RunStore, reference: str = "GA-2026-0815") -> int:
    store.queues.create_queue(TENANT, "eingang", actor="user:test")
    added = store.queues.add_item(
        TENANT,
        "eingang",
        reference,
        {"name": "Erika Mustermann", "iban": "DE02120300000000202051"},
        deadline=datetime.now(UTC) - timedelta(hours=2),
        actor="user:test",
    )
    return added.item.id


def test_a_case_past_its_deadline_is_notified_once(
    make_settings: MakeSettings, store: RunStore, smtp: SmtpServer
) -> None:
    settings = make_settings({MAIL: smtp.channel()}, WATCH)
    item_id = _late_case(store)
    store.queues.add_item(TENANT, "eingang", "GA-2026-0900", {"name": "x"}, actor="user:test")

    first = notification_pass(store, settings, secrets=tenant_secrets, holder=deliverer("test"))
    second = notification_pass(store, settings, secrets=tenant_secrets, holder=deliverer("test"))

    assert (len(first.sent), second.sent) == (1, [])
    [mail] = smtp.mails()
    assert mail["Subject"] == (
        f"[RPA {TENANT}] Frist überschritten: Vorgang GA-2026-0815 (Warteschlange eingang)"
    )
    assert "Stand: neu, noch nicht bearbeitet" in mail.get_content()
    assert scan(smtp.raw[0]) == []
    [message] = store.notifications.list_notifications()
    assert message.subject == f"item:{item_id}"


def test_a_robot_gone_silent_is_notified_once_per_process(
    make_settings: MakeSettings, store: RunStore, smtp: SmtpServer
) -> None:
    settings = make_settings({MAIL: smtp.channel()}, WATCH, orchestrator={"lease_s": 30})
    store.register_robot(
        "robot-1",
        instance="robot-1#4f2a0c1d",
        tenants=[TENANT],
        labels=["browser"],
        concurrency=1,
        host="rpa-01",
        pid=4711,
    )
    [robot] = store.list_robots()
    actor = deliverer("test")
    alive = robot.heartbeat_at + timedelta(seconds=10)
    silent = robot.heartbeat_at + timedelta(seconds=31)

    assert queue_robots_gone(store, settings, now=alive, actor=actor) == 0
    assert queue_robots_gone(store, settings, now=silent, actor=actor) == 1
    assert queue_robots_gone(store, settings, now=silent + timedelta(minutes=5), actor=actor) == 0
    store.robot_stopped("robot-1#4f2a0c1d")
    assert queue_robots_gone(store, settings, now=silent + timedelta(minutes=10), actor=actor) == 0

    notification_pass(store, settings, secrets=tenant_secrets, holder=actor)
    [mail] = smtp.mails()
    assert mail["Subject"] == f"[RPA {TENANT}] Roboter robot-1 meldet sich nicht mehr"
    assert "auf dem Rechner rpa-01" in mail.get_content()


def test_the_orchestrators_leader_delivers_by_itself(
    make_settings: MakeSettings, store: RunStore, smtp: SmtpServer
) -> None:
    settings = make_settings(
        {MAIL: smtp.channel()},
        WATCH,
        notify={"deliver_every_s": 0.2},
        orchestrator={"leader_lease_s": 3},
    )
    _late_case(store)
    stop = threading.Event()
    thread = threading.Thread(target=Orchestrator(settings, store, instance="a").run, args=(stop,))
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not smtp.raw:
            assert time.monotonic() < deadline, "the leader sent nothing"
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=30)

    assert not thread.is_alive()
    [mail] = smtp.mails()
    assert "Frist überschritten: Vorgang GA-2026-0815" in mail["Subject"]
