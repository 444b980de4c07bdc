"""What a schedule says, and the tenant's schedules with their state.

A schedule (settings ``schedules``, or a city overlay's of a catalog bot, see
:func:`orchestrator.catalog.city.schedules_for`) names a bot, a cron expression in the time
zone of ``orchestrator.timezone``, and when a firing is skipped (public holidays in Hesse, a
time window). This module turns those into APScheduler triggers and fire times, says why a
firing is skipped, gives each fire time its dedupe key (one fire time, one run), and lists,
pauses and resumes a tenant's schedules; :mod:`orchestrator.scheduler` fires them::

    trigger = cron_trigger("30 7 * * 1-5", "Europe/Berlin")
    fire_times(trigger, after=monday_0700, until=monday_0800)    # [monday 07:30]
    skip_reason(schedule, christmas_0730)    # "public holiday in Hesse: Erster Weihnachtstag"

Cron expressions have 5 fields (minute hour day month day-of-week), or 6 with seconds first
(``*/5 * * * * *``: every five seconds).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from apscheduler.triggers.cron import CronTrigger

from orchestrator.catalog.city import schedules_for
from orchestrator.errors import ConfigError
from orchestrator.settings import ScheduleSettings, Settings
from orchestrator.store import RunStore


def cron_trigger(expression: str, timezone: str) -> CronTrigger:
    """The APScheduler trigger for a 5-field crontab or a 6-field one with seconds first.

    Raises:
        ValueError: the expression is malformed (APScheduler's reason).
    """
    fields = expression.split()
    if len(fields) == 5:
        return CronTrigger.from_crontab(expression, timezone=timezone)
    if len(fields) == 6:
        second, minute, hour, day, month, day_of_week = fields
        return CronTrigger(
            second=second,
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=day_of_week,
            timezone=timezone,
        )
    raise ValueError(f"expected 5 fields (or 6 with seconds first), got {len(fields)}")


def check_schedules(settings: Settings) -> dict[tuple[str, str], CronTrigger]:
    """Every schedule's trigger by (tenant, name); all bad ones in one ConfigError."""
    triggers: dict[tuple[str, str], CronTrigger] = {}
    problems: list[str] = []
    for tenant in settings.all_tenants():
        for name, schedule in schedules_for(settings, tenant).items():
            try:
                triggers[tenant, name] = cron_trigger(schedule.cron, settings.orchestrator.timezone)
            except ValueError as exc:
                problems.append(f"schedule {tenant}/{name}: cron {schedule.cron!r}: {exc}")
    if problems:
        raise ConfigError("; ".join(problems))
    return triggers


def skip_reason(schedule: ScheduleSettings, fire_time: datetime) -> str | None:
    """Why a firing at ``fire_time`` (aware, in the schedule's zone) is skipped, or None.

    Example: ``skip_reason(schedule, datetime(2026, 12, 25, 7, 30, tzinfo=berlin))`` is
    ``"public holiday in Hesse: Erster Weihnachtstag"`` if ``skip_holidays`` is set.
    """
    if schedule.skip_holidays:
        name = holidays.Germany(subdiv="HE", language="de").get(fire_time.date())
        if name:
            return f"public holiday in Hesse: {name}"
    if schedule.window:
        start_text, end_text = schedule.window.split("-")
        start, end = time.fromisoformat(start_text), time.fromisoformat(end_text)
        local = fire_time.timetz().replace(tzinfo=None)
        inside = start <= local <= end if start <= end else (local >= start or local <= end)
        if not inside:
            return f"outside the window {schedule.window}"
    return None


def dedupe_key(tenant: str, name: str, fire_time: datetime) -> str:
    """The key that makes one fire time of a schedule one run."""
    return f"schedule:{tenant}/{name}@{fire_time.astimezone(ZoneInfo('UTC')).isoformat()}"


def fire_times(trigger: CronTrigger, after: datetime, until: datetime) -> list[datetime]:
    """The trigger's fire times in ``(after, until]``."""
    times: list[datetime] = []
    previous: datetime | None = None
    moment = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
    while moment is not None and moment <= until:
        times.append(moment)
        previous = moment
        moment = trigger.get_next_fire_time(previous, moment + timedelta(microseconds=1))
    return times


@dataclass(frozen=True)
class ScheduleInfo:
    """A schedule as `bots schedule list` shows it."""

    tenant: str
    name: str
    bot: str
    cron: str
    enabled: bool
    paused: bool
    skip_holidays: bool
    window: str | None
    last_fire_at: datetime | None
    next_fire_at: datetime | None


def list_schedules(settings: Settings, store: RunStore, tenant: str) -> list[ScheduleInfo]:
    """The tenant's schedules with their state and next fire time (skips not considered)."""
    triggers = check_schedules(settings)
    states = store.schedule_state(tenant)
    now = datetime.now(ZoneInfo(settings.orchestrator.timezone))
    infos = []
    for name, schedule in sorted(schedules_for(settings, tenant).items()):
        state = states.get(name)
        infos.append(
            ScheduleInfo(
                tenant=tenant,
                name=name,
                bot=schedule.bot,
                cron=schedule.cron,
                enabled=schedule.enabled,
                paused=bool(state and state.paused),
                skip_holidays=schedule.skip_holidays,
                window=schedule.window,
                last_fire_at=state.last_fire_at if state else None,
                next_fire_at=triggers[tenant, name].get_next_fire_time(None, now),
            )
        )
    return infos


def _known(settings: Settings, tenant: str, name: str) -> None:
    known = schedules_for(settings, tenant)
    if name not in known:
        listed = ", ".join(sorted(known)) or "none"
        raise ConfigError(f"tenant {tenant!r} has no schedule {name!r} (configured: {listed})")


def pause_schedule(settings: Settings, store: RunStore, tenant: str, name: str, actor: str) -> None:
    """Pause a schedule: its firings are skipped (and audited) until resumed."""
    _known(settings, tenant, name)
    store.set_schedule_paused(tenant, name, True, actor=actor)


def resume_schedule(
    settings: Settings, store: RunStore, tenant: str, name: str, actor: str
) -> None:
    """Resume a paused schedule from its next fire time."""
    _known(settings, tenant, name)
    store.set_schedule_paused(tenant, name, False, actor=actor)
