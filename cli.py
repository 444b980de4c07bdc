"""The `bots` command: parse arguments, call the library, map errors to exit codes.

Exit codes: 0 success, 1 the bot failed, 2 invalid input or definition, 3 the machine lacks
something (browser, writable data directory), 70 an internal error (a bug: please report).
Nothing here does work of its own; every command has a library twin in ``orchestrator``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from orchestrator import errors
from orchestrator.errors import BotsError
from orchestrator.settings import Settings, load_settings

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_ENVIRONMENT, EXIT_INTERNAL = 0, 1, 2, 3, 70

app = typer.Typer(
    help="Run, check and inspect RPA bots for municipal casework.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
sandbox_app = typer.Typer(help="The stand-in target systems for training, tests and the demo.")
app.add_typer(sandbox_app, name="sandbox")


def _echo(text: str = "", *, err: bool = False) -> None:
    typer.echo(text, err=err)


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _settings(**overrides: Any) -> Settings:
    return load_settings(**overrides)


# --------------------------------------------------------------------------- bot definitions


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Bot directories, bot.yaml files or directories of bots."),
    ] = None,
) -> None:
    """Check bot files: YAML, schema, hooks, variables, secrets, includes, unique ids."""
    from orchestrator.model.loader import find_bots, validate_paths

    settings = _settings()
    targets = list(paths) if paths else [p for d in settings.bot_dirs for p in find_bots([d])]
    if not targets:
        raise errors.InputError(
            "no bots found (looked in: " + ", ".join(str(d) for d in settings.bot_dirs) + ")"
        )
    problems = validate_paths(targets)
    for problem in problems:
        _echo(str(problem), err=True)
    failed = [p for p in problems if p.severity == "error"]
    if failed:
        _echo(f"{len(failed)} problem(s) found", err=True)
        raise typer.Exit(EXIT_INPUT)
    _echo(f"ok: {len(targets)} path(s) checked, no errors")


@app.command()
def schema() -> None:
    """Print the JSON Schema of bot.yaml files (for editor autocompletion)."""
    from orchestrator.model.schema import bot_json_schema

    _print_json(bot_json_schema())


# --------------------------------------------------------------------------- running


def _parse_params(pairs: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise errors.ParameterError(f"parameter {pair!r} is not of the form key=value")
        params[key.strip()] = value
    return params


@app.command()
def run(
    bot: Annotated[str, typer.Argument(help="Bot id, or path of a bot directory.")],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Parameter as key=value.")
    ] = None,
    headed: Annotated[
        bool, typer.Option(help="Show the browser window (needs a display).")
    ] = False,
    trace: Annotated[
        str | None, typer.Option(help="Keep the Playwright trace: always, on_failure, never.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
) -> None:
    """Run a bot now, in this process, and record it in the run history."""
    from orchestrator.engine import run_bot
    from orchestrator.model.loader import resolve_bot
    from orchestrator.store import open_store

    overrides: dict[str, Any] = {}
    if trace is not None:
        if trace not in ("always", "on_failure", "never"):
            raise errors.InputError(f"--trace must be always, on_failure or never, not {trace!r}")
        overrides["trace"] = trace
    settings = _settings(**overrides)
    loaded = resolve_bot(bot, settings.bot_dirs)
    store = open_store(settings.database)
    try:
        with _progress(enabled=not as_json) as on_step:
            record = run_bot(
                loaded,
                settings=settings,
                store=store,
                params=_parse_params(param or []),
                trigger="cli",
                headed=headed or None,
                on_step=on_step,
            )
    finally:
        store.close()
    if as_json:
        _print_json(record.to_json(with_details=True))
    else:
        _print_run_summary(record, settings)
    if str(record.status) != "succeeded":
        raise typer.Exit(EXIT_FAILED)


def _progress(*, enabled: bool) -> Any:
    """A live one-line progress display on a TTY; nothing extra otherwise (log lines suffice)."""
    from contextlib import contextmanager

    @contextmanager
    def display() -> Any:
        if not (enabled and sys.stderr.isatty()):
            yield None
            return
        from rich.console import Console

        console = Console(stderr=True)
        count = 0
        with console.status("starting ...") as status:

            def on_step(step: Any) -> None:
                nonlocal count
                count += 1
                label = step.name or step.kind
                status.update(f"step {count}: {label} ({step.path}) {step.status}")

            yield on_step

    return display()


def _print_run_summary(record: Any, settings: Settings) -> None:
    duration = ""
    if record.started_at and record.finished_at:
        duration = f" in {(record.finished_at - record.started_at).total_seconds():.1f} s"
    _echo(f"run {record.id} of {record.bot} {record.version}: {record.status}{duration}")
    if record.error:
        where = f" at {record.error_step}" if record.error_step else ""
        _echo(f"  error{where}: {record.error}")
    for artifact in getattr(record, "artifacts", []):
        _echo(f"  {artifact.kind}: {artifact.path}")
    _echo(f"  details: bots show {record.id}")


# --------------------------------------------------------------------------- history


@app.command()
def history(
    bot: Annotated[str | None, typer.Argument(help="Only runs of this bot.")] = None,
    limit: Annotated[int, typer.Option(help="How many runs, newest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List past runs, newest first."""
    from orchestrator.store import open_store

    settings = _settings()
    store = open_store(settings.database)
    try:
        runs = store.list_runs(bot_id=bot, tenant=settings.tenant, limit=limit)
    finally:
        store.close()
    if as_json:
        _print_json([r.to_json() for r in runs])
        return
    if not runs:
        _echo("no runs yet")
        return
    for r in runs:
        started = r.started_at.strftime("%Y-%m-%d %H:%M:%S") if r.started_at else "-"
        _echo(f"{r.id:>6}  {started}  {r.status!s:<10} {r.bot} {r.version}  ({r.trigger})")


@app.command()
def show(
    run_id: Annotated[int, typer.Argument(help="Run id, as `bots history` lists it.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one run: parameters, steps, error and artifacts."""
    from orchestrator.store import open_store

    settings = _settings()
    store = open_store(settings.database)
    try:
        record = store.get_run(run_id, tenant=settings.tenant)
    finally:
        store.close()
    if as_json:
        _print_json(record.to_json(with_details=True))
        return
    _echo(f"run {record.id}: {record.bot} {record.version} ({record.digest[:12]})")
    _echo(f"  status:     {record.status}")
    _echo(f"  tenant:     {record.tenant}   trigger: {record.trigger}")
    _echo(f"  started:    {record.started_at}   finished: {record.finished_at}")
    _echo(f"  parameters: {json.dumps(record.parameters, ensure_ascii=False)}")
    if record.error:
        _echo(f"  error:      {record.error}")
        if record.error_step:
            _echo(f"  failed at:  {record.error_step}")
    _echo(f"  steps ({len(record.steps)}):")
    for s in record.steps:
        label = f" {s.name}" if s.name else ""
        msg = f" - {s.message}" if s.message else ""
        _echo(f"    {s.status!s:<9} {s.duration_ms:>6} ms  {s.path} {s.kind}{label}{msg}")
    if record.run_dir:
        _echo(f"  run dir:    {record.run_dir}")
    if record.artifacts:
        _echo("  artifacts:")
        for a in record.artifacts:
            _echo(f"    {a.kind!s:<10} {a.path}  sha256={a.sha256[:16]}…")


# --------------------------------------------------------------------------- sandbox


@sandbox_app.command("serve")
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

    settings = _settings()
    changes = {
        k: v
        for k, v in {"port": port, "fault_rate": fault_rate, "latency_ms": latency_ms}.items()
        if v is not None
    }
    sandbox_settings = settings.sandbox.model_copy(update=changes)
    if reset or not (settings.sandbox_dir / "sandbox.sqlite").exists():
        count = seed(settings.sandbox_dir, sandbox_settings, reset=True)
        _echo(f"seeded {count} Vorgänge into {settings.sandbox_dir}")
    base = f"http://{sandbox_settings.host}:{sandbox_settings.port}"
    _echo(f"sandbox: Civento {base}/civento  Gewerberegister {base}/gewerberegister")
    serve(settings.sandbox_dir, sandbox_settings)


@sandbox_app.command("seed")
def sandbox_seed(
    cases: Annotated[int | None, typer.Option(help="How many new Gewerbeanmeldungen.")] = None,
) -> None:
    """Replace the sandbox's data with fresh, deterministic sample data."""
    from sandbox.seed import seed

    settings = _settings()
    sandbox_settings = settings.sandbox
    if cases is not None:
        sandbox_settings = sandbox_settings.model_copy(update={"cases": cases})
    count = seed(settings.sandbox_dir, sandbox_settings, reset=True)
    _echo(f"seeded {count} Vorgänge into {settings.sandbox_dir}")


@sandbox_app.command("state")
def sandbox_state(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show what the target systems hold (works whether or not the sandbox is serving)."""
    from sandbox.state import format_state, read_state

    settings = _settings()
    state = read_state(settings.sandbox_dir)
    if as_json:
        _print_json(state)
    else:
        _echo(format_state(state))


# --------------------------------------------------------------------------- demo, doctor


@app.command()
def demo(
    headed: Annotated[bool, typer.Option(help="Show the browser window.")] = False,
) -> None:
    """Start the sandbox, seed it, run gewerbe-uebertragung, and show what happened."""
    from sandbox.demo import run_demo

    outcome = run_demo(_settings(), headed=headed, echo=_echo)
    if not outcome.succeeded:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def doctor() -> None:
    """Check this machine: browser, display, data directory, database; print fixes."""
    from orchestrator.doctor import run_checks

    results = run_checks(_settings())
    for check in results:
        mark = "ok  " if check.ok else "FAIL"
        _echo(f"[{mark}] {check.name}: {check.detail}")
        if not check.ok and check.fix:
            _echo(f"       fix: {check.fix}")
    if not all(c.ok or c.optional for c in results):
        raise typer.Exit(EXIT_ENVIRONMENT)


# --------------------------------------------------------------------------- entry point


def _exit_code(exc: BotsError) -> int:
    if isinstance(exc, errors.RunFailed):
        return EXIT_FAILED
    if isinstance(exc, errors.EnvironmentProblem):
        return EXIT_ENVIRONMENT
    return EXIT_INPUT


def main(argv: list[str] | None = None) -> NoReturn:
    """Console entry point: no traceback for anything the user can cause.

    Typer's standalone mode reports usage errors itself (exit 2) and exits via SystemExit.
    """
    try:
        app(args=argv)
    except BotsError as exc:
        _echo(f"error: {exc}", err=True)
        sys.exit(_exit_code(exc))
    except KeyboardInterrupt:
        _echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # our own bugs
        if os.environ.get("BOTS_DEBUG"):
            raise
        _echo(f"internal error ({type(exc).__name__}): {exc}", err=True)
        _echo("this is a bug; run again with BOTS_DEBUG=1 for details and report it", err=True)
        sys.exit(EXIT_INTERNAL)
    sys.exit(EXIT_OK)


if __name__ == "__main__":
    main()
