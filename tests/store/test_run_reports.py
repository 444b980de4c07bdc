"""What a run report reads besides the run (``store.run_reports``), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from orchestrator.errors import RunNotFound
from orchestrator.store import RunRequest, RunStore

ROBOT = "robot-1#5be0"


def _start(store: RunStore, new_request: Callable[..., RunRequest], **overrides: object) -> int:
    return store.start_standalone(
        new_request(**overrides), holder=ROBOT, lease_s=60, pool_limits={}
    )


def test_the_cases_a_run_took_each_once_with_the_status_it_left(
    store: RunStore, new_request: Callable[..., RunRequest]
) -> None:
    run_id = _start(store, new_request)
    other_run = _start(store, new_request, dedupe_key="other")
    queues = store.queues
    queues.create_queue("giessen", "gewerbe", max_attempts=2, retry_delay_s=0, actor="admin")
    for reference in ("GA-1", "GA-2", "GA-3"):
        queues.add_item("giessen", "gewerbe", reference, {"n": reference}, actor="admin")
    first = queues.claim_item("giessen", "gewerbe", holder=ROBOT, lease_s=60, run_id=run_id)
    assert first is not None
    queues.fail_item(first.id, holder=ROBOT, kind="application", message="weg", run_id=run_id)
    again = queues.claim_item("giessen", "gewerbe", holder=ROBOT, lease_s=60, run_id=run_id)
    assert again is not None and again.id == first.id  # retried at once, in the same run
    queues.complete_item(again.id, holder=ROBOT, output={"aktenzeichen": "AZ-1"}, run_id=run_id)
    second = queues.claim_item("giessen", "gewerbe", holder=ROBOT, lease_s=60, run_id=run_id)
    assert second is not None
    queues.fail_item(second.id, holder=ROBOT, kind="business", message="fehlt", run_id=run_id)
    third = queues.claim_item("giessen", "gewerbe", holder=ROBOT, lease_s=60, run_id=other_run)
    assert third is not None

    cases = store.run_reports.cases(run_id)

    assert [(c.item.reference, c.outcome, c.attempt) for c in cases] == [
        ("GA-1", "done", 2),
        ("GA-2", "needs_human", 1),
    ]
    assert cases[0].item.output == {"aktenzeichen": "AZ-1"}
    assert cases[1].item.last_error == "fehlt"
    assert [c.item.reference for c in store.run_reports.cases(other_run)] == ["GA-3"]


def test_who_started_a_run_and_what_its_bot_added(
    store: RunStore, new_request: Callable[..., RunRequest]
) -> None:
    run_id = _start(store, new_request, actor="schedule:giessen/morgens")
    queues = store.queues
    queues.create_queue("giessen", "gewerbe", actor="admin")
    queues.create_queue("giessen", "andere", actor="admin")
    queues.add_item("giessen", "gewerbe", "GA-1", {}, actor="bot:gewerbe-abgleich")
    queues.add_item("giessen", "gewerbe", "GA-2", {}, actor="bot:gewerbe-abgleich")
    queues.add_item("giessen", "andere", "X-1", {}, actor="user:alice")
    gewerbe = queues.get_queue("giessen", "gewerbe").id
    now = datetime.now(UTC)

    reads = store.run_reports
    assert reads.actor(run_id) == "schedule:giessen/morgens"
    since, until = now - timedelta(minutes=1), now + timedelta(minutes=1)
    assert reads.added("giessen", "bot:gewerbe-abgleich", since, until) == {gewerbe: 2}
    assert reads.added("giessen", "bot:gewerbe-abgleich", until, until) == {}
    assert reads.added("marburg", "bot:gewerbe-abgleich", since, until) == {}
    with pytest.raises(RunNotFound):
        reads.actor(run_id + 100)


def test_approvals_pending_in_a_queue_and_in_the_queue_it_routes_to(store: RunStore) -> None:
    queues = store.queues
    queues.create_queue("giessen", "eakte", approval_required=True, actor="admin")
    queues.create_queue("giessen", "gewerbe", next_on_success="eakte", actor="admin")
    queues.add_item("giessen", "eakte", "GA-9", {}, actor="admin")
    ids = {queue.name: queue.id for queue in queues.list_queues("giessen")}

    reads = store.run_reports
    assert reads.next_queues([ids["gewerbe"]]) == {ids["eakte"]}
    assert reads.next_queues([ids["eakte"]]) == set()
    pending = reads.awaiting_approval([ids["eakte"]])
    assert [(item.reference, item.status.value) for item in pending] == [
        ("GA-9", "awaiting_approval")
    ]
    assert reads.awaiting_approval([ids["gewerbe"]]) == []
    assert [queue.name for queue in reads.queues(ids.values())] == ["eakte", "gewerbe"]
