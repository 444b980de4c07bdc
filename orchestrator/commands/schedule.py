"""`bots schedule`: list, pause and resume the schedules of the configuration."""

from __future__ import annotations

from typing import Annotated

import typer

from orchestrator import presenters
from orchestrator.commands.shared import (
    TenantOption,
    echo,
    print_listing,
    service_context,
)

app = typer.Typer(name="schedule", help="Schedules from the configuration.", no_args_is_help=True)


@app.command("list")
def schedule_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
    tenant: TenantOption = None,
) -> None:
    """List the tenant's schedules with their next firing and whether they are paused."""
    from orchestrator.services import schedules

    with service_context() as ctx:
        infos = schedules.list_schedules(ctx, tenant)
    print_listing(
        infos,
        as_json=as_json,
        to_json=presenters.schedule_as_json,
        lines=presenters.schedule_line,
        empty="no schedules configured for this tenant",
    )


@app.command("pause")
def schedule_pause(
    name: Annotated[str, typer.Argument(help="Schedule name.")], tenant: TenantOption = None
) -> None:
    """Pause a schedule: its firings are skipped (and logged) until it is resumed."""
    _set_paused(name, tenant, paused=True)


@app.command("resume")
def schedule_resume(
    name: Annotated[str, typer.Argument(help="Schedule name.")], tenant: TenantOption = None
) -> None:
    """Resume a paused schedule from its next firing."""
    _set_paused(name, tenant, paused=False)


def _set_paused(name: str, tenant: str | None, *, paused: bool) -> None:
    from orchestrator.services import schedules

    with service_context() as ctx:
        schedules.set_paused(ctx, name, tenant, paused=paused)
    echo(f"schedule {name} {'paused' if paused else 'resumed'}")
