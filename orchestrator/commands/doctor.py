"""`bots doctor`: check this machine and print fixes."""

from __future__ import annotations

import typer

from orchestrator.commands.shared import EXIT_ENVIRONMENT, echo, settings

app = typer.Typer()


@app.command()
def doctor() -> None:
    """Check this machine: browser, display, data directory, database; print fixes."""
    from orchestrator.doctor import run_checks

    results = run_checks(settings())
    for check in results:
        mark = "ok  " if check.ok else "FAIL"
        echo(f"[{mark}] {check.name}: {check.detail}")
        if not check.ok and check.fix:
            echo(f"       fix: {check.fix}")
    if not all(c.ok or c.optional for c in results):
        raise typer.Exit(EXIT_ENVIRONMENT)
