"""The notification outbox in the store: a message queued once, sent once, never lost.

Each test runs on SQLite and on PostgreSQL (``store`` of ``conftest.py``).
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from orchestrator.errors import InvalidTransition
from orchestrator.states import NotificationStatus
from orchestrator.store import NewNotification, RunStore
from orchestrator.store.tables import utc_now

N = NotificationStatus
A, B = "notify-a", "notify-b"


def _message(subject: str = "run:17", channel: str = "mail", **fields: Any) -> NewNotification:
    values: dict[str, Any] = {
        "tenant": "giessen",
        "event": "run_failed",
        "subject": subject,
        "channel": channel,
        "dedupe_key": f"giessen:run_failed:{subject}:{channel}",
        "lang": "de",
        "facts": {"run_id": 17, "bot": "gewerbe-abgleich"},
        **fields,
    }
    return NewNotification(**values)


def test_a_trigger_delivered_twice_queues_one_message(store: RunStore) -> None:
    first = store.notifications.queue([_message(), _message(channel="chat")], actor="run:17")
    again = store.notifications.queue([_message()], actor="run:17")

    assert len(first) == 2 and again == []
    assert [m.channel for m in store.notifications.list_notifications()] == ["chat", "mail"]


def test_deliverers_claiming_at_once_never_take_the_same_message(store: RunStore) -> None:
    store.notifications.queue([_message(f"run:{n}") for n in range(24)], actor="run")
    taken: dict[str, list[int]] = {"notify-a": [], "notify-b": [], "notify-c": []}
    start = threading.Barrier(len(taken))

    def work(holder: str) -> None:
        start.wait()
        while claimed := store.notifications.claim(holder=holder, lease_s=60):
            taken[holder].append(claimed[0].id)
            store.notifications.mark_sent(claimed[0].id, holder=holder)

    threads = [threading.Thread(target=work, args=(holder,)) for holder in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    every = [message_id for ids in taken.values() for message_id in ids]
    assert len(every) == len(set(every)) == 24
    assert {m.status for m in store.notifications.list_notifications()} == {N.SENT}


def test_only_the_claims_holder_marks_a_message_sent_and_only_once(store: RunStore) -> None:
    [new_id] = store.notifications.queue([_message()], actor="run:17")
    [claimed] = store.notifications.claim(holder=A, lease_s=60)

    with pytest.raises(InvalidTransition):
        store.notifications.mark_sent(new_id, holder=B)
    sent = store.notifications.mark_sent(new_id, holder=A)
    with pytest.raises(InvalidTransition):
        store.notifications.mark_sent(new_id, holder=A)

    assert (claimed.status, claimed.attempts, claimed.holder) == (N.SENDING, 1, A)
    assert sent.status is N.SENT and sent.sent_at is not None
    actions = [e["action"] for e in store.export_audit() if e["action"].startswith("notif")]
    assert actions == ["notification pending", "notification sending", "notification sent"]
    assert all("facts" not in e["data"] for e in store.export_audit())
    assert store.verify_audit().ok


def test_a_deliverer_that_died_leaves_its_message_to_the_next(store: RunStore) -> None:
    [new_id] = store.notifications.queue([_message()], actor="run:17")
    store.notifications.claim(holder=A, lease_s=30)

    assert store.notifications.claim(holder=B, lease_s=30) == []  # A's lease still runs
    later = utc_now() + timedelta(seconds=31)
    [taken] = store.notifications.claim(holder=B, lease_s=30, now=later)

    assert (taken.id, taken.holder, taken.attempts) == (new_id, B, 2)
    with pytest.raises(InvalidTransition):
        store.notifications.mark_sent(new_id, holder=A)  # too late: B has it
    assert store.notifications.mark_sent(new_id, holder=B).status is N.SENT


def test_a_failed_delivery_waits_its_backoff_then_is_given_up(store: RunStore) -> None:
    [new_id] = store.notifications.queue([_message()], actor="run:17")
    store.notifications.claim(holder=A, lease_s=60)
    retry_at = utc_now() + timedelta(minutes=5)

    waiting = store.notifications.delivery_failed(
        new_id, holder=A, error="SMTP server smtp:25 not reachable", retry_at=retry_at
    )
    assert (waiting.status, waiting.holder, waiting.not_before) == (N.PENDING, None, retry_at)
    assert store.notifications.claim(holder=B, lease_s=60) == []
    assert len(store.notifications.claim(holder=B, lease_s=60, due_only=False)) == 1

    given_up = store.notifications.delivery_failed(new_id, holder=B, error="still", retry_at=None)
    assert (given_up.status, given_up.last_error) == (N.FAILED, "still")
    assert store.notifications.claim(holder=A, lease_s=60, due_only=False) == []


def test_held_messages_go_out_in_one_digest_once(store: RunStore) -> None:
    due = utc_now() + timedelta(hours=8)
    ids = store.notifications.queue(
        [_message(f"run:{n}", held_until=due) for n in (1, 2)], actor="run"
    )
    assert store.notifications.claim(holder=A, lease_s=60, due_only=False) == []
    assert store.notifications.due_held(now=utc_now()) == []
    held = store.notifications.due_held(now=due)
    digest = _message("digest:1", event="digest", dedupe_key="giessen:digest:1:mail")

    digest_id = store.notifications.digest([m.id for m in held], digest, actor=A)
    again = store.notifications.digest(ids, digest, actor=B)

    assert digest_id is not None and again is None
    for message_id in ids:
        carried = store.notifications.get(message_id)
        assert (carried.status, carried.digest_id) == (N.DIGESTED, digest_id)
    [claimed] = store.notifications.claim(holder=A, lease_s=60)
    assert claimed.id == digest_id


def test_cases_past_their_deadline_are_found_until_notified(store: RunStore) -> None:
    queues = store.queues
    queues.create_queue("giessen", "gewerbe", actor="user:alice")
    late = utc_now() - timedelta(hours=1)
    item = queues.add_item("giessen", "gewerbe", "GA-1", {}, deadline=late, actor="user:alice")
    queues.add_item("giessen", "gewerbe", "GA-2", {}, actor="user:alice")  # no deadline

    [found] = store.notifications.breached_items(["giessen"], now=utc_now())
    assert (found.id, found.reference, found.queue, found.status) == (
        item.item.id,
        "GA-1",
        "gewerbe",
        "new",
    )
    assert store.notifications.breached_items(["marburg"], now=utc_now()) == []

    store.notifications.queue(
        [_message(f"item:{found.id}", event="sla_breach", dedupe_key="sla")], actor="leader"
    )
    assert store.notifications.breached_items(["giessen"], now=utc_now()) == []
