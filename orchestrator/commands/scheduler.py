"""`bots orchestrator`: the service that schedules runs and finds lost ones."""

from __future__ import annotations

import typer

from orchestrator.commands.shared import settings

app = typer.Typer(
    name="orchestrator", help="Scheduling and lost-run detection.", no_args_is_help=True
)


@app.command("start")
def orchestrator_start() -> None:
    """Schedule runs (when this instance holds the leader lease) and find lost runs."""
    from orchestrator.scheduler import serve

    raise typer.Exit(serve(settings()))
