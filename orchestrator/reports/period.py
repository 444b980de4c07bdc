"""The period report: what a tenant's bots did over some days, for a Fachamt or the city.

The library twin of ``bots report period``. :mod:`.period_facts` gathers the figures of
:meth:`store.reporting.period <orchestrator.store.reporting.repository.ReportingRepository.period>`
with what the bots' definitions and the catalog add (manual minutes per case, Fachamt, effort
to build); this module writes them as one self-contained HTML page (charts of
:mod:`.period_charts` embedded as SVG, each with a text alternative and its numbers as a
table), optionally printed to PDF. Example::

    report = gather_period_report(store, settings, "giessen", date(2026, 1, 1),
                                  date(2026, 3, 31), fachamt="Ordnungsamt")
    written = write_period_report(report, settings, Path("berichte"), pdf=True)
"""

from __future__ import annotations

import re
from pathlib import Path

from orchestrator.errors import EnvironmentProblem
from orchestrator.reports.period_charts import period_charts
from orchestrator.reports.period_facts import (
    CASE_GROUPS,
    RUN_GROUPS,
    PeriodReport,
    gather_period_report,
    parse_day,
)
from orchestrator.reports.render import render
from orchestrator.reports.run_report import WrittenReport, print_pdf
from orchestrator.settings import Settings

__all__ = [
    "PeriodReport",
    "gather_period_report",
    "parse_day",
    "render_period_report",
    "report_name",
    "write_period_report",
]

TEMPLATE = "period.html.j2"


def render_period_report(report: PeriodReport, *, lang: str = "de") -> str:
    """The report as one HTML page in ``lang``, charts embedded."""
    context: dict[str, object] = {
        "report": report,
        "charts": period_charts(report, lang),
        "run_groups": list(RUN_GROUPS),
        "case_groups": list(CASE_GROUPS),
        "generated_at": report.figures.as_of,
    }
    return render(TEMPLATE, context, lang=lang, timezone=report.zone)


def report_name(report: PeriodReport, lang: str) -> str:
    """The file name (without suffix): ``zeitraumbericht-giessen-2026-01-01-2026-03-31``."""
    stem = "zeitraumbericht" if lang == "de" else "period-report"
    parts = [stem, report.tenant, *(p for p in (report.fachamt, report.bot) if p)]
    slug = "-".join(re.sub(r"[^a-z0-9]+", "-", part.casefold()).strip("-") for part in parts)
    return f"{slug}-{report.first.isoformat()}-{report.last.isoformat()}"


def write_period_report(
    report: PeriodReport,
    settings: Settings,
    directory: Path,
    *,
    lang: str = "de",
    pdf: bool = False,
) -> WrittenReport:
    """Write the report into ``directory`` as HTML (and PDF through Chromium).

    Raises:
        EnvironmentProblem: the directory cannot be written, or Chromium cannot print.
    """
    html_path = directory / f"{report_name(report, lang)}.html"
    html = render_period_report(report, lang=lang)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        html_path.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise EnvironmentProblem(f"cannot write the report to {html_path}: {exc}") from None
    return WrittenReport(html_path, print_pdf(html_path, settings) if pdf else None)
