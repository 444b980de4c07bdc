"""Figures over a period for Fachämter and Open Data: the store's ``reporting`` repository.

Every figure is an aggregate of a tenant's runs that *started* in a period ``[start, end)``,
of some or all of its bots, and of the cases (work items) those runs worked on. A case
belongs to a bot through the bot's runs that took it (``work_item_runs``); its outcome per
run is the status that run left it in, so a case that was retried counts once for each run
that worked on it. Days are calendar days in the installation's time zone. Nothing is
counted per person: no user, no actor, no creator appears in any figure (staff council
rule); a run started from the command line counts for no machine. Example::

    scope = ReportScope("giessen", start, end, bots=frozenset({"gewerbe-uebertragung"}))
    figures = store.reporting.period(scope)
    figures.success_rate               # 0.93: succeeded runs / ended runs
    figures.cases_done_by_bot()        # {"gewerbe-uebertragung": 1712}

Each figure reads one range of an index of migration 0007; the whole period is read in one
transaction, so the figures agree with each other. The records returned are those of
:mod:`.records`.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    text,
)

from orchestrator.states import WorkItemStatus
from orchestrator.store.reporting.records import (
    CASE_OUTCOMES,
    FAILED_RUNS,
    OPEN_CASES,
    OTHER,
    DayCount,
    PeriodFigures,
    Reason,
    ReportScope,
    RobotBusy,
    robot_of,
)
from orchestrator.store.robots.tables import ROBOTS
from orchestrator.store.runs.tables import RUNS
from orchestrator.store.tables import utc_now
from orchestrator.store.transactions import Transactions
from orchestrator.store.work.tables import QUEUES, WORK_ITEM_RUNS, WORK_ITEMS

W = WorkItemStatus


class ReportingRepository:
    """Aggregates over a period for reports (``store.reporting``); read-only."""

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    def has_tenant(self, tenant: str) -> bool:
        """Whether ``tenant`` has any run or work queue here."""
        runs = select(RUNS.c.id).where(RUNS.c.tenant == tenant).limit(1)
        queues = select(QUEUES.c.id).where(QUEUES.c.tenant == tenant).limit(1)
        with self._tx.read() as connection:
            return any(connection.execute(query).first() for query in (runs, queues))

    def has_runs(self, tenant: str, bot_id: str) -> bool:
        """Whether bot ``bot_id`` has any run of ``tenant`` here."""
        query = select(RUNS.c.id).where(RUNS.c.tenant == tenant, RUNS.c.bot_id == bot_id)
        with self._tx.read() as connection:
            return connection.execute(query.limit(1)).first() is not None

    def period(self, scope: ReportScope, *, now: datetime | None = None) -> PeriodFigures:
        """Every figure of ``scope`` in one read transaction, as of ``now`` (default: now)."""
        as_of = now or utc_now()
        with self._tx.read() as connection:
            if connection.dialect.name == "postgresql":
                # The planner's estimates of these aggregates (a year of runs) start the JIT
                # compiler, which then takes longer than the queries themselves.
                connection.execute(text("SET LOCAL jit = off"))
            sql = _Sql(connection, scope)
            waiting, oldest = sql.waiting()
            done_late, open_overdue = sql.sla_breaches(as_of)
            runs, cases = sql.per_day()
            return PeriodFigures(
                scope=scope,
                as_of=as_of,
                runs=runs,
                cases=cases,
                robots=sql.robots(),
                reasons=sql.reasons(),
                waiting=waiting,
                oldest_waiting_since=oldest,
                done_late=done_late,
                open_overdue=open_overdue,
            )


class _Sql:
    """The statements of one scope on one connection."""

    def __init__(self, connection: Connection, scope: ReportScope) -> None:
        self.connection = connection
        self.scope = scope
        self.sqlite = connection.dialect.name == "sqlite"

    def in_scope(self) -> list[ColumnElement[bool]]:
        """The conditions on ``runs`` of the scope (index ``ix_runs_tenant_started_at``)."""
        scope = self.scope
        conditions = [
            RUNS.c.tenant == scope.tenant,
            RUNS.c.started_at >= scope.start,
            RUNS.c.started_at < scope.end,
        ]
        if scope.bots is not None:
            conditions.append(RUNS.c.bot_id.in_(sorted(scope.bots)))
        return conditions

    def day(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        """The local calendar day of the time ``column``."""
        if not self.sqlite:
            return func.date(func.timezone(self.scope.zone, column))
        # SQLite knows no time zones: add the zone's offset, which changes at known instants.
        segments = offsets(self.scope)
        expression: ColumnElement[Any] = func.date(column, _modifier(segments[-1][1]))
        for until, minutes in reversed(segments[:-1]):
            earlier = func.date(column, _modifier(minutes))
            expression = case((column < until, earlier), else_=expression)
        return expression

    def duration_s(self) -> ColumnElement[Any]:
        started, finished = RUNS.c.started_at, RUNS.c.finished_at
        if self.sqlite:
            return (func.julianday(finished) - func.julianday(started)) * 86400.0
        return func.extract("epoch", finished - started)

    def per_day(self) -> tuple[tuple[DayCount, ...], tuple[DayCount, ...]]:
        """Runs per day, bot and status, and their cases per day, bot and outcome.

        One row per run first, with its cases counted by outcome, then summed per day: the
        join of runs and cases is never sorted as a whole (a year of a large city is over a
        million rows), and the day is computed once per run.
        """
        names = [_name(outcome) for outcome in CASE_OUTCOMES]
        per_run = (
            select(RUNS.c.started_at, RUNS.c.bot_id, RUNS.c.status, *self.case_counts())
            .select_from(self.runs_with_cases())
            .where(*self.in_scope())
            .subquery()
        )
        day = self.day(per_run.c.started_at)
        sums = [func.sum(per_run.c[name]) for name in [*names, "cases"]]
        query = select(day, per_run.c.bot_id, per_run.c.status, func.count(), *sums).group_by(
            day, per_run.c.bot_id, per_run.c.status
        )
        runs: list[DayCount] = []
        cases: Counter[tuple[date, str, str]] = Counter()
        for day_value, bot, status, count, *counted in self.connection.execute(query):
            on = _as_date(day_value)
            runs.append(DayCount(on, bot, status, int(count)))
            *by_outcome, total = (int(value or 0) for value in counted)
            counts = [*by_outcome, total - sum(by_outcome)]
            for name, number in zip([*names, OTHER], counts, strict=True):
                cases[on, bot, name] += number
        worked = (DayCount(*key, count) for key, count in cases.items() if count)
        return tuple(sorted(runs)), tuple(sorted(worked))

    def case_counts(self) -> list[ColumnElement[Any]]:
        """A run's cases counted per outcome of :data:`CASE_OUTCOMES`, and ``cases`` in all.

        SQLite: a correlated count per outcome, each one seek into ``ix_work_item_runs_run_id``
        (cheaper there than a join that groups a million rows); PostgreSQL: one lateral scan
        per run with filtered counts (:meth:`runs_with_cases`).
        """
        if not self.sqlite:
            lateral = self.lateral_counts
            return [lateral.c[_name(outcome)] for outcome in CASE_OUTCOMES] + [lateral.c.cases]
        items = WORK_ITEM_RUNS.c

        def count(*conditions: ColumnElement[bool]) -> Any:
            return select(func.count()).where(items.run_id == RUNS.c.id, *conditions)

        return [
            count(items.outcome == _name(outcome)).scalar_subquery().label(_name(outcome))
            for outcome in CASE_OUTCOMES
        ] + [count().scalar_subquery().label("cases")]

    def runs_with_cases(self) -> Any:
        """``runs``, on PostgreSQL with the lateral counts of each run's cases."""
        if self.sqlite:
            return RUNS
        return RUNS.join(self.lateral_counts, literal(True))

    @functools.cached_property
    def lateral_counts(self) -> Any:
        """One run's cases counted per outcome (PostgreSQL, ``LATERAL``)."""
        items = WORK_ITEM_RUNS.c
        return (
            select(
                *[
                    func.count().filter(items.outcome == _name(outcome)).label(_name(outcome))
                    for outcome in CASE_OUTCOMES
                ],
                func.count().label("cases"),
            )
            .where(items.run_id == RUNS.c.id)
            .lateral("case_counts")
        )

    def robots(self) -> tuple[RobotBusy, ...]:
        busy = func.sum(self.duration_s())
        query = (
            select(RUNS.c.holder, func.count(), busy)
            .where(*self.in_scope(), RUNS.c.holder.is_not(None))
            .group_by(RUNS.c.holder)
        )
        runs: Counter[str] = Counter()
        seconds: defaultdict[str, float] = defaultdict(float)
        for holder, count, total in self.connection.execute(query):
            runs[robot_of(holder)] += count
            seconds[robot_of(holder)] += float(total or 0.0)
        slots = dict(
            self.connection.execute(
                select(ROBOTS.c.name, ROBOTS.c.concurrency).where(ROBOTS.c.name.in_(sorted(runs)))
            ).all()
        )
        return tuple(
            RobotBusy(name, runs[name], seconds[name], int(slots.get(name, 1)))
            for name in sorted(runs)
        )

    def reasons(self) -> tuple[Reason, ...]:
        failed = [status.value for status in FAILED_RUNS]
        of_runs = (
            select(literal("run"), RUNS.c.error, func.count())
            .where(*self.in_scope(), RUNS.c.status.in_(failed), RUNS.c.error.is_not(None))
            .group_by(RUNS.c.error)
        )
        of_cases = (
            select(WORK_ITEM_RUNS.c.outcome, WORK_ITEMS.c.last_error, func.count())
            .select_from(
                RUNS.join(WORK_ITEM_RUNS, WORK_ITEM_RUNS.c.run_id == RUNS.c.id).join(
                    WORK_ITEMS, WORK_ITEMS.c.id == WORK_ITEM_RUNS.c.item_id
                )
            )
            .where(
                *self.in_scope(),
                WORK_ITEM_RUNS.c.outcome.in_([W.NEEDS_HUMAN.value, W.FAILED.value]),
                WORK_ITEMS.c.last_error.is_not(None),
            )
            .group_by(WORK_ITEM_RUNS.c.outcome, WORK_ITEMS.c.last_error)
        )
        found = [
            Reason(source, text, int(count))
            for query in (of_runs, of_cases)
            for source, text, count in self.connection.execute(query)
        ]
        return tuple(sorted(found, key=lambda reason: (-reason.count, reason.text)))

    def worked_by_scope(self) -> ColumnElement[bool]:
        """An item was worked on by a run of one of the scope's bots (true for all bots)."""
        if self.scope.bots is None:
            return literal(True)
        runs_of_bots = (
            select(WORK_ITEM_RUNS.c.id)
            .join(RUNS, RUNS.c.id == WORK_ITEM_RUNS.c.run_id)
            .where(
                WORK_ITEM_RUNS.c.item_id == WORK_ITEMS.c.id,
                RUNS.c.bot_id.in_(sorted(self.scope.bots)),
            )
        )
        return exists(runs_of_bots)

    def waiting(self) -> tuple[int, datetime | None]:
        query = select(func.count(), func.min(WORK_ITEMS.c.updated_at)).where(
            WORK_ITEMS.c.tenant == self.scope.tenant,
            WORK_ITEMS.c.status == W.NEEDS_HUMAN.value,
            self.worked_by_scope(),
        )
        count, oldest = self.connection.execute(query).one()
        return int(count), _as_utc(oldest)

    def sla_breaches(self, now: datetime) -> tuple[int, int]:
        items = WORK_ITEMS.c
        late = and_(items.status == W.DONE.value, items.updated_at > items.deadline)
        overdue = and_(items.status.in_([s.value for s in OPEN_CASES]), items.deadline < now)
        query = select(func.count(case((late, 1))), func.count(case((overdue, 1)))).where(
            items.tenant == self.scope.tenant,
            items.deadline >= self.scope.start,
            items.deadline < self.scope.end,
            or_(late, overdue),
            self.worked_by_scope(),
        )
        done_late, open_overdue = self.connection.execute(query).one()
        return int(done_late), int(open_overdue)


def offsets(scope: ReportScope) -> list[tuple[datetime, int]]:
    """The zone's UTC offsets in the scope: ``(until, minutes)`` pairs in order, the last
    one's ``until`` being the scope's end. Offsets change on the hour; looking every hour
    finds each change."""
    zone = ZoneInfo(scope.zone)
    segments: list[tuple[datetime, int]] = []
    at = scope.start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    current = _minutes(scope.start, zone)
    while at < scope.end:
        at += timedelta(hours=1)
        minutes = _minutes(min(at, scope.end), zone)
        if minutes != current:
            segments.append((at, current))
            current = minutes
    segments.append((scope.end, current))
    return segments


def _minutes(instant: datetime, zone: ZoneInfo) -> int:
    offset = instant.astimezone(zone).utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def _name(outcome: str) -> str:
    return str(outcome.value if isinstance(outcome, WorkItemStatus) else outcome)


def _modifier(minutes: int) -> str:
    return f"{minutes:+d} minutes"


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
