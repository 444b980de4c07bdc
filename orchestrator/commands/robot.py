"""`bots robot`: start a robot (a worker executing queued runs), list the robots."""

from __future__ import annotations

from typing import Annotated

import typer

from orchestrator import presenters
from orchestrator.commands.shared import csv, print_listing, service_context

app = typer.Typer(
    name="robot", help="Robots: workers that execute queued runs.", no_args_is_help=True
)


@app.command("list")
def robot_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List robots: name, instance, labels, tenants, last heartbeat, runs held, alive or gone.

    A robot is alive while it has not stopped, its heartbeat is younger than the lease
    (``orchestrator.lease_s``) and, on this host, its process runs; otherwise it is gone.
    A user bound to one tenant sees only the robots serving it.
    """
    from orchestrator.services import robots

    with service_context() as ctx:
        states = robots.list_robots(ctx)
    print_listing(
        states,
        as_json=as_json,
        to_json=presenters.robot_as_json,
        lines=presenters.robot_lines,
        empty="no robots registered yet",
    )


@app.command("start")
def robot_start(
    labels: Annotated[
        str | None, typer.Option(help="Comma-separated labels, e.g. browser,desktop,giessen.")
    ] = None,
    concurrency: Annotated[int | None, typer.Option(help="Runs executed at once.")] = None,
    name: Annotated[
        str | None,
        typer.Option(
            help="Stable robot name (default: host:pid). A restart under the same name "
            "hands back the runs its dead predecessor held; a live one refuses (exit 75)."
        ),
    ] = None,
    tenants: Annotated[str | None, typer.Option(help="Comma-separated tenants served.")] = None,
) -> None:
    """Claim and execute queued runs until SIGTERM (then finish or hand back, exit 0).

    Once users exist, the starter needs a token of an admin or operator of every tenant
    served (a user bound to one tenant serves it by default).
    """
    from orchestrator.robot import serve
    from orchestrator.services import robots

    with service_context() as ctx:
        served = robots.tenants_to_serve(ctx, csv(tenants))
    code = serve(
        ctx.settings, name=name, labels=csv(labels), tenants=served, concurrency=concurrency
    )
    raise typer.Exit(code)
