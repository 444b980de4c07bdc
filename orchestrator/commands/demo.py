"""`bots demo`: the whole story on the sandbox in one command."""

from __future__ import annotations

from typing import Annotated

import typer

from orchestrator.commands.shared import EXIT_FAILED, echo, settings

app = typer.Typer()


@app.command()
def demo(
    headed: Annotated[bool, typer.Option(help="Show the browser window.")] = False,
) -> None:
    """Start the sandbox, seed it, run gewerbe-uebertragung, and show what happened."""
    from sandbox.demo import run_demo

    outcome = run_demo(settings(), headed=headed, echo=echo)
    if not outcome.succeeded:
        raise typer.Exit(EXIT_FAILED)
