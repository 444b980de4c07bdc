"""`bots sandbox`: serve, seed and inspect the stand-in target systems."""

from __future__ import annotations

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
    """Serve Civento and the Gewerberegister stand-ins until Ctrl-C."""
    from sandbox.seed import seed
    from sandbox.server import serve

    effective = settings()
    changes = {
        k: v
        for k, v in {"port": port, "fault_rate": fault_rate, "latency_ms": latency_ms}.items()
        if v is not None
    }
    sandbox_settings = effective.sandbox.model_copy(update=changes)
    if reset or not (effective.sandbox_dir / "sandbox.sqlite").exists():
        count = seed(effective.sandbox_dir, sandbox_settings, reset=True)
        echo(f"seeded {count} Vorgänge into {effective.sandbox_dir}")
    base = f"http://{sandbox_settings.host}:{sandbox_settings.port}"
    echo(f"sandbox: Civento {base}/civento  Gewerberegister {base}/gewerberegister")
    serve(effective.sandbox_dir, sandbox_settings)


@app.command("seed")
def sandbox_seed(
    cases: Annotated[int | None, typer.Option(help="How many new Gewerbeanmeldungen.")] = None,
) -> None:
    """Replace the sandbox's data with fresh, deterministic sample data."""
    from sandbox.seed import seed

    effective = settings()
    sandbox_settings = effective.sandbox
    if cases is not None:
        sandbox_settings = sandbox_settings.model_copy(update={"cases": cases})
    count = seed(effective.sandbox_dir, sandbox_settings, reset=True)
    echo(f"seeded {count} Vorgänge into {effective.sandbox_dir}")


@app.command("state")
def sandbox_state(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show what the target systems hold (works whether or not the sandbox is serving)."""
    from sandbox.state import format_state, read_state

    state = read_state(settings().sandbox_dir)
    if as_json:
        print_json(state)
    else:
        echo(format_state(state))
