"""Runs move only along the state machine, and every move leaves exactly one audit entry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from orchestrator.errors import InvalidTransition, RunNotFound
from orchestrator.results import (
    TERMINAL,
    TRANSITIONS,
    ArtifactKind,
    ArtifactRecord,
    RunStatus,
    StepRecord,
    StepStatus,
)
from orchestrator.store import RunRequest, RunStore

MakeRequest = Callable[..., RunRequest]
ROBOT = "robot-1"

# A legal way from queued to every status.
PATH_TO = {
    RunStatus.QUEUED: [],
    RunStatus.CLAIMED: [RunStatus.CLAIMED],
    RunStatus.RUNNING: [RunStatus.CLAIMED, RunStatus.RUNNING],
    **{
        status: [RunStatus.CLAIMED, RunStatus.RUNNING, status]
        for status in TERMINAL
        if status is not RunStatus.CANCELLED
    },
    RunStatus.CANCELLED: [RunStatus.CANCELLED],
}


def run_in(store: RunStore, new_request: MakeRequest, status: RunStatus, **fields: Any) -> int:
    run_id = store.enqueue(new_request(**fields))
    for step in PATH_TO[status]:
        columns = {"holder": ROBOT} if step is RunStatus.CLAIMED else {}
        store.transition(run_id, step, actor="test", **columns)
    return run_id


def audit_entries(store: RunStore, run_id: int | None = None) -> list[dict[str, Any]]:
    return [e for e in store.export_audit() if run_id is None or e["run_id"] == run_id]


def test_every_move_the_state_machine_allows_works_and_every_other_is_refused(
    store: RunStore, new_request: MakeRequest
) -> None:
    for current in RunStatus:
        for to in RunStatus:
            run_id = run_in(store, new_request, current)
            before = len(audit_entries(store))
            if to in TRANSITIONS.get(current, frozenset()):
                store.transition(run_id, to, actor="test")
                assert store.get_run(run_id).status is to
                assert len(audit_entries(store)) == before + 1
            else:
                with pytest.raises(InvalidTransition) as refused:
                    store.transition(run_id, to, actor="test")
                assert (refused.value.current, refused.value.requested) == (current, to)
                assert store.get_run(run_id).status is current, "nothing written on refusal"
                assert len(audit_entries(store)) == before


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
        store.transition(run_id, RunStatus.CANCELLED, actor="test", expect=RunStatus.QUEUED)
    store.transition(run_id, RunStatus.CANCELLED, actor="test", expect=RunStatus.CLAIMED)

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
