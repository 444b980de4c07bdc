"""`bots report period` and `bots report kpis`: figures over days and months.

Plain functions with typer annotations; :mod:`orchestrator.commands.report` registers them in
its ``report`` group. Both read one tenant only: the identity must be allowed to read that
tenant's reports (:func:`~orchestrator.commands.shared.permitted`), and the tenant must be
known (configured, or with runs or work queues in the store).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from orchestrator.commands.shared import TenantOption, echo, permitted, settings
from orchestrator.errors import EnvironmentProblem, InputError

if TYPE_CHECKING:
    from orchestrator.settings import Settings
    from orchestrator.store import RunStore


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
    from orchestrator.reports.period import gather_period_report, parse_day, write_period_report
    from orchestrator.store import open_store

    start, end = parse_day(first, "--from"), parse_day(last, "--to")
    effective = settings()
    with open_store(effective.database) as store:
        where = _readable_tenant(store, effective, "report period", tenant)
        report = gather_period_report(store, effective, where, start, end, fachamt=fachamt, bot=bot)
    written = write_period_report(report, effective, out, lang=lang.value, pdf=pdf)
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
    from orchestrator.reports.kpis import (
        csvw_metadata,
        gather_kpis,
        kpis_csv,
        kpis_json,
        parse_month,
    )
    from orchestrator.store import open_store

    first = parse_month(month)
    effective = settings()
    with open_store(effective.database) as store:
        where = _readable_tenant(store, effective, "report kpis", tenant)
        table = gather_kpis(store, effective, where, first)
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


def _readable_tenant(store: RunStore, effective: Settings, action: str, tenant: str | None) -> str:
    """The tenant to report on, once the identity may and the tenant is known.

    Raises:
        NotAuthenticated, NotAllowed: as :func:`~orchestrator.commands.shared.permitted`.
        InputError: the tenant is neither configured nor has runs or work queues.
    """
    _, where = permitted(store, effective, action, tenant)
    configured = {effective.tenant, *effective.tenants}
    if where not in configured and not store.reporting.has_tenant(where):
        raise InputError(
            f"unknown tenant {where!r}: it is not configured and has no runs or work queues "
            f"(configured: {', '.join(sorted(configured))})"
        )
    return where


def _write(path: Path, content: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    except OSError as exc:
        raise EnvironmentProblem(f"cannot write {path}: {exc}") from None
