"""Figures over a period (``store.reporting``), on SQLite and PostgreSQL.

One scenario around the switch to summer time (Europe/Berlin, 29 March 2026): runs of two bots
of Gießen, one of them from the command line, a run of Marburg and one after the period;
their cases done, handed to a person, retried and failed; deadlines met and missed. The
runs' times are set afterwards, as a robot's clock would have written them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update

from orchestrator.results import RunStatus
from orchestrator.store import DayCount, ReportScope, RunRequest, RunStore
from orchestrator.store.reporting.records import COMMAND_LINE, robot_of
from orchestrator.store.reporting.repository import offsets
from orchestrator.store.runs.tables import RUNS
from orchestrator.store.work.tables import WORK_ITEMS

A, B = "gewerbe-abgleich", "wohngeld"
ROBOT = "robot-1#aa"
PERIOD = ReportScope.of_days("giessen", date(2026, 3, 28), date(2026, 3, 31))


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _run(
    store: RunStore,
    new_request: Callable[..., RunRequest],
    bot: str,
    started: str,
    minutes: float,
    *,
    holder: str = ROBOT,
    tenant: str = "giessen",
) -> int:
    request = new_request(bot_id=bot, tenant=tenant)
    run_id = store.start_standalone(request, holder=holder, lease_s=60, pool_limits={})
    _times(store, run_id, _at(started), minutes)
    return run_id


def _times(store: RunStore, run_id: int, started: datetime, minutes: float) -> None:
    with store.transactions.write() as connection:
        connection.execute(
            update(RUNS)
            .where(RUNS.c.id == run_id)
            .values(started_at=started, finished_at=started + timedelta(minutes=minutes))
        )


def _finish(store: RunStore, run_id: int, status: RunStatus, error: str | None = None) -> None:
    with store.transactions.write() as connection:
        kept = connection.execute(
            RUNS.select().with_only_columns(RUNS.c.finished_at).where(RUNS.c.id == run_id)
        ).scalar_one()
    store.finish_run(run_id, status, error)
    with store.transactions.write() as connection:
        connection.execute(update(RUNS).where(RUNS.c.id == run_id).values(finished_at=kept))


def _item(store: RunStore, item_id: int, **values: object) -> None:
    with store.transactions.write() as connection:
        connection.execute(update(WORK_ITEMS).where(WORK_ITEMS.c.id == item_id).values(**values))


@pytest.fixture
def scenario(store: RunStore, new_request: Callable[..., RunRequest]) -> dict[str, int]:
    # 00:30 local time on 28 March (winter time), and on 30 March (summer time).
    first = _run(store, new_request, A, "2026-03-27T23:30:00", 30)
    second = _run(store, new_request, A, "2026-03-29T22:30:00", 15, holder="robot-1#bb")
    by_hand = _run(store, new_request, B, "2026-03-28T12:00:00", 60, holder="cli:pc-anna:4711")
    after = _run(store, new_request, A, "2026-03-30T22:30:00", 5)  # 31 March, local
    marburg = _run(store, new_request, A, "2026-03-28T09:00:00", 5, tenant="marburg")
    stopped = _run(store, new_request, A, "2026-03-29T08:00:00", 1)

    queues = store.queues
    queues.create_queue("giessen", "gewerbe", max_attempts=2, retry_delay_s=0, actor="admin")
    queues.create_queue("marburg", "gewerbe", actor="admin")
    for reference in ("GA-1", "GA-2", "GA-3", "GA-4"):
        queues.add_item("giessen", "gewerbe", reference, {"name": "Müller"}, actor="admin")
    queues.add_item("marburg", "gewerbe", "MR-1", {"name": "Yılmaz"}, actor="admin")

    def take(run_id: int, tenant: str = "giessen") -> int:
        item = queues.claim_item(tenant, "gewerbe", holder=ROBOT, lease_s=60, run_id=run_id)
        assert item is not None
        return item.id

    ga1, ga2, ga3 = take(first), take(first), take(first)
    queues.complete_item(ga1, holder=ROBOT, output={"aktenzeichen": "AZ-1"}, run_id=first)
    queues.fail_item(
        ga2, holder=ROBOT, kind="business", message="Rechtsform unbekannt", run_id=first
    )
    queues.fail_item(
        ga3, holder=ROBOT, kind="application", message="Zeitüberschreitung", run_id=first
    )
    assert take(second) == ga3
    queues.fail_item(
        ga3, holder=ROBOT, kind="application", message="Fachverfahren antwortet nicht",
        run_id=second,
    )  # fmt: skip
    ga4 = take(by_hand)
    queues.complete_item(ga4, holder=ROBOT, output={}, run_id=by_hand)
    queues.complete_item(take(marburg, "marburg"), holder=ROBOT, output={}, run_id=marburg)

    _finish(store, first, RunStatus.SUCCEEDED)
    _finish(store, second, RunStatus.FAILED, "Anmeldung fehlgeschlagen")
    _finish(store, by_hand, RunStatus.SUCCEEDED)
    _finish(store, after, RunStatus.FAILED, "nach dem Zeitraum")
    _finish(store, marburg, RunStatus.FAILED, "in Marburg")
    _finish(store, stopped, RunStatus.CANCELLED)

    # Deadlines: GA-1 done after its deadline, GA-2 and GA-3 still open past theirs, GA-4 in time.
    _item(store, ga1, deadline=_at("2026-03-28T00:00:00"), updated_at=_at("2026-03-28T10:00:00"))
    _item(store, ga2, deadline=_at("2026-03-29T12:00:00"))
    _item(store, ga3, deadline=_at("2026-03-30T00:00:00"))
    _item(store, ga4, deadline=_at("2026-03-30T12:00:00"), updated_at=_at("2026-03-28T13:00:00"))
    return {"GA-2": ga2}


def _tally(rows: tuple[DayCount, ...]) -> dict[tuple[date, str, str], int]:
    return {(row.day, row.bot_id, row.outcome): row.count for row in rows}


@pytest.mark.usefixtures("scenario")
def test_runs_and_cases_per_local_day_bot_and_outcome(store: RunStore) -> None:
    figures = store.reporting.period(PERIOD)

    assert _tally(figures.runs) == {
        (date(2026, 3, 28), A, "succeeded"): 1,
        (date(2026, 3, 28), B, "succeeded"): 1,
        (date(2026, 3, 29), A, "cancelled"): 1,
        (date(2026, 3, 30), A, "failed"): 1,
    }
    assert _tally(figures.cases) == {
        (date(2026, 3, 28), A, "done"): 1,
        (date(2026, 3, 28), A, "needs_human"): 1,
        (date(2026, 3, 28), A, "retrying"): 1,
        (date(2026, 3, 28), B, "done"): 1,
        (date(2026, 3, 30), A, "failed"): 1,
    }
    assert figures.success_rate == pytest.approx(2 / 3)  # the cancelled run does not count
    assert figures.cases_done_by_bot() == {A: 1, B: 1}


@pytest.mark.usefixtures("scenario")
def test_robots_busy_time_without_the_machine_of_a_person(store: RunStore) -> None:
    robots = {robot.robot: robot for robot in store.reporting.period(PERIOD).robots}

    assert set(robots) == {"robot-1", COMMAND_LINE}
    assert (robots["robot-1"].runs, robots["robot-1"].slots) == (3, 1)
    assert robots["robot-1"].busy_s == pytest.approx((30 + 15 + 1) * 60, abs=1)
    assert robots[COMMAND_LINE].busy_s == pytest.approx(3600, abs=1)


def test_holders_name_robots_and_hide_hosts() -> None:
    assert robot_of("robot-1#5be0f3a1") == "robot-1"
    assert robot_of("cli:pc-anna:4711") == COMMAND_LINE


@pytest.mark.usefixtures("scenario")
def test_failure_reasons_of_runs_and_cases(store: RunStore) -> None:
    reasons = {(r.source, r.text): r.count for r in store.reporting.period(PERIOD).reasons}

    assert reasons == {
        ("run", "Anmeldung fehlgeschlagen"): 1,
        ("needs_human", "Rechtsform unbekannt"): 1,
        ("failed", "Fachverfahren antwortet nicht"): 1,
    }


def test_waiting_cases_and_missed_deadlines(store: RunStore, scenario: dict[str, int]) -> None:
    figures = store.reporting.period(PERIOD)
    waiting_since = store.queues.get_item(scenario["GA-2"]).updated_at

    assert (figures.waiting, figures.oldest_waiting_since) == (1, waiting_since)
    assert (figures.done_late, figures.open_overdue) == (1, 2)


@pytest.mark.usefixtures("scenario")
def test_one_bot_only(store: RunStore) -> None:
    scope = ReportScope.of_days(
        "giessen", date(2026, 3, 28), date(2026, 3, 31), bots=frozenset({B})
    )
    figures = store.reporting.period(scope)

    assert {row.bot_id for row in figures.runs + figures.cases} == {B}
    assert (figures.waiting, figures.done_late, figures.open_overdue) == (0, 0, 0)
    assert [robot.robot for robot in figures.robots] == [COMMAND_LINE]
    assert figures.reasons == ()
    assert store.reporting.period(ReportScope.of_days(
        "giessen", date(2026, 3, 28), date(2026, 3, 31), bots=frozenset()
    )).runs == ()  # fmt: skip


@pytest.mark.usefixtures("scenario")
def test_another_tenant_sees_only_its_own(store: RunStore) -> None:
    scope = ReportScope.of_days("marburg", date(2026, 3, 28), date(2026, 3, 31))
    figures = store.reporting.period(scope)

    assert Counter(row.outcome for row in figures.runs) == {"failed": 1}
    assert [reason.text for reason in figures.reasons] == ["in Marburg"]
    assert store.reporting.has_tenant("marburg")
    assert not store.reporting.has_tenant("wetzlar")
    assert store.reporting.has_runs("marburg", A)
    assert not store.reporting.has_runs("marburg", B)


def test_an_empty_store_gives_empty_figures(store: RunStore) -> None:
    figures = store.reporting.period(PERIOD)

    assert (figures.runs, figures.cases, figures.robots, figures.reasons) == ((), (), (), ())
    assert (figures.waiting, figures.oldest_waiting_since, figures.success_rate) == (0, None, None)


def test_a_period_knows_its_utc_offsets() -> None:
    summer = datetime(2026, 3, 29, 1, tzinfo=UTC)  # 02:00 local became 03:00

    assert offsets(PERIOD) == [(summer, 60), (PERIOD.end, 120)]
    with pytest.raises(ValueError, match="end after it starts"):
        ReportScope("giessen", PERIOD.end, PERIOD.start)
