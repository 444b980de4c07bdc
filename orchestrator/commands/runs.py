"""`bots runs`: list, cancel and retry runs of all bots."""

from __future__ import annotations

from typing import Annotated

import typer

from orchestrator.commands.run import list_runs
from orchestrator.commands.shared import TenantOption, echo, service_context

app = typer.Typer(name="runs", help="Runs of all bots: list, cancel, retry.", no_args_is_help=True)


@app.command("list")
def runs_list(
    status: Annotated[str | None, typer.Option(help="Only runs in this status.")] = None,
    bot: Annotated[str | None, typer.Option(help="Only runs of this bot.")] = None,
    limit: Annotated[int, typer.Option(help="How many runs, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
    tenant: TenantOption = None,
) -> None:
    """List runs of the tenant (queued, running and ended), newest first."""
    list_runs(bot=bot, status=status, tenant=tenant, limit=limit, as_json=as_json)


@app.command("cancel")
def runs_cancel(
    run_id: Annotated[int, typer.Argument(help="Run id.")],
    tenant: TenantOption = None,
) -> None:
    """Cancel a run: a queued one at once, a running one at its next step."""
    from orchestrator.results import RunStatus
    from orchestrator.services import runs

    with service_context() as ctx:
        outcome = runs.cancel_run(ctx, run_id, tenant)
    if outcome == RunStatus.RUNNING:
        echo(f"run {run_id} is running; it stops at its next step")
    else:
        echo(f"run {run_id} cancelled")


@app.command("retry")
def runs_retry(
    run_id: Annotated[int, typer.Argument(help="Id of an ended run.")],
    tenant: TenantOption = None,
) -> None:
    """Queue a new run with the same bot and parameters as an ended one."""
    from orchestrator.services import runs

    with service_context() as ctx:
        new_id = runs.retry_run(ctx, run_id, tenant)
    echo(f"run {new_id} queued (retry of run {run_id})")
