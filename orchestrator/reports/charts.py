"""Charts of the period report: SVG drawn by matplotlib, ready to embed in a page offline.

Each chart is drawn on its own :class:`~matplotlib.figure.Figure` (no pyplot, no global
backend: the Agg-based SVG canvas only), with text kept as text (``svg.fonttype: none``),
fixed ids (``svg.hashsalt``) and no date in its metadata, so the same figures give the same
bytes. Colours have at least 3:1 contrast on white and every series has its own hatching, so
a chart reads without colour too; the report puts a text alternative and the numbers as a
table beside each. Words come from the caller (already in the report's language). Example::

    chart = stacked_days(
        days, [Series("erfolgreich", (3, 4, 0), "done")], ylabel="Läufe", alt="…",
        tick_label=lambda day: f"{day:%d.%m.}",
    )
    f'<img src="{chart.data_uri}" alt="{chart.alt}">'
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from matplotlib import dates as mdates
from matplotlib import rc_context
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator
from matplotlib.typing import RcKeyType

STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "kommune-bots-period-report",
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#4a4a4a",
    "text.color": "#1a1a1a",
    "axes.labelcolor": "#1a1a1a",
    "xtick.color": "#1a1a1a",
    "ytick.color": "#1a1a1a",
    "hatch.linewidth": 0.6,
}
#: Tone -> (colour, hatch). Every colour has at least 3:1 contrast on white (WCAG 1.4.11).
TONES: dict[str, tuple[str, str]] = {
    "done": ("#1b7837", ""),
    "person": ("#8c510a", "///"),
    "failed": ("#b2182b", "xxx"),
    "retry": ("#2166ac", "..."),
    "work": ("#762a83", "\\\\\\"),
    "other": ("#5f5f5f", "---"),
}
WIDTH_IN, HEIGHT_IN = 9.0, 3.4
#: Up to this many days a chart draws a bar per day; beyond, stepped areas.
BARS_UP_TO_DAYS = 62


@dataclass(frozen=True)
class Series:
    """One stacked series: its legend ``label``, a value per day, and its ``tone``."""

    label: str
    values: tuple[float, ...]
    tone: str


@dataclass(frozen=True)
class Chart:
    """A drawn chart: the SVG document and its text alternative."""

    svg: str
    alt: str

    @property
    def data_uri(self) -> str:
        """The SVG as a ``data:`` URI for an ``<img>`` (allowed by the reports' CSP)."""
        encoded = base64.b64encode(self.svg.encode("utf-8")).decode("ascii")
        return f"data:image/svg+xml;base64,{encoded}"


def stacked_days(
    days: Sequence[date],
    series: Sequence[Series],
    *,
    ylabel: str,
    alt: str,
    tick_label: Callable[[date], str],
    number: Callable[[float], str] = str,
) -> Chart:
    """Stacked bars, one per day, of ``series`` (each with one value per day); ``number``
    writes the values on the axis (e.g. ``1.000`` in German)."""
    with rc_context(STYLE):
        figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN))
        axes = figure.add_subplot()
        x = list(mdates.date2num(list(days)))
        bottom = [0.0] * len(days)
        for one in series:
            top = [b + v for b, v in zip(bottom, one.values, strict=True)]
            _draw_stack(axes, x, bottom, top, one)
            bottom = top
        _date_axis(axes, days, tick_label)
        axes.set_ylabel(ylabel)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: number(value)))
        axes.grid(axis="y", color="#d0d0d0", linewidth=0.6)
        axes.set_axisbelow(True)
        if series:
            axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        # Fixed margins (room for the legend on the right): tight_layout would measure every
        # text first, which costs more than drawing the chart.
        figure.subplots_adjust(left=0.08, right=0.76, bottom=0.11, top=0.96)
        return Chart(_svg(figure), alt)


def horizontal_bars(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    xlabel: str,
    alt: str,
    tone: str = "done",
    number: Callable[[float], str] = str,
) -> Chart:
    """One horizontal bar per label, the value (written by ``number``) at its end."""
    colour, hatch = TONES.get(tone, TONES["other"])
    with rc_context(STYLE):
        height = max(1.6, 0.45 * len(labels) + 1.0)
        figure = Figure(figsize=(WIDTH_IN, height))
        axes = figure.add_subplot()
        positions = list(range(len(labels)))
        bars = axes.barh(positions, values, color=colour, hatch=hatch, edgecolor="white")
        axes.set_yticks(positions, labels=list(labels))
        axes.invert_yaxis()
        axes.set_xlabel(xlabel)
        axes.bar_label(bars, labels=[number(value) for value in values], padding=3)
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: number(value)))
        axes.margins(x=0.15)
        axes.grid(axis="x", color="#d0d0d0", linewidth=0.6)
        axes.set_axisbelow(True)
        figure.tight_layout()
        return Chart(_svg(figure), alt)


def _draw_stack(
    axes: Any, x: list[float], bottom: list[float], top: list[float], one: Series
) -> None:
    """Bars between ``bottom`` and ``top`` for a few weeks; for longer periods one stepped
    area (a path per series instead of a rectangle per day: small and quick)."""
    colour, hatch = TONES.get(one.tone, TONES["other"])
    edge = "white" if hatch else colour
    if len(x) <= BARS_UP_TO_DAYS:
        heights = [t - b for t, b in zip(top, bottom, strict=True)]
        shown = [n for n, height in enumerate(heights) if height]
        axes.bar(
            [x[n] for n in shown],
            [heights[n] for n in shown],
            width=0.85,
            bottom=[bottom[n] for n in shown],
            color=colour,
            hatch=hatch,
            edgecolor=edge,
            linewidth=0,
            label=one.label,
        )
        return
    # fill_between updates the data limits in one vectorised step; a stairs patch per
    # series would walk its thousand vertices in Python.
    edges = [value - 0.5 for value in x] + [x[-1] + 0.5]
    axes.fill_between(
        edges,
        [*bottom, bottom[-1]],
        [*top, top[-1]],
        step="post",
        facecolor=colour,
        hatch=hatch,
        edgecolor=edge,
        linewidth=0,
        label=one.label,
    )


def _date_axis(axes: Any, days: Sequence[date], tick_label: Callable[[date], str]) -> None:
    span = (days[-1] - days[0]).days + 1 if days else 1
    if span <= 14:
        locator: Any = mdates.DayLocator()
    elif span <= 62:
        locator = mdates.DayLocator(bymonthday=(1, 8, 15, 22))
    elif span <= 400:
        locator = mdates.MonthLocator()
    else:
        locator = mdates.MonthLocator(bymonth=(1, 4, 7, 10))
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(
        FuncFormatter(lambda value, _pos: tick_label(mdates.num2date(value).date()))
    )
    if days:
        first, last = mdates.date2num([days[0], days[-1]])
        axes.set_xlim(first - 0.7, last + 0.7)


def _svg(figure: Figure) -> str:
    FigureCanvasSVG(figure)
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return buffer.getvalue()
