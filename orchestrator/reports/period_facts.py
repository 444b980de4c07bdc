"""Everything a period report shows, gathered from the store's figures, the bots' definitions
and the catalog: plain records, in no language yet (the template and the charts put them
into words). Nothing in them measures a person: no user, no actor, no machine of a person.

Example::

    report = gather_period_report(store, settings, "giessen", date(2026, 1, 1),
                                  date(2026, 3, 31), fachamt="Ordnungsamt")
    report.total.runs_total, report.success_rate, [line.hours_saved for line in report.bots]
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from orchestrator.errors import BotNotFound, InputError
from orchestrator.reports.catalog import CATALOG, BotProfile, bot_profiles
from orchestrator.settings import Settings
from orchestrator.store import DayCount, PeriodFigures, ReportScope, RunStore
from orchestrator.store.reporting.records import COMMAND_LINE, success_rate

#: Run statuses as the report groups them.
RUN_GROUPS: Mapping[str, tuple[str, ...]] = {
    "succeeded": ("succeeded",),
    "failed": ("failed", "timed_out", "lost"),
    "cancelled": ("cancelled",),
    "running": ("queued", "claimed", "running"),
}
#: How runs left their cases, as the report groups them.
CASE_GROUPS: Mapping[str, tuple[str, ...]] = {
    "done": ("done",),
    "needs_human": ("needs_human",),
    "failed": ("failed",),
    "retrying": ("retrying", "lease_expired"),
    "other": ("other",),
}
#: The longest period a report covers (ten years): a longer one is a typo in a date.
MAX_DAYS = 3653
#: The most failure reasons the report lists.
TOP_REASONS = 10
#: Longer failure texts are cut here.
REASON_CHARS = 240
_LONG_NUMBER = re.compile(r"\d{4,}")


@dataclass(frozen=True)
class Tally:
    """Runs and cases counted by group (:data:`RUN_GROUPS`, :data:`CASE_GROUPS`)."""

    runs: Mapping[str, int]
    cases: Mapping[str, int]

    @property
    def runs_total(self) -> int:
        return sum(self.runs.values())

    @property
    def cases_total(self) -> int:
        return sum(self.cases.values())


@dataclass(frozen=True)
class BotLine:
    """One bot's figures; ``hours_saved`` None where the bot states no minutes per case,
    ``payback_months`` None without effort or without hours gained."""

    profile: BotProfile
    runs: int
    runs_succeeded: int
    success_rate: float | None
    cases: Mapping[str, int]
    hours_saved: float | None
    hours_per_year: float | None
    payback_months: float | None


@dataclass(frozen=True)
class RobotLine:
    """A robot's share of the period: ``name`` None for runs from the command line."""

    name: str | None
    runs: int
    busy_hours: float
    utilisation: float


@dataclass(frozen=True)
class ReasonLine:
    """A failure reason, numbers of four and more digits (ids, references) as ``…``."""

    source: str
    text: str
    count: int


@dataclass(frozen=True)
class PeriodReport:
    """Everything one period report shows; ``last`` is the last day included."""

    tenant: str
    fachamt: str | None
    bot: str | None
    first: date
    last: date
    zone: str
    figures: PeriodFigures
    days: tuple[tuple[date, Tally], ...]
    months: tuple[tuple[date, Tally], ...]
    total: Tally
    bots: tuple[BotLine, ...]
    robots: tuple[RobotLine, ...]
    reasons: tuple[ReasonLine, ...]
    bots_without_minutes: tuple[str, ...]

    @property
    def success_rate(self) -> float | None:
        return self.figures.success_rate

    @property
    def hours_saved(self) -> float:
        return sum(line.hours_saved or 0.0 for line in self.bots)

    @property
    def oldest_waiting_days(self) -> int | None:
        since = self.figures.oldest_waiting_since
        return None if since is None else (self.figures.as_of - since).days


def parse_day(value: str, option: str) -> date:
    """``2026-03-31`` -> a date.

    Raises:
        InputError: not a date in ISO 8601 form; the message names ``option``.
    """
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"{option} {value!r} is no date: write it as YYYY-MM-DD, e.g. 2026-03-31"
        ) from None


def choose_bots(
    profiles: Mapping[str, BotProfile], fachamt: str | None, bot: str | None
) -> frozenset[str] | None:
    """The bots a report covers: all (None), those of ``fachamt``, or ``bot`` alone.

    Raises:
        BotNotFound: no bot of ``fachamt`` is known, or ``bot`` is not one of them.
    """
    if fachamt is None:
        return None if bot is None else frozenset({bot})
    wanted = fachamt.casefold()
    of_fachamt = {p.id for p in profiles.values() if (p.fachamt or "").casefold() == wanted}
    if not of_fachamt:
        known = sorted({p.fachamt for p in profiles.values() if p.fachamt})
        raise BotNotFound(
            f"no bot works for Fachamt {fachamt!r} (Fachämter of the known bots: "
            f"{', '.join(known) or 'none'})"
        )
    if bot is not None and bot not in of_fachamt:
        raise BotNotFound(f"bot {bot!r} does not work for Fachamt {fachamt!r}")
    return frozenset({bot}) if bot is not None else frozenset(of_fachamt)


def gather_period_report(
    store: RunStore,
    settings: Settings,
    tenant: str,
    first: date,
    last: date,
    *,
    fachamt: str | None = None,
    bot: str | None = None,
    now: datetime | None = None,
    catalog: Path = CATALOG,
) -> PeriodReport:
    """Read the figures of ``tenant`` from ``first`` to ``last`` (both included).

    Raises:
        InputError: ``last`` is before ``first``, or the period is longer than ten years.
        BotNotFound: as :func:`choose_bots`; or ``bot`` is neither in the bot directories
            nor in the tenant's runs.
    """
    if last < first:
        raise InputError(f"the period ends ({last}) before it starts ({first})")
    if (last - first).days >= MAX_DAYS:
        raise InputError(f"the period {first} to {last} is longer than ten years; choose less")
    profiles = bot_profiles(settings.bot_dirs, catalog)
    if bot is not None and bot not in profiles and not store.reporting.has_runs(tenant, bot):
        raise BotNotFound(
            f"no bot {bot!r} in the bot directories nor in the runs of tenant {tenant!r} "
            f"(known: {', '.join(sorted(profiles)) or 'none'})"
        )
    zone = settings.orchestrator.timezone
    scope = ReportScope.of_days(
        tenant, first, last + timedelta(days=1), bots=choose_bots(profiles, fachamt, bot), zone=zone
    )
    figures = store.reporting.period(scope, now=now)
    days = _days(first, last, figures)
    elapsed = elapsed_days(figures)
    bots = _bot_lines(figures, profiles, elapsed)
    return PeriodReport(
        tenant=tenant,
        fachamt=fachamt,
        bot=bot,
        first=first,
        last=last,
        zone=zone,
        figures=figures,
        days=days,
        months=_months(days),
        total=_sum(tally for _, tally in days),
        bots=bots,
        robots=_robot_lines(figures, elapsed),
        reasons=_reasons(figures),
        bots_without_minutes=tuple(b.profile.id for b in bots if b.hours_saved is None),
    )


def elapsed_days(figures: PeriodFigures) -> float:
    """Days of the period up to the figures' time (a period may reach into the future)."""
    scope = figures.scope
    end = min(scope.end, max(figures.as_of, scope.start))
    return max((end - scope.start).total_seconds() / 86400, 1 / 24)


def _grouped(counts: Mapping[str, int], groups: Mapping[str, tuple[str, ...]]) -> dict[str, int]:
    result = dict.fromkeys(groups, 0)
    for status, count in counts.items():
        group = next((name for name, members in groups.items() if status in members), None)
        result[group or list(groups)[-1]] += count
    return result


def _days(first: date, last: date, figures: PeriodFigures) -> tuple[tuple[date, Tally], ...]:
    runs = _per_day(figures.runs)
    cases = _per_day(figures.cases)
    days = []
    day = first
    while day <= last:
        tally = Tally(
            _grouped(runs.get(day, {}), RUN_GROUPS), _grouped(cases.get(day, {}), CASE_GROUPS)
        )
        days.append((day, tally))
        day += timedelta(days=1)
    return tuple(days)


def _per_day(rows: Iterable[DayCount]) -> dict[date, Counter[str]]:
    result: dict[date, Counter[str]] = {}
    for row in rows:
        result.setdefault(row.day, Counter())[row.outcome] += row.count
    return result


def _sum(tallies: Iterable[Tally]) -> Tally:
    runs: Counter[str] = Counter(dict.fromkeys(RUN_GROUPS, 0))
    cases: Counter[str] = Counter(dict.fromkeys(CASE_GROUPS, 0))
    for tally in tallies:
        runs.update(tally.runs)
        cases.update(tally.cases)
    return Tally(dict(runs), dict(cases))


def _months(days: tuple[tuple[date, Tally], ...]) -> tuple[tuple[date, Tally], ...]:
    by_month: dict[date, list[Tally]] = {}
    for day, tally in days:
        by_month.setdefault(day.replace(day=1), []).append(tally)
    return tuple((month, _sum(tallies)) for month, tallies in by_month.items())


def _bot_lines(
    figures: PeriodFigures, profiles: Mapping[str, BotProfile], elapsed: float
) -> tuple[BotLine, ...]:
    runs = figures.runs_by_bot()
    cases = figures.cases_by_bot()
    lines = []
    for bot_id in sorted(set(runs) | set(cases)):
        profile = profiles.get(bot_id, BotProfile(bot_id))
        grouped = _grouped(cases.get(bot_id, Counter()), CASE_GROUPS)
        minutes = profile.manual_minutes_per_case
        hours = None if minutes is None else grouped["done"] * minutes / 60
        per_year = None if hours is None else hours * 365 / elapsed
        payback = None
        if profile.effort_hours is not None and per_year:
            payback = profile.effort_hours / (per_year / 12)
        lines.append(
            BotLine(
                profile=profile,
                runs=sum(runs.get(bot_id, Counter()).values()),
                runs_succeeded=runs.get(bot_id, Counter())["succeeded"],
                success_rate=success_rate(runs.get(bot_id, Counter())),
                cases=grouped,
                hours_saved=hours,
                hours_per_year=per_year,
                payback_months=payback,
            )
        )
    return tuple(lines)


def _robot_lines(figures: PeriodFigures, elapsed: float) -> tuple[RobotLine, ...]:
    lines = []
    for robot in figures.robots:
        available_s = elapsed * 86400 * max(robot.slots, 1)
        name = None if robot.robot == COMMAND_LINE else robot.robot
        share = robot.busy_s / available_s
        lines.append(RobotLine(name, robot.runs, robot.busy_s / 3600, share))
    return tuple(sorted(lines, key=lambda line: (line.name is None, line.name or "")))


def _reasons(figures: PeriodFigures) -> tuple[ReasonLine, ...]:
    merged: Counter[tuple[str, str]] = Counter()
    for reason in figures.reasons:
        text = _LONG_NUMBER.sub("…", " ".join(reason.text.split()))
        if len(text) > REASON_CHARS:
            text = text[: REASON_CHARS - 1] + "…"
        merged[reason.source, text] += reason.count
    top = sorted(merged.items(), key=lambda item: (-item[1], item[0]))[:TOP_REASONS]
    return tuple(ReasonLine(source, text, count) for (source, text), count in top)
