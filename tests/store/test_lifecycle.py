"""Runs move only along the state machine, and every move leaves exactly one audit entry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from orchestrator.errors import InvalidTransition, RunNotFound
from orchestrator.results import (
    TRANSITIONS,
    ArtifactKind,
    ArtifactRecord,
    RunStatus,
    StepRecord,
    StepStatus,
)
from orchestrator.store import RunRequest, RunStore
from orchestrator.store.runs.moves import RUN_STATUS

MakeRequest = Callable[..., RunRequest]
ROBOT = "robot-1"
LONG_LEASE = 600.0


def run_in(store: RunStore, new_request: MakeRequest, status: RunStatus, **fields: Any) -> int:
    """A new run in ``status``, brought there the way robots, ``bots run`` and users do.

    A claimed run is claimed as the oldest queued one: make it before queueing others.
    """
    request = new_request(**fields)
    if status is RunStatus.QUEUED:
        return store.enqueue(request)
    if status is RunStatus.CANCELLED:
        run_id = store.enqueue(request)
        store.cancel(run_id, tenant=None, actor="user:bob")
        return run_id
    if status is RunStatus.CLAIMED:
        run_id = store.enqueue(request)
        claim = {"tenants": {request.tenant}, "labels": request.labels, "limit": 1}
        claimed = store.claim(holder=ROBOT, **claim, lease_s=LONG_LEASE, pool_limits={})
        assert [c.id for c in claimed] == [run_id]
        return run_id
    if status is RunStatus.LOST:  # its process died at once: nobody renews the lease
        run_id = store.start_standalone(request, holder=ROBOT, lease_s=-1, pool_limits={})
        store.reap_expired(tenants=[request.tenant])
        assert store.get_run(run_id).status is RunStatus.LOST
        return run_id
    run_id = store.start_standalone(request, holder=ROBOT, lease_s=LONG_LEASE, pool_limits={})
    if status is not RunStatus.RUNNING:
        store.finish_run(run_id, status, holder=ROBOT)
    return run_id


def move(store: RunStore, run_id: int, to: RunStatus, **checks: Any) -> None:
    """Move the run through the one guarded move, as every status change of the store does."""
    with store.transactions.change() as tx:
        tx.move_one(RUN_STATUS, run_id, to, actor="test", **checks)


def audit_entries(store: RunStore, run_id: int | None = None) -> list[dict[str, Any]]:
    return [e for e in store.export_audit() if run_id is None or e["run_id"] == run_id]


# Claimed runs first: each is claimed as the oldest queued run.
SETUP_ORDER = [RunStatus.CLAIMED, *(s for s in RunStatus if s is not RunStatus.CLAIMED)]


def test_every_move_the_state_machine_allows_works_and_every_other_is_refused(
    store: RunStore, new_request: MakeRequest
) -> None:
    runs = {
        (current, to): run_in(store, new_request, current)
        for current in SETUP_ORDER
        for to in RunStatus
    }
    for (current, to), run_id in runs.items():
        before = len(audit_entries(store))
        if to in TRANSITIONS.get(current, frozenset()):
            move(store, run_id, to)
            assert store.get_run(run_id).status is to
            assert len(audit_entries(store)) == before + 1
        else:
            with pytest.raises(InvalidTransition) as refused:
                move(store, run_id, to)
            assert (refused.value.current, refused.value.requested) == (current, to)
            assert store.get_run(run_id).status is current, "nothing written on refusal"
            assert len(audit_entries(store)) == before


ILLEGAL_MOVES: dict[str, tuple[RunStatus, Callable[[RunStore, int], object], str]] = {
    "start a queued run": (
        RunStatus.QUEUED,
        lambda store, run_id: store.mark_running(run_id, holder=ROBOT),
        r"run \d+ is queued; it cannot become running \(from queued: claimed, cancelled\)",
    ),
    "finish a claimed run": (
        RunStatus.CLAIMED,
        lambda store, run_id: store.finish_run(run_id, RunStatus.SUCCEEDED, holder=ROBOT),
        r"is claimed; it cannot become succeeded \(from claimed: queued, running, cancel",
    ),
    "cancel a succeeded run": (
        RunStatus.SUCCEEDED,
        lambda store, run_id: store.cancel(run_id, tenant="giessen", actor="user:bob"),
        r"is succeeded; it cannot become cancelled \(succeeded is final\)",
    ),
    "hand back a queued run": (
        RunStatus.QUEUED,
        lambda store, run_id: store.hand_back(run_id, holder=ROBOT),
        r"is queued; it cannot become queued",
    ),
}


@pytest.mark.parametrize("illegal", ILLEGAL_MOVES.values(), ids=ILLEGAL_MOVES.keys())
def test_an_illegal_move_is_refused_and_changes_neither_the_run_nor_the_audit_trail(
    store: RunStore,
    new_request: MakeRequest,
    illegal: tuple[RunStatus, Callable[[RunStore, int], object], str],
) -> None:
    status, attempt, message = illegal
    run_id = run_in(store, new_request, status)
    run_before, trail_before = store.get_run(run_id), list(store.export_audit())

    with pytest.raises(InvalidTransition, match=message):
        attempt(store, run_id)

    assert store.get_run(run_id) == run_before
    assert list(store.export_audit()) == trail_before
    assert store.verify_audit().ok


def test_each_move_is_audited_with_the_bot_its_parameters_and_both_statuses(
    store: RunStore, new_request: MakeRequest
) -> None:
    run_id = store.enqueue(new_request(actor="schedule:giessen/morgens", trigger="schedule"))
    claimed = store.claim(
        holder=ROBOT, tenants={"giessen"}, labels=set(), limit=1, lease_s=30, pool_limits={}
    )
    store.mark_running(run_id, holder=ROBOT, bot_digest="abc123")
    store.finish_run(run_id, RunStatus.FAILED, error="Element fehlt", holder=ROBOT)

    assert [c.id for c in claimed] == [run_id]
    entries = audit_entries(store, run_id)
    assert [e["action"] for e in entries] == ["queued", "claimed", "running", "failed"]
    assert [e["actor"] for e in entries] == ["schedule:giessen/morgens", ROBOT, ROBOT, ROBOT]
    assert entries[0]["data"]["trigger"] == "schedule"
    queued, _, running, failed = (e["data"] for e in entries)
    assert queued["parameters"] == {"ort": "Gießen", "anzahl": 3}
    assert (queued["bot"], queued["version"]) == ("gewerbe-abgleich", "1.2.0")
    assert (running["from"], running["to"], running["holder"]) == ("claimed", "running", ROBOT)
    assert running["digest"] == "abc123"
    assert (failed["from"], failed["to"], failed["error"]) == ("running", "failed", "Element fehlt")
    assert {e["tenant"] for e in entries} == {"giessen"}


def test_a_move_whose_audit_entry_cannot_be_written_does_not_happen(
    store: RunStore, new_request: MakeRequest, sql: Callable[..., list[Any]], database_url: str
) -> None:
    run_id = run_in(store, new_request, RunStatus.RUNNING)
    if database_url.startswith("sqlite"):
        sql(
            "CREATE TRIGGER audit_full BEFORE INSERT ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    else:
        sql(
            "CREATE FUNCTION audit_full() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'disk full'; END $$"
        )
        sql(
            "CREATE TRIGGER audit_full BEFORE INSERT ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_full()"
        )

    with pytest.raises(Exception, match="disk full"):
        store.finish_run(run_id, RunStatus.SUCCEEDED)

    assert store.get_run(run_id).status is RunStatus.RUNNING


def test_expect_refuses_a_run_that_moved_on_meanwhile(
    store: RunStore, new_request: MakeRequest
) -> None:
    run_id = run_in(store, new_request, RunStatus.CLAIMED)

    with pytest.raises(InvalidTransition):
        move(store, run_id, RunStatus.CANCELLED, expect=RunStatus.QUEUED)
    move(store, run_id, RunStatus.CANCELLED, expect=RunStatus.CLAIMED)

    assert store.get_run(run_id).status is RunStatus.CANCELLED


def test_only_the_holder_may_start_finish_or_hand_back_its_run(
    store: RunStore, new_request: MakeRequest
) -> None:
    run_id = run_in(store, new_request, RunStatus.CLAIMED)

    with pytest.raises(InvalidTransition, match="robot-1"):
        store.mark_running(run_id, holder="robot-2")
    store.mark_running(run_id, holder=ROBOT)
    with pytest.raises(InvalidTransition, match="robot-1"):
        store.finish_run(run_id, RunStatus.SUCCEEDED, holder="robot-2")
    with pytest.raises(InvalidTransition):
        store.hand_back(run_id, holder="robot-2")
    assert store.get_run(run_id).status is RunStatus.RUNNING

    store.finish_run(run_id, RunStatus.SUCCEEDED, holder=ROBOT)
    assert store.get_run(run_id).status is RunStatus.SUCCEEDED


def test_a_handed_back_run_is_queued_again_and_claimable(
    store: RunStore, new_request: MakeRequest
) -> None:
    run_id = store.enqueue(new_request())
    store.claim(holder=ROBOT, tenants={"giessen"}, labels=(), limit=1, lease_s=30, pool_limits={})

    store.hand_back(run_id, holder=ROBOT)

    assert store.get_run(run_id).status is RunStatus.QUEUED
    again = store.claim(
        holder="robot-2", tenants={"giessen"}, labels=(), limit=1, lease_s=30, pool_limits={}
    )
    assert [c.id for c in again] == [run_id]


@pytest.mark.parametrize("status", [RunStatus.QUEUED, RunStatus.CLAIMED])
def test_cancel_ends_a_run_not_yet_started_at_once(
    store: RunStore, new_request: MakeRequest, status: RunStatus
) -> None:
    run_id = run_in(store, new_request, status)

    assert store.cancel(run_id, tenant="giessen", actor="user:bob") is RunStatus.CANCELLED

    run = store.get_run(run_id)
    assert run.status is RunStatus.CANCELLED and run.finished_at is not None
    assert audit_entries(store, run_id)[-1]["actor"] == "user:bob"
    with pytest.raises(InvalidTransition):
        store.mark_running(run_id, holder=ROBOT)  # the robot that claimed it must not start it


def test_cancel_of_a_running_run_is_passed_to_its_holder_on_renew(
    store: RunStore, new_request: MakeRequest
) -> None:
    run_id = run_in(store, new_request, RunStatus.RUNNING)
    other = run_in(store, new_request, RunStatus.RUNNING)
    assert store.renew(ROBOT, 30) == set()

    assert store.cancel(run_id, tenant="giessen", actor="user:bob") is RunStatus.RUNNING

    assert store.get_run(run_id).status is RunStatus.RUNNING
    assert store.renew(ROBOT, 30) == {run_id}
    assert audit_entries(store, run_id)[-1]["action"] == "cancel requested"
    store.finish_run(run_id, RunStatus.CANCELLED, holder=ROBOT)
    assert store.renew(ROBOT, 30) == set()
    assert store.get_run(other).status is RunStatus.RUNNING


def test_cancel_of_an_ended_run_is_refused(store: RunStore, new_request: MakeRequest) -> None:
    run_id = run_in(store, new_request, RunStatus.SUCCEEDED)

    with pytest.raises(InvalidTransition, match="succeeded"):
        store.cancel(run_id, tenant="giessen", actor="user:bob")


def test_a_handed_back_run_whose_cancellation_was_requested_is_cancelled(
    store: RunStore, new_request: MakeRequest
) -> None:
    run_id = run_in(store, new_request, RunStatus.RUNNING)
    store.cancel(run_id, tenant="giessen", actor="user:bob")

    store.hand_back(run_id, holder=ROBOT)

    assert store.get_run(run_id).status is RunStatus.CANCELLED


def test_retry_queues_a_new_run_like_the_ended_one(
    store: RunStore, new_request: MakeRequest
) -> None:
    failed = run_in(store, new_request, RunStatus.FAILED, labels=("browser",), retry_safe=True)

    new_id = store.retry(failed, tenant="giessen", actor="user:bob")

    assert new_id != failed
    run = store.get_run(new_id)
    assert (run.status, run.trigger, run.bot, run.parameters) == (
        RunStatus.QUEUED,
        "retry",
        "gewerbe-abgleich",
        {"ort": "Gießen", "anzahl": 3},
    )
    queued = audit_entries(store, new_id)[0]
    assert (queued["actor"], queued["data"]["retry_of"], queued["data"]["attempt"]) == (
        "user:bob",
        failed,
        2,
    )
    # It needs the same robot labels as the original.
    claim = {"holder": ROBOT, "tenants": {"giessen"}, "limit": 1, "lease_s": 30}
    assert store.claim(**claim, labels=(), pool_limits={}) == []
    assert [c.attempt for c in store.claim(**claim, labels={"browser"}, pool_limits={})] == [2]


def test_retry_of_a_run_not_yet_ended_is_refused(store: RunStore, new_request: MakeRequest) -> None:
    run_id = run_in(store, new_request, RunStatus.RUNNING)

    with pytest.raises(InvalidTransition, match="running"):
        store.retry(run_id, tenant="giessen", actor="user:bob")


def test_one_tenant_cannot_see_or_act_on_anothers_runs(
    store: RunStore, new_request: MakeRequest
) -> None:
    marburg_run = store.enqueue(new_request(tenant="marburg"))
    ended = run_in(store, new_request, RunStatus.FAILED, tenant="marburg")

    assert store.list_runs(tenant="giessen") == []
    assert {r.id for r in store.list_runs(tenant="marburg")} == {marburg_run, ended}
    with pytest.raises(RunNotFound, match=f"no run with id {marburg_run}"):
        store.get_run(marburg_run, tenant="giessen")
    with pytest.raises(RunNotFound):
        store.cancel(marburg_run, tenant="giessen", actor="user:bob")
    with pytest.raises(RunNotFound):
        store.retry(ended, tenant="giessen", actor="user:bob")
    assert store.get_run(marburg_run).status is RunStatus.QUEUED
    assert len(store.list_runs(tenant="marburg")) == 2


def test_list_and_count_runs_by_status(store: RunStore, new_request: MakeRequest) -> None:
    queued = [store.enqueue(new_request()) for _ in range(3)]
    run_in(store, new_request, RunStatus.RUNNING)
    run_in(store, new_request, RunStatus.RUNNING, tenant="marburg")

    listed = store.list_runs(tenant="giessen", status=RunStatus.QUEUED)

    assert [r.id for r in listed] == queued[::-1]
    assert store.count_runs(tenant="giessen") == {"queued": 3, "running": 1}
    assert store.count_runs() == {"queued": 3, "running": 2}
    assert store.count_runs(tenant="giessen", status=RunStatus.RUNNING) == {"running": 1}


def test_the_outcome_its_steps_artifacts_and_retry_are_written_together_or_not_at_all(
    store: RunStore, new_request: MakeRequest
) -> None:
    step = StepRecord("steps[0]", "call", None, StepStatus.FAILED, datetime.now(UTC), 5, "kaputt")
    log = ArtifactRecord(ArtifactKind.LOG, "/data/runs/1/run.log.jsonl", "a" * 64, 10)
    run_id = run_in(store, new_request, RunStatus.RUNNING)

    with pytest.raises(InvalidTransition):  # another robot holds it: nothing is written
        store.finish_run(
            run_id,
            RunStatus.FAILED,
            holder="robot-2",
            steps=[step],
            artifacts=[log],
            retry=new_request(retry_of=run_id, attempt=2, dedupe_key=f"retry:{run_id}"),
        )
    assert store.get_run(run_id).steps == [] and store.retry_of(run_id) is None

    retry_id = store.finish_run(
        run_id,
        RunStatus.FAILED,
        holder=ROBOT,
        steps=[step],
        artifacts=[log],
        retry=new_request(retry_of=run_id, attempt=2, dedupe_key=f"retry:{run_id}"),
    )
    ended = store.get_run(run_id)
    assert (ended.status, [s.path for s in ended.steps], len(ended.artifacts)) == (
        RunStatus.FAILED,
        ["steps[0]"],
        1,
    )
    assert retry_id is not None and store.retry_of(run_id) == retry_id
    assert store.get_run(retry_id).status is RunStatus.QUEUED
