"""`bots report period` and `bots report kpis`: figures over days and months.

Plain functions with typer annotations; :mod:`orchestrator.commands.report` registers them in
its ``report`` group. Both read one tenant only, as :mod:`orchestrator.services.reports`
decides: the identity must be allowed to read that tenant's reports, and the tenant must be
known (configured, or with runs or work queues in the store).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from orchestrator.commands.shared import TenantOption, echo, service_context
from orchestrator.errors import EnvironmentProblem


class ReportLanguage(StrEnum):
    """The languages of a report (``bots report run`` and ``period``)."""

    DE = "de"
    EN = "en"


LangOption = Annotated[ReportLanguage, typer.Option("--lang", help="Language of the report.")]


class KpiFormat(StrEnum):
    """The forms of the key figures."""

    CSV = "csv"
    JSON = "json"


def period(
    first: Annotated[
        str, typer.Option("--from", help="First day of the period, YYYY-MM-DD.", show_default=False)
    ],
    last: Annotated[
        str, typer.Option("--to", help="Last day of the period (included), YYYY-MM-DD.")
    ],
    fachamt: Annotated[
        str | None, typer.Option("--fachamt", help="Only the bots of this Fachamt.")
    ] = None,
    bot: Annotated[str | None, typer.Option("--bot", help="Only this bot (its id).")] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Directory to write the report into.")
    ] = Path("."),
    lang: LangOption = ReportLanguage.DE,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also write a PDF (needs Chromium).")] = False,
    tenant: TenantOption = None,
) -> None:
    """Write a period report: runs and cases per day, success rate, cases waiting for a
    person, failure reasons, missed deadlines, staff time saved, payback, robot
    utilisation. No figure about any person. Prints the path of each file written."""
    from orchestrator.reports.period import parse_day, write_period_report
    from orchestrator.services import reports

    start, end = parse_day(first, "--from"), parse_day(last, "--to")
    with service_context() as ctx:
        report = reports.period_report(ctx, start, end, fachamt=fachamt, bot=bot, tenant=tenant)
    written = write_period_report(report, ctx.settings, out, lang=lang.value, pdf=pdf)
    for path in written.paths:
        echo(str(path))


def kpis(
    month: Annotated[str, typer.Option("--month", help="The month, YYYY-MM.", show_default=False)],
    form: Annotated[KpiFormat, typer.Option("--format", help="csv or json.")] = KpiFormat.CSV,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="File to write (a CSV gets FILE-metadata.json beside it)."
        ),
    ] = None,
    tenant: TenantOption = None,
) -> None:
    """Print (or write) the key figures per bot of one month as Open Data: counts only, no
    case data, no references, no person; licence Datenlizenz Deutschland – Zero 2.0."""
    from orchestrator.reports.kpis import csvw_metadata, kpis_csv, kpis_json, parse_month
    from orchestrator.services import reports

    first = parse_month(month)
    with service_context() as ctx:
        table = reports.key_figures(ctx, first, tenant)
    text = kpis_csv(table) if form is KpiFormat.CSV else kpis_json(table)
    if out is None:
        typer.echo(text, nl=False)
        return
    files = {out: text}
    if form is KpiFormat.CSV:
        files[out.with_name(f"{out.name}-metadata.json")] = csvw_metadata(table, out.name)
    for path, content in files.items():
        _write(path, content)
        echo(str(path))


def _write(path: Path, content: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    except OSError as exc:
        raise EnvironmentProblem(f"cannot write {path}: {exc}") from None
