"""`bots retention`: delete run evidence, reports, logs and work-item payloads on time.

``apply`` deletes what has expired (``--dry-run``: only says what it would delete), audited
under the user; ``show`` prints the periods in force. Without ``--tenant`` both cover every
tenant the identity may see: all of them for the OS account and users of tenant ``*``, the
user's own otherwise (:mod:`orchestrator.services.retention`). Deleting needs the role admin
(:data:`orchestrator.services.PERMISSIONS`).
The orchestrator's leader does the same as ``apply`` once a day.
"""

from __future__ import annotations

from typing import Annotated

import typer

from orchestrator import presenters
from orchestrator.commands.shared import EXIT_FAILED, echo, print_json, service_context

app = typer.Typer(
    name="retention",
    help="Deletion on time: screenshots, traces, reports, logs and payloads past their period.",
    no_args_is_help=True,
)

TenantOption = Annotated[
    str | None,
    typer.Option("--tenant", help="Only this tenant; default: every tenant you may see."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command("apply")
def retention_apply(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Delete nothing; say what would be deleted.")
    ] = False,
    tenant: TenantOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete what has expired, per tenant and kind; each deletion is audited.

    Exits 1 if a file could not be deleted (it is named; the next run tries again).
    """
    from orchestrator.services import retention

    with service_context() as ctx:
        outcome = retention.apply_retention(ctx, dry_run=dry_run, tenant=tenant)
    if as_json:
        print_json(outcome.to_json())
    else:
        for line in presenters.retention_lines(outcome):
            echo(line, err=line.startswith("left alone: "))
    if outcome.left_alone:
        raise typer.Exit(EXIT_FAILED)


@app.command("show")
def retention_show(tenant: TenantOption = None, as_json: JsonOption = False) -> None:
    """Show how long each kind of record is kept, per tenant, and each work queue's period."""
    from orchestrator.services import retention

    with service_context() as ctx:
        shown = retention.retention_periods(ctx, tenant)
    if as_json:
        print_json(shown)
        return
    for periods in shown:
        for line in presenters.retention_period_lines(periods):
            echo(line)
