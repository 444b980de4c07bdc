"""Reports for Fachämter: one run's report, the period report and the key figures.

Each reads one tenant: the actor must be allowed to read that tenant's reports, and for the
period report and the key figures the tenant must be known (configured, or with runs or work
queues in the store). Presenters write them (:mod:`orchestrator.reports`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.errors import InputError
from orchestrator.services.access import Permission
from orchestrator.services.context import Context

if TYPE_CHECKING:
    from orchestrator.reports.kpis import KpiTable
    from orchestrator.reports.period import PeriodReport
    from orchestrator.reports.run_report import WrittenReport


def write_run_report(
    ctx: Context, run_id: int, out: Path, *, lang: str, pdf: bool, tenant: str | None
) -> WrittenReport:
    """Write run ``run_id``'s report into ``out`` (HTML, and PDF with ``pdf``).

    Raises:
        RunNotFound: the tenant has no such run.
        EnvironmentProblem: the directory cannot be written, or Chromium cannot print.
    """
    from orchestrator.reports.run_report import write_run_report_files

    where = ctx.on_tenant(Permission.REPORT_RUN, tenant)
    return write_run_report_files(
        ctx.store, ctx.settings, run_id, out, lang=lang, pdf=pdf, tenant=where
    )


def period_report(
    ctx: Context,
    first: date,
    last: date,
    *,
    fachamt: str | None,
    bot: str | None,
    tenant: str | None,
) -> PeriodReport:
    """The figures of the tenant from ``first`` to ``last`` (both included)."""
    from orchestrator.reports.period import gather_period_report

    where = _known_tenant(ctx, Permission.REPORT_PERIOD, tenant)
    return gather_period_report(
        ctx.store, ctx.settings, where, first, last, fachamt=fachamt, bot=bot
    )


def key_figures(ctx: Context, month: date, tenant: str | None) -> KpiTable:
    """The key figures per bot of the tenant in ``month`` (its first day), as Open Data."""
    from orchestrator.reports.kpis import gather_kpis

    where = _known_tenant(ctx, Permission.REPORT_KPIS, tenant)
    return gather_kpis(ctx.store, ctx.settings, where, month)


def _known_tenant(ctx: Context, permission: Permission, tenant: str | None) -> str:
    """The tenant to report on, once the actor may and the tenant is known.

    Raises:
        NotAllowed: the actor may not read the tenant's reports.
        InputError: the tenant is neither configured nor has runs or work queues.
    """
    where = ctx.on_tenant(permission, tenant)
    configured = {ctx.settings.tenant, *ctx.settings.tenants}
    if where not in configured and not ctx.store.reporting.has_tenant(where):
        raise InputError(
            f"unknown tenant {where!r}: it is not configured and has no runs or work queues "
            f"(configured: {', '.join(sorted(configured))})"
        )
    return where
