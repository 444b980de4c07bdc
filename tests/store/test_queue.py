"""Robots get the right runs from the queue, limits hold, and vanished holders are noticed."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime, timedelta

import pytest

from orchestrator.errors import BotBusy, InvalidTransition
from orchestrator.results import RunStatus
from orchestrator.store import RunRequest, RunStore

MakeRequest = Callable[..., RunRequest]
SHORT_LEASE = 0.5


def claim_ids(
    store: RunStore,
    *,
    holder: str = "robot-1",
    tenants: Collection[str] = ("giessen",),
    labels: Collection[str] = (),
    limit: int = 10,
    lease_s: float = 30,
    pool_limits: Mapping[str, Mapping[str, int]] | None = None,
) -> list[int]:
    claimed = store.claim(
        holder=holder,
        tenants=tenants,
        labels=labels,
        limit=limit,
        lease_s=lease_s,
        pool_limits=pool_limits or {},
    )
    return [run.id for run in claimed]


def test_enqueue_with_a_taken_dedupe_key_returns_the_first_run(
    store: RunStore, new_request: MakeRequest
) -> None:
    key = "schedule:giessen/morgens@2026-11-02T07:00:00+01:00"
    first = store.enqueue(new_request(dedupe_key=key))

    again = store.enqueue(new_request(dedupe_key=key, actor="orchestrator-2"))

    assert again == first
    assert len(store.list_runs()) == 1
    assert [e["action"] for e in store.export_audit()] == ["queued"]
    assert store.enqueue(new_request(dedupe_key=key + "x")) != first


def test_claim_takes_the_oldest_runs_up_to_the_limit_with_what_a_robot_needs(
    store: RunStore, new_request: MakeRequest
) -> None:
    ids = [store.enqueue(new_request(parameters={"n": n}, timeout_s=60.0)) for n in range(5)]

    claimed = store.claim(
        holder="robot-1", tenants=["giessen"], labels=(), limit=3, lease_s=30, pool_limits={}
    )

    assert [c.id for c in claimed] == ids[:3]
    assert [c.parameters for c in claimed] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert {(c.tenant, c.bot_id, c.attempt, c.timeout_s, c.trigger) for c in claimed} == {
        ("giessen", "gewerbe-abgleich", 1, 60.0, "cli")
    }
    assert {r.status for r in store.list_runs() if r.id in ids[:3]} == {RunStatus.CLAIMED}
    assert claim_ids(store) == ids[3:]
    assert claim_ids(store) == []


def test_claim_only_takes_runs_of_the_robots_tenants(
    store: RunStore, new_request: MakeRequest
) -> None:
    giessen = store.enqueue(new_request(tenant="giessen"))
    marburg = store.enqueue(new_request(tenant="marburg"))
    store.enqueue(new_request(tenant="wetzlar"))

    assert claim_ids(store, tenants=["marburg"]) == [marburg]
    assert claim_ids(store, tenants=["giessen", "marburg"]) == [giessen]
    assert claim_ids(store, tenants=[]) == []


def test_claim_only_takes_runs_whose_labels_the_robot_has(
    store: RunStore, new_request: MakeRequest
) -> None:
    plain = store.enqueue(new_request())
    browser = store.enqueue(new_request(labels=("browser",)))
    desktop = store.enqueue(new_request(labels=("browser", "windows")))

    assert claim_ids(store, labels=["windows"]) == [plain]
    assert claim_ids(store, labels=["browser", "linux"]) == [browser]
    assert claim_ids(store, labels=["windows", "browser", "linux"]) == [desktop]


def test_claim_leaves_runs_whose_not_before_lies_ahead(
    store: RunStore, new_request: MakeRequest
) -> None:
    now = datetime.now(UTC)
    later = store.enqueue(new_request(not_before=now + timedelta(hours=1)))
    due = store.enqueue(new_request(not_before=now - timedelta(seconds=1)))

    assert claim_ids(store) == [due]
    assert store.get_run(later).status is RunStatus.QUEUED


def test_claim_respects_max_parallel_per_tenant_and_bot(
    store: RunStore, new_request: MakeRequest
) -> None:
    first, second, third = (store.enqueue(new_request(max_parallel=2)) for _ in range(3))
    other_bot = store.enqueue(new_request(bot_id="other", max_parallel=1))
    other_city = store.enqueue(new_request(tenant="marburg", max_parallel=2))

    # Two of the bot in one call, the third waits; other bots and cities are not affected.
    both = ["giessen", "marburg"]
    assert claim_ids(store, tenants=both) == [first, second, other_bot, other_city]
    assert claim_ids(store, holder="robot-2") == []

    store.mark_running(first, holder="robot-1")
    store.finish_run(first, RunStatus.SUCCEEDED, holder="robot-1")
    assert claim_ids(store, holder="robot-2") == [third]


def test_claim_respects_pool_capacities_counting_runs_claimed_in_the_same_call(
    store: RunStore, new_request: MakeRequest
) -> None:
    civento = [store.enqueue(new_request(bot_id=f"bot-{n}", pools=("civento",))) for n in range(3)]
    unlimited = store.enqueue(new_request(bot_id="bot-x", pools=("egal",)))
    limits = {"giessen": {"civento": 2}}

    assert claim_ids(store, pool_limits=limits) == [*civento[:2], unlimited]
    assert claim_ids(store, holder="robot-2", pool_limits=limits) == []

    store.hand_back(civento[0], holder="robot-1")  # frees a slot, and the run goes back
    assert claim_ids(store, holder="robot-2", pool_limits=limits) == [civento[0]]


def test_a_pool_limit_of_one_tenant_does_not_limit_another(
    store: RunStore, new_request: MakeRequest
) -> None:
    ids = [store.enqueue(new_request(tenant="marburg", pools=("civento",))) for _ in range(2)]

    assert claim_ids(store, tenants=["marburg"], pool_limits={"giessen": {"civento": 1}}) == ids


def test_start_standalone_runs_at_once_holding_a_lease(
    store: RunStore, new_request: MakeRequest
) -> None:
    run_id = store.start_standalone(
        new_request(max_parallel=1), holder="cli:rpa-01:4711", lease_s=30, pool_limits={}
    )

    run = store.get_run(run_id)
    assert run.status is RunStatus.RUNNING and run.started_at is not None
    actions = [e["action"] for e in store.export_audit()]
    assert actions == ["queued", "claimed", "running"]
    assert store.reap_expired() == []


def test_start_standalone_is_refused_while_another_run_of_the_bot_is_active(
    store: RunStore, new_request: MakeRequest
) -> None:
    holding = store.start_standalone(
        new_request(max_parallel=1), holder="cli:rpa-01:1", lease_s=30, pool_limits={}
    )

    says = rf"gewerbe-abgleich.*run {holding} \(running since .*, holder cli:rpa-01:1\)"
    with pytest.raises(BotBusy, match=says):
        store.start_standalone(
            new_request(max_parallel=1), holder="cli:rpa-01:2", lease_s=30, pool_limits={}
        )

    assert [r.id for r in store.list_runs()] == [holding], "nothing written when refused"
    store.finish_run(holding, RunStatus.SUCCEEDED, holder="cli:rpa-01:1")
    assert store.start_standalone(
        new_request(max_parallel=1), holder="cli:rpa-01:2", lease_s=30, pool_limits={}
    )


def test_start_standalone_is_refused_while_a_pool_is_full(
    store: RunStore, new_request: MakeRequest
) -> None:
    request = new_request(bot_id="a", pools=("civento",))
    claimed = store.enqueue(request)
    claim_ids(store)

    with pytest.raises(BotBusy, match=rf"pool 'civento'.*full \(1 of 1\).*run {claimed}"):
        store.start_standalone(
            new_request(bot_id="b", pools=("civento",)),
            holder="cli:rpa-01:2",
            lease_s=30,
            pool_limits={"civento": 1},
        )
    store.start_standalone(
        new_request(bot_id="b", pools=("civento",)),
        holder="cli:rpa-01:2",
        lease_s=30,
        pool_limits={"civento": 2},
    )


def test_start_standalone_succeeds_once_the_holders_lease_ran_out(
    store: RunStore, new_request: MakeRequest
) -> None:
    vanished = store.start_standalone(
        new_request(max_parallel=1), holder="cli:rpa-01:1", lease_s=SHORT_LEASE, pool_limits={}
    )
    time.sleep(SHORT_LEASE + 0.1)  # its process died: nobody renews the lease

    started = store.start_standalone(
        new_request(max_parallel=1), holder="cli:rpa-01:2", lease_s=30, pool_limits={}
    )

    assert store.get_run(vanished).status is RunStatus.LOST
    assert store.get_run(started).status is RunStatus.RUNNING


def test_renew_keeps_a_holders_runs_from_being_reaped(
    store: RunStore, new_request: MakeRequest
) -> None:
    mine = [store.enqueue(new_request()) for _ in range(2)]
    claim_ids(store, lease_s=SHORT_LEASE)
    theirs = store.enqueue(new_request())
    claim_ids(store, holder="robot-2", lease_s=SHORT_LEASE)
    store.mark_running(mine[0], holder="robot-1")

    store.renew("robot-1", 30)  # at once: a loaded machine must not let it run out first
    time.sleep(SHORT_LEASE + 0.1)

    assert store.reap_expired() == [(theirs, RunStatus.LOST)]
    assert [store.get_run(i).status for i in mine] == [RunStatus.RUNNING, RunStatus.CLAIMED]


def test_reap_requeues_retry_safe_runs_and_marks_others_lost(
    store: RunStore, new_request: MakeRequest
) -> None:
    safe = store.enqueue(new_request(retry_safe=True))
    unsafe = store.enqueue(new_request())
    marburg = store.enqueue(new_request(tenant="marburg"))
    claim_ids(store, tenants=["giessen", "marburg"], lease_s=SHORT_LEASE)
    store.mark_running(unsafe, holder="robot-1")
    time.sleep(SHORT_LEASE + 0.1)

    reaped = store.reap_expired(tenants=["giessen"])

    assert reaped == [(safe, RunStatus.QUEUED), (unsafe, RunStatus.LOST)]
    assert store.get_run(marburg).status is RunStatus.CLAIMED  # another tenant's reaper's job
    lost = store.get_run(unsafe)
    assert lost.status is RunStatus.LOST and lost.finished_at is not None
    assert lost.error == "lease expired (holder robot-1); robot loss 1 of at most 3"
    entries = {e["run_id"]: e for e in store.export_audit() if e["actor"].startswith("system")}
    assert entries[safe]["data"]["reason"] == (
        "lease expired (holder robot-1); robot loss 1 of at most 3"
    )
    assert entries[unsafe]["action"] == "lost"
    again = store.claim(
        holder="robot-2", tenants=["giessen"], labels=(), limit=5, lease_s=30, pool_limits={}
    )
    # A robot loss is not an attempt: the bot's retries stay untouched.
    assert [(c.id, c.attempt, c.robot_losses) for c in again] == [(safe, 1, 1)]
    assert store.reap_expired() == [(marburg, RunStatus.LOST)]


def test_robot_losses_do_not_use_up_retries_and_are_capped(
    store: RunStore, new_request: MakeRequest
) -> None:
    run_id = store.enqueue(new_request(retry_safe=True, max_attempts=2))
    outcomes = []
    for robot in range(4):
        claim_ids(store, holder=f"robot-{robot}", lease_s=SHORT_LEASE)
        store.mark_running(run_id, holder=f"robot-{robot}")
        time.sleep(SHORT_LEASE + 0.1)
        outcomes += store.reap_expired(max_losses=3)
        record = store.get_run(run_id, details=False)
        assert (record.attempt, record.retries_left) == (1, 1)

    assert outcomes == [(run_id, RunStatus.QUEUED)] * 3 + [(run_id, RunStatus.LOST)]
    lost = store.get_run(run_id, details=False)
    assert lost.robot_losses == 4
    assert lost.error is not None and lost.error.startswith("robot lost 4 times")
    reasons = [e["data"].get("reason") for e in store.export_audit() if e["run_id"] == run_id]
    assert reasons[-1] == lost.error


def test_a_run_shows_its_budgets_holder_and_lease(
    store: RunStore, new_request: MakeRequest
) -> None:
    later = datetime.now(UTC) + timedelta(minutes=5)
    queued = store.enqueue(new_request(attempt=2, max_attempts=3, retry_of=7, not_before=later))
    running = store.enqueue(new_request(bot_id="other", max_attempts=1))
    claim_ids(store)
    store.mark_running(running, holder="robot-1")

    waiting = store.get_run(queued, details=False).to_json()
    held = store.get_run(running).to_json(with_details=True)

    assert (waiting["attempt"], waiting["max_attempts"], waiting["retries_left"]) == (2, 3, 1)
    assert (waiting["retry_of"], waiting["robot_losses"], waiting["holder"]) == (7, 0, None)
    assert datetime.fromisoformat(waiting["not_before"]) == later
    assert (held["holder"], held["retries_left"]) == ("robot-1", 0)
    assert datetime.fromisoformat(held["lease_expires_at"]) > datetime.now(UTC)


def test_a_finish_after_the_run_was_reaped_is_refused(
    store: RunStore, new_request: MakeRequest
) -> None:
    run_id = store.enqueue(new_request())
    claim_ids(store, lease_s=SHORT_LEASE)
    store.mark_running(run_id, holder="robot-1")
    time.sleep(SHORT_LEASE + 0.1)
    store.reap_expired()

    with pytest.raises(InvalidTransition, match="lost"):
        store.finish_run(run_id, RunStatus.SUCCEEDED, holder="robot-1")
    assert store.get_run(run_id).status is RunStatus.LOST
