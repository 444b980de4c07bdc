"""Work queues in the store: every case once, none lost, and people asked where people decide.

Each test runs on SQLite and on PostgreSQL (``store`` of ``conftest.py``).
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from orchestrator.errors import (
    ApprovalRefused,
    InvalidTransition,
    ItemNotFound,
    PayloadInvalid,
    QueueExists,
    QueueNotFound,
)
from orchestrator.states import WorkItemStatus
from orchestrator.store import RunStore
from orchestrator.store.tables import utc_now

W = WorkItemStatus
ALICE, BOB, ROBOT = "user:alice", "user:bob", "robot-1#5be0"
GEWERBE_SCHEMA = {
    "type": "object",
    "required": ["betrieb"],
    "properties": {
        "betrieb": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string", "maxLength": 40}},
        }
    },
}


def _case(name: str = "Müller Bau GmbH") -> dict[str, Any]:
    return {"betrieb": {"name": name}}


def _audit(store: RunStore, action: str) -> list[dict[str, Any]]:
    return [entry for entry in store.export_audit() if entry["action"] == action]


def test_a_known_reference_is_a_no_op_that_names_the_item_also_after_a_purge(
    store: RunStore,
) -> None:
    queues = store.queues
    queues.create_queue("giessen", "gewerbe", retention_days=30, actor=ALICE)
    first = queues.add_item("giessen", "gewerbe", "GA-2026-0815", _case(), actor=ALICE)

    again = queues.add_item("giessen", "gewerbe", "GA-2026-0815", _case("Anders"), actor=BOB)

    assert first.created and not again.created
    assert again.item.id == first.item.id and again.item.payload == _case()
    item = queues.claim_item("giessen", "gewerbe", holder=ROBOT, lease_s=60)
    assert item is not None
    queues.complete_item(item.id, holder=ROBOT, output={"eintrag": "GR-1"})

    purged = queues.purge("giessen", now=utc_now() + timedelta(days=31))

    assert purged == [item.id]
    after = queues.add_item("giessen", "gewerbe", "GA-2026-0815", _case(), actor=ALICE)
    assert not after.created and after.item.id == item.id
    assert after.item.payload is None and after.item.output is None
    assert after.item.status is W.DONE and after.item.purged_at is not None
    assert [i.reference for i in queues.list_items("giessen", "gewerbe")] == ["GA-2026-0815"]
    # Doing the case again is an explicit retry, impossible without its data.
    with pytest.raises(PayloadInvalid, match="purged"):
        queues.retry_item(item.id, actor=ALICE)


def test_a_payload_must_fit_the_queue_schema_and_the_error_names_the_field(
    store: RunStore,
) -> None:
    store.queues.create_queue("giessen", "gewerbe", schema=GEWERBE_SCHEMA, actor=ALICE)

    with pytest.raises(PayloadInvalid, match=r"'GA-1'.*'gewerbe'.*'betrieb'.*'name'.*required"):
        store.queues.add_item("giessen", "gewerbe", "GA-1", {"betrieb": {}}, actor=ALICE)
    with pytest.raises(PayloadInvalid, match=r"at 'betrieb/name'.*too long"):
        store.queues.add_item("giessen", "gewerbe", "GA-2", _case("x" * 41), actor=ALICE)
    with pytest.raises(PayloadInvalid, match="no valid JSON Schema"):
        store.queues.create_queue("giessen", "kaputt", schema={"type": 7}, actor=ALICE)

    assert store.queues.get_queue("giessen", "gewerbe").counts["new"] == 0


def test_the_deadline_defaults_to_the_queue_sla_after_creation(store: RunStore) -> None:
    store.queues.create_queue("giessen", "gewerbe", sla_s=3600, actor=ALICE)
    given = utc_now() + timedelta(days=2)

    item = store.queues.add_item("giessen", "gewerbe", "GA-1", _case(), actor=ALICE).item
    other = store.queues.add_item(
        "giessen", "gewerbe", "GA-2", _case(), deadline=given, actor=ALICE
    ).item

    assert item.deadline == item.created_at + timedelta(hours=1)
    assert other.deadline == given


def test_a_queue_name_is_taken_once_per_tenant_unless_updated(store: RunStore) -> None:
    queues = store.queues
    queues.create_queue("giessen", "gewerbe", actor=ALICE)
    queues.create_queue("marburg", "gewerbe", max_attempts=5, actor=BOB)

    with pytest.raises(QueueExists, match="'gewerbe'"):
        queues.create_queue("giessen", "gewerbe", actor=BOB)
    changed = queues.create_queue("giessen", "gewerbe", max_attempts=7, actor=BOB, update=True)

    assert changed.max_attempts == 7 and changed.created_by == ALICE
    assert queues.get_queue("marburg", "gewerbe").max_attempts == 5
    assert [q.name for q in queues.list_queues("giessen")] == ["gewerbe"]
    assert _audit(store, "queue updated")[0]["data"]["changes"] == {"max_attempts": [3, 7]}
    with pytest.raises(QueueNotFound):
        queues.get_queue("wetzlar", "gewerbe")
    with pytest.raises(QueueNotFound, match="'eakte'"):
        queues.create_queue("giessen", "x", next_on_success="eakte", actor=ALICE)


def test_claims_take_the_highest_priority_then_the_oldest_and_skip_postponed_items(
    store: RunStore,
) -> None:
    queues = store.queues
    queues.create_queue("giessen", "gewerbe", actor=ALICE)
    now = utc_now()
    for reference, priority in (("A", 0), ("B", 5), ("C", 0), ("D", 5)):
        queues.add_item("giessen", "gewerbe", reference, _case(), priority=priority, actor=ALICE)
    later = now + timedelta(hours=1)
    queues.add_item(
        "giessen", "gewerbe", "P", _case(), priority=9, postpone_until=later, actor=ALICE
    )

    order = []
    while (item := queues.claim_item("giessen", "gewerbe", holder=ROBOT, lease_s=60)) is not None:
        assert item.status is W.IN_PROGRESS and item.attempts == 1 and item.holder == ROBOT
        order.append(item.reference)

    assert order == ["B", "D", "A", "C"]
    postponed = queues.claim_item("giessen", "gewerbe", holder=ROBOT, lease_s=60, now=later)
    assert postponed is not None and postponed.reference == "P"
    assert queues.get_queue("giessen", "gewerbe").counts["in_progress"] == 5


def test_robots_claiming_at_once_never_get_the_same_item(store: RunStore) -> None:
    queues = store.queues
    queues.create_queue("giessen", "gewerbe", actor=ALICE)
    for n in range(30):
        queues.add_item("giessen", "gewerbe", f"GA-{n}", _case(), actor=ALICE)
    taken: dict[str, list[str]] = {"robot-a": [], "robot-b": [], "robot-c": []}
    start = threading.Barrier(len(taken))

    def work(holder: str) -> None:
        start.wait()
        while item := queues.claim_item("giessen", "gewerbe", holder=holder, lease_s=60):
            taken[holder].append(item.reference)
            queues.complete_item(item.id, holder=holder, output={"by": holder})

    threads = [threading.Thread(target=work, args=(holder,)) for holder in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    every = [reference for references in taken.values() for reference in references]
    assert sorted(every) == sorted(f"GA-{n}" for n in range(30))  # each exactly once
    assert queues.get_queue("giessen", "gewerbe").counts["done"] == 30


def test_a_business_exception_goes_to_a_person_and_is_not_retried(store: RunStore) -> None:
    queues = store.queues
    queues.create_queue("giessen", "gewerbe", max_attempts=3, actor=ALICE)
    queues.add_item("giessen", "gewerbe", "GA-7", _case("Café €"), actor=ALICE)
    item = queues.claim_item("giessen", "gewerbe", holder=ROBOT, lease_s=60, run_id=41)
    assert item is not None
    message = "Das Gewerberegister lehnt den Firmennamen ab: „€“ ist nicht erlaubt. Bitte prüfen."

    failed = queues.fail_item(item.id, holder=ROBOT, kind="business", message=message, run_id=41)

    assert failed.status is W.NEEDS_HUMAN
    assert (failed.last_error_kind, failed.last_error) == ("business", message)
    assert queues.claim_item("giessen", "gewerbe", holder=ROBOT, lease_s=60) is None
    assert [i.id for i in queues.list_items("giessen", "gewerbe", status="needs_human")] == [
        item.id
    ]
    assert [(r.run_id, r.attempt, r.outcome) for r in queues.get_item(item.id).runs] == [
        (41, 1, "needs_human")
    ]
    # The clerk fixed the data and gives it back to the robots.
    back = queues.resolve_item(item.id, action="retry", comment="Name korrigiert", actor=BOB)
    assert back.status is W.NEW and back.attempts == 0 and back.last_error is None
    entry = _audit(store, "item new")[-1]
    assert (entry["actor"], entry["data"]["reason"], entry["data"]["from"]) == (
        BOB,
        "Name korrigiert",
        "needs_human",
    )


def test_an_application_exception_is_retried_with_backoff_then_fails_with_evidence(
    store: RunStore,
) -> None:
    queues = store.queues
    queues.create_queue("giessen", "manuell", actor=ALICE)
    queues.create_queue(
        "giessen",
        "gewerbe",
        max_attempts=3,
        retry_delay_s=10,
        backoff=3,
        next_on_failure="manuell",
        actor=ALICE,
    )
    queues.add_item("giessen", "gewerbe", "GA-9", _case(), actor=ALICE)
    now = utc_now()
    delays = []
    for attempt in (1, 2, 3):
        later = now + timedelta(hours=attempt)
        item = queues.claim_item("giessen", "gewerbe", holder=ROBOT, lease_s=60, now=later)
        assert item is not None and item.attempts == attempt
        ended = queues.fail_item(
            item.id,
            holder=ROBOT,
            kind="application",
            message=f"Zeitüberschreitung beim Register (Versuch {attempt})",
            evidence=[f"runs/{attempt}/screenshot.png"],
        )
        if ended.status is W.RETRYING:
            assert ended.not_before is not None
            delays.append((ended.not_before - ended.updated_at).total_seconds())
            # Not due before its backoff ran out.
            assert queues.claim_item("giessen", "gewerbe", holder=ROBOT, lease_s=60) is None

    assert delays == [10, 30]
    assert ended.status is W.FAILED and ended.attempts == 3
    assert ended.evidence == ["runs/3/screenshot.png"]
    assert ended.last_error == "Zeitüberschreitung beim Register (Versuch 3)"
    routed = queues.list_items("giessen", "manuell")
    assert [(i.reference, i.payload) for i in routed] == [("GA-9", _case())]
    # `bots queue retry`: the same item, under its reference, with fresh attempts.
    again = queues.retry_item(ended.id, actor=BOB)
    assert (again.id, again.status, again.attempts) == (ended.id, W.NEW, 0)


def test_an_item_whose_lease_ran_out_is_taken_again_and_never_done_by_its_lost_robot(
    store: RunStore,
) -> None:
    queues = store.queues
    queues.create_queue("giessen", "gewerbe", actor=ALICE)
    queues.add_item("giessen", "gewerbe", "GA-3", _case(), actor=ALICE)
    item = queues.claim_item("giessen", "gewerbe", holder=ROBOT, lease_s=30, run_id=7)
    assert item is not None
    assert queues.renew_items(ROBOT, 30) == {item.id}
    assert queues.reap_items() == []  # the lease still runs

    reaped = queues.reap_items(now=utc_now() + timedelta(seconds=31))

    assert reaped == [(item.id, W.RETRYING)]
    again = queues.claim_item("giessen", "gewerbe", holder="robot-2#77", lease_s=30, run_id=8)
    assert again is not None and (again.id, again.attempts) == (item.id, 2)
    with pytest.raises(InvalidTransition, match="robot-2#77"):
        queues.complete_item(item.id, holder=ROBOT, output={})
    assert queues.renew_items(ROBOT, 30) == set()
    done = queues.complete_item(item.id, holder="robot-2#77", output={"eintrag": "GR-2"})
    assert done.status is W.DONE
    runs = [(r.run_id, r.attempt, r.outcome) for r in queues.get_item(item.id).runs]
    assert runs == [(7, 1, "lease_expired"), (8, 2, "done")]
    assert _audit(store, "item retrying")[0]["actor"] == "system:lease-expiry"


def test_a_done_item_output_arrives_in_the_next_queue_in_the_same_transaction(
    store: RunStore,
) -> None:
    queues = store.queues
    queues.create_queue("giessen", "eakte", schema={"required": ["eintrag"]}, actor=ALICE)
    queues.create_queue("giessen", "gewerbe", next_on_success="eakte", actor=ALICE)
    for reference in ("GA-1", "GA-2"):
        queues.add_item("giessen", "gewerbe", reference, _case(), actor=ALICE)
    first = queues.claim_item("giessen", "gewerbe", holder=ROBOT, lease_s=60)
    second = queues.claim_item("giessen", "gewerbe", holder=ROBOT, lease_s=60)
    assert first is not None and second is not None

    queues.complete_item(first.id, holder=ROBOT, output={"eintrag": "GR-1"})
    # An output the next queue refuses undoes the whole completion.
    with pytest.raises(PayloadInvalid, match="'eakte'"):
        queues.complete_item(second.id, holder=ROBOT, output={"falsch": True})

    routed = queues.list_items("giessen", "eakte")
    assert [(i.reference, i.payload, i.created_by) for i in routed] == [
        ("GA-1", {"eintrag": "GR-1"}, ROBOT)
    ]
    assert queues.get_item(second.id).status is W.IN_PROGRESS
    source = _audit(store, "item new")[-1]["data"]["source"]
    assert source == {"queue": "gewerbe", "item": first.id, "reason": "done"}


def test_purge_deletes_payloads_past_retention_only_and_keeps_the_audit_chain(
    store: RunStore,
) -> None:
    queues = store.queues
    queues.create_queue("giessen", "gewerbe", retention_days=10, actor=ALICE)
    for reference in ("alt", "offen", "person"):
        queues.add_item("giessen", "gewerbe", reference, _case(), actor=ALICE)
    old = queues.claim_item("giessen", "gewerbe", holder=ROBOT, lease_s=60)
    person = queues.claim_item("giessen", "gewerbe", holder=ROBOT, lease_s=60)
    assert old is not None and person is not None
    queues.complete_item(old.id, holder=ROBOT, output={"eintrag": "GR-1"})
    queues.fail_item(person.id, holder=ROBOT, kind="business", message="Rechtsform unbekannt")
    later = utc_now() + timedelta(days=11)

    assert queues.purge(now=later, dry_run=True) == [old.id]
    assert queues.get_item(old.id).payload == _case()
    assert queues.purge(now=utc_now()) == []  # nothing past its retention yet
    assert queues.purge("marburg", now=later) == []
    assert queues.purge("giessen", now=later) == [old.id]
    assert queues.purge("giessen", now=later) == []

    kept = {item.reference: item for item in queues.list_items("giessen", "gewerbe")}
    assert (kept["alt"].payload, kept["alt"].output, kept["alt"].status) == (None, None, W.DONE)
    assert kept["offen"].payload == _case() and kept["person"].payload == _case()
    entry = _audit(store, "queue purged")[0]
    assert (entry["tenant"], entry["data"]["items"]) == ("giessen", [old.id])
    check = store.verify_audit()
    assert check.ok, check.problem


def test_moves_the_item_machine_does_not_allow_are_refused(store: RunStore) -> None:
    queues = store.queues
    queues.create_queue("giessen", "gewerbe", actor=ALICE)
    added = queues.add_item("giessen", "gewerbe", "GA-1", _case(), actor=ALICE).item

    with pytest.raises(InvalidTransition, match=r"work item \d+ is new"):
        queues.complete_item(added.id, holder=ROBOT, output={})
    with pytest.raises(InvalidTransition, match="is new"):
        queues.retry_item(added.id, actor=ALICE)
    queues.resolve_item(added.id, action="abandon", comment="Doppelt erfasst", actor=ALICE)
    with pytest.raises(InvalidTransition, match="abandoned is final"):
        queues.resolve_item(added.id, action="done", comment="doch", actor=ALICE)
    with pytest.raises(ItemNotFound):
        queues.get_item(added.id, tenant="marburg")
    with pytest.raises(ItemNotFound):
        queues.retry_item(added.id + 100, actor=ALICE)

    assert queues.get_item(added.id).status is W.ABANDONED
    assert store.verify_audit().ok


def test_an_approval_item_waits_for_a_second_person(store: RunStore) -> None:
    queues = store.queues
    queues.create_queue("giessen", "zahlungen", approval_required=True, actor=ALICE)
    item = queues.add_item("giessen", "zahlungen", "R-1", {"betrag": 120}, actor=ALICE).item

    assert item.status is W.AWAITING_APPROVAL
    assert queues.claim_item("giessen", "zahlungen", holder=ROBOT, lease_s=60) is None
    with pytest.raises(ApprovalRefused, match="second person"):
        queues.approve_item(item.id, actor=ALICE)
    approved = queues.approve_item(item.id, actor=BOB)

    assert (approved.status, approved.approved_by) == (W.NEW, BOB)
    claimed = queues.claim_item("giessen", "zahlungen", holder=ROBOT, lease_s=60)
    assert claimed is not None and claimed.id == item.id
    with pytest.raises(InvalidTransition):
        queues.approve_item(item.id, actor="user:carla")
