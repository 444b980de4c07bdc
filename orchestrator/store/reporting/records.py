"""Figures over a period as callers get them back: :class:`ReportScope` (what a report
covers), :class:`PeriodFigures` (what the store counted) and their parts. Built by the
repository :mod:`.repository`. Example::

    scope = ReportScope.of_days("giessen", date(2026, 1, 1), date(2026, 4, 1))
    figures = store.reporting.period(scope)
    figures.success_rate, figures.runs_by_bot()["gewerbe-uebertragung"]["failed"]
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from orchestrator.states import RunStatus, WorkItemStatus

W = WorkItemStatus
#: Runs that ended on their own: the base of the success rate (cancelled ones are left out:
#: a person stopped them).
ENDED = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.LOST)
#: Runs whose error is a failure reason.
FAILED_RUNS = (RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.LOST)
#: Cases not finished: robots or people still have to act on them (late past a deadline).
OPEN_CASES = (W.NEW, W.IN_PROGRESS, W.RETRYING, W.NEEDS_HUMAN, W.AWAITING_APPROVAL, W.FAILED)
#: How runs leave cases (``work_item_runs.outcome``), each counted on its own.
CASE_OUTCOMES = (W.DONE, W.NEEDS_HUMAN, W.FAILED, W.RETRYING, "lease_expired")
#: Every other outcome: a run still working on the case, or an approval it waits for.
OTHER = "other"
#: The robot of runs started from the command line: a machine that may be a person's.
COMMAND_LINE = ""


@dataclass(frozen=True)
class ReportScope:
    """What a report covers: runs of ``tenant`` started in ``[start, end)`` (aware times),
    of the bots ``bots`` (None: all; empty: none), with days counted in ``zone``.

    Raises:
        ValueError: a time is naive, or ``start`` is not before ``end``.
    """

    tenant: str
    start: datetime
    end: datetime
    bots: frozenset[str] | None = None
    zone: str = "Europe/Berlin"

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a report's period needs aware datetimes")
        if self.start >= self.end:
            raise ValueError(f"a report's period must end after it starts ({self.start})")

    @classmethod
    def of_days(
        cls,
        tenant: str,
        first: date,
        end: date,
        *,
        bots: frozenset[str] | None = None,
        zone: str = "Europe/Berlin",
    ) -> ReportScope:
        """The calendar days ``first`` up to (not including) ``end`` in ``zone``."""
        local = ZoneInfo(zone)
        start = datetime.combine(first, datetime.min.time(), local)
        stop = datetime.combine(end, datetime.min.time(), local)
        return cls(tenant, start.astimezone(UTC), stop.astimezone(UTC), bots, zone)


@dataclass(frozen=True, order=True)
class DayCount:
    """How many runs (or cases) of ``bot_id`` ended in ``outcome`` on ``day``."""

    day: date
    bot_id: str
    outcome: str
    count: int


@dataclass(frozen=True)
class RobotBusy:
    """The time a robot spent on the scope's runs; ``robot`` is :data:`COMMAND_LINE` for
    runs started from the command line; ``slots`` its concurrency (1 if not registered)."""

    robot: str
    runs: int
    busy_s: float
    slots: int


@dataclass(frozen=True)
class Reason:
    """A failure reason as stored (already redacted): a run's error (``source`` ``run``), or
    the last error of cases that a run left ``needs_human`` or ``failed``."""

    source: Literal["run", "needs_human", "failed"]
    text: str
    count: int


@dataclass(frozen=True)
class PeriodFigures:
    """All figures of one scope, read together at ``as_of``.

    ``waiting`` and ``oldest_waiting_since`` are the cases needing a person *now* (not only
    those of the period); ``done_late`` and ``open_overdue`` the cases whose deadline fell
    in the period and that were done after it, or are still open past it.
    """

    scope: ReportScope
    as_of: datetime
    runs: tuple[DayCount, ...]
    cases: tuple[DayCount, ...]
    robots: tuple[RobotBusy, ...]
    reasons: tuple[Reason, ...]
    waiting: int
    oldest_waiting_since: datetime | None
    done_late: int
    open_overdue: int

    def runs_by_bot(self) -> dict[str, Counter[str]]:
        """Bot -> outcome -> runs."""
        return _by_bot(self.runs)

    def cases_by_bot(self) -> dict[str, Counter[str]]:
        """Bot -> outcome -> cases (one per run that worked on a case)."""
        return _by_bot(self.cases)

    def cases_done_by_bot(self) -> dict[str, int]:
        """Bot -> cases its runs finished (``done``): the base of staff time saved."""
        return {bot: counts[W.DONE.value] for bot, counts in self.cases_by_bot().items()}

    @property
    def success_rate(self) -> float | None:
        """Succeeded runs / runs that ended on their own; None without such runs."""
        outcomes: Counter[str] = Counter()
        for row in self.runs:
            outcomes[row.outcome] += row.count
        return success_rate(outcomes)


def success_rate(outcomes: Mapping[str, int]) -> float | None:
    """Succeeded / ended (:data:`ENDED`) of run outcome counts; None if none ended."""
    ended = sum(outcomes.get(status.value, 0) for status in ENDED)
    return outcomes.get(RunStatus.SUCCEEDED.value, 0) / ended if ended else None


def _by_bot(rows: tuple[DayCount, ...]) -> dict[str, Counter[str]]:
    result: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        result[row.bot_id][row.outcome] += row.count
    return dict(result)


def robot_of(holder: str) -> str:
    """The robot name of a run's holder: ``robot-1#5be0f3a1`` -> ``robot-1``; a command-line
    holder (``cli:HOST:PID``) -> :data:`COMMAND_LINE` (the host may be a person's PC)."""
    return COMMAND_LINE if holder.startswith("cli:") else holder.split("#", 1)[0]
