"""The charts of a period report in the reader's language, each with its text alternative.

Drawn by :mod:`.charts`; the report puts each beside a table of the same numbers. Example::

    charts = period_charts(report, "de")
    charts["runs"].alt   # "Gestapeltes Säulendiagramm der Läufe je Tag vom 01.01.2026 …"
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

from orchestrator.reports.charts import Chart, Series, horizontal_bars, stacked_days
from orchestrator.reports.i18n import translator
from orchestrator.reports.period_facts import PeriodReport, Tally
from orchestrator.reports.render import Formatter

#: Group -> tone of the charts (see ``charts.TONES``).
TONES = {
    "succeeded": "done",
    "done": "done",
    "failed": "failed",
    "needs_human": "person",
    "retrying": "retry",
    "cancelled": "other",
    "running": "work",
    "other": "other",
}


def period_charts(report: PeriodReport, lang: str) -> dict[str, Chart | None]:
    """``runs`` and ``cases`` per day; ``robots`` (utilisation) and ``saved`` (hours per
    bot), None where there is nothing to draw."""
    t = translator(lang)
    fmt = Formatter(lang, report.zone)
    return {
        "runs": _per_day(report, "runs", t, fmt),
        "cases": _per_day(report, "cases", t, fmt),
        "robots": _robots(report, t, fmt),
        "saved": _saved(report, t, fmt),
    }


def _per_day(
    report: PeriodReport, kind: str, t: Callable[..., str], fmt: Formatter
) -> Chart | None:
    def counts(tally: Tally) -> Mapping[str, int]:
        return tally.runs if kind == "runs" else tally.cases

    days = [day for day, _ in report.days]
    # Groups that never occur stay in the tables, not in the chart's legend.
    groups = [group for group, total in counts(report.total).items() if total]
    if not groups:
        return None
    series = [
        Series(
            t(f"period.{kind}.{group}"),
            tuple(counts(tally)[group] for _, tally in report.days),
            TONES[group],
        )
        for group in groups
    ]
    totals = [sum(counts(tally).values()) for _, tally in report.days]
    peak = max(range(len(days)), key=lambda n: totals[n])
    parts = ", ".join(
        f"{fmt.number(counts(report.total)[g])} {t(f'period.{kind}.{g}')}" for g in groups
    )
    alt = t(
        f"period.chart.{kind}_alt",
        first=fmt.date(report.first),
        last=fmt.date(report.last),
        total=fmt.number(sum(counts(report.total).values())),
        parts=parts,
        peak=fmt.number(totals[peak]),
        peak_day=fmt.date(days[peak]),
    )
    return stacked_days(
        days,
        series,
        ylabel=t(f"period.chart.{kind}_axis"),
        alt=alt,
        tick_label=_tick_label(days, t, fmt),
        number=lambda value: fmt.number(round(value)),
    )


def _tick_label(days: list[date], t: Callable[..., str], fmt: Formatter) -> Callable[[date], str]:
    if (days[-1] - days[0]).days > 62:
        months = t("period.months").split()
        return lambda day: (
            f"{months[day.month - 1]} {day:%y}" if day.month == 1 else months[day.month - 1]
        )
    return lambda day: fmt.date(day)[:6] if fmt.lang == "de" else f"{day:%m-%d}"


def _robots(report: PeriodReport, t: Callable[..., str], fmt: Formatter) -> Chart | None:
    if not report.robots:
        return None
    labels = [line.name or t("period.robot.command_line") for line in report.robots]
    values = [line.utilisation * 100 for line in report.robots]
    listed = ", ".join(
        f"{label} {fmt.number(value, 2)} %" for label, value in zip(labels, values, strict=True)
    )
    return horizontal_bars(
        labels,
        values,
        xlabel=t("period.chart.robots_axis"),
        alt=t("period.chart.robots_alt", robots=listed),
        tone="retry",
        number=lambda value: f"{fmt.number(round(value, 2), 2)} %",
    )


def _saved(report: PeriodReport, t: Callable[..., str], fmt: Formatter) -> Chart | None:
    lines = [line for line in report.bots if line.hours_saved is not None]
    if not lines:
        return None
    labels = [line.profile.name or line.profile.id for line in lines]
    values = [line.hours_saved or 0.0 for line in lines]
    listed = ", ".join(
        f"{label} {fmt.number(value)} {t('period.hours')}"
        for label, value in zip(labels, values, strict=True)
    )
    return horizontal_bars(
        labels,
        values,
        xlabel=t("period.chart.saved_axis"),
        alt=t("period.chart.saved_alt", total=fmt.number(report.hours_saved), bots=listed),
        number=lambda value: fmt.number(round(value, 1)),
    )
