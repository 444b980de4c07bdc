"""`bots report`: reports for Fachämter, written as self-contained HTML (and PDF)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from orchestrator.commands import report_figures
from orchestrator.commands.report_figures import LangOption, ReportLanguage
from orchestrator.commands.shared import TenantOption, echo, service_context

app = typer.Typer(
    name="report",
    help="Reports for Fachämter: HTML that opens offline, or PDF.",
    no_args_is_help=True,
)


@app.command("run")
def report_run(
    run_id: Annotated[int, typer.Argument(help="Run id, as `bots history` lists it.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Directory to write the report into.")
    ] = Path("."),
    lang: LangOption = ReportLanguage.DE,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also write a PDF (needs Chromium).")] = False,
    tenant: TenantOption = None,
) -> None:
    """Write one run's report: what was done, which cases need a person and why, evidence,
    and when the data is deleted. Prints the path of each file written."""
    from orchestrator.services import reports

    with service_context() as ctx:
        written = reports.write_run_report(
            ctx, run_id, out, lang=lang.value, pdf=pdf, tenant=tenant
        )
    for path in written.paths:
        echo(str(path))


# The period report and the key figures for Open Data (report_figures.py).
app.command("period")(report_figures.period)
app.command("kpis")(report_figures.kpis)
