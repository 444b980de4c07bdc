"""`bots sandbox`: serve, seed and inspect the stand-in target systems."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from orchestrator.commands.shared import echo, print_json, settings

app = typer.Typer(
    name="sandbox", help="The stand-in target systems for training, tests and the demo."
)


@app.command("serve")
def sandbox_serve(
    port: Annotated[int | None, typer.Option(help="Port on 127.0.0.1 (default: settings).")] = None,
    fault_rate: Annotated[
        float | None, typer.Option(help="Share of requests answered with HTTP 503.")
    ] = None,
    latency_ms: Annotated[int | None, typer.Option(help="Delay of asynchronous loads.")] = None,
    reset: Annotated[bool, typer.Option(help="Seed fresh sample data first.")] = False,
) -> None:
    """Serve every registered stand-in (Civento, the Gewerberegister, ...) until Ctrl-C."""
    from sandbox.seed import seed_each
    from sandbox.server import serve

    effective = settings()
    changes = {
        k: v
        for k, v in {"port": port, "fault_rate": fault_rate, "latency_ms": latency_ms}.items()
        if v is not None
    }
    sandbox_settings = effective.sandbox.model_copy(update=changes)
    # Without --reset, only stand-ins not seeded yet are (e.g. one installed since).
    counts = seed_each(effective.sandbox_dir, sandbox_settings, reset=reset)
    if counts:
        echo(_seeded_line(counts, effective.sandbox_dir))
    echo(f"sandbox serving from {effective.sandbox_dir}:")
    serve(effective.sandbox_dir, sandbox_settings, announce=lambda line: echo(f"  {line}"))


@app.command("seed")
def sandbox_seed(
    cases: Annotated[int | None, typer.Option(help="How many new Gewerbeanmeldungen.")] = None,
) -> None:
    """Replace the sandbox's data with fresh, deterministic sample data."""
    from sandbox.seed import seed_each

    effective = settings()
    sandbox_settings = effective.sandbox
    if cases is not None:
        sandbox_settings = sandbox_settings.model_copy(update={"cases": cases})
    counts = seed_each(effective.sandbox_dir, sandbox_settings, reset=True)
    echo(_seeded_line(counts, effective.sandbox_dir))


def _seeded_line(counts: dict[str, int], sandbox_dir: Path) -> str:
    """``seeded 24 Vorgänge (civento), 10 Einträge (gewerberegister) into data/sandbox``."""
    from sandbox.standins import installed_standins

    units = {standin.name: standin.seed_unit for standin in installed_standins()}
    seeded = ", ".join(f"{count} {units[name]} ({name})" for name, count in counts.items())
    return f"seeded {seeded} into {sandbox_dir}"


@app.command("state")
def sandbox_state(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show what the stand-ins hold (works whether or not the sandbox is serving)."""
    from sandbox.state import format_state, read_state

    state = read_state(settings().sandbox_dir)
    if as_json:
        print_json(state)
    else:
        echo(format_state(state))
