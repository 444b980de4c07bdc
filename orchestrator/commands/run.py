"""Top-level commands on bots and their runs: validate, schema, run, history, show."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from orchestrator import errors, presenters
from orchestrator.commands.shared import (
    EXIT_FAILED,
    EXIT_INPUT,
    TenantOption,
    echo,
    print_json,
    print_listing,
    service_context,
    settings,
)
from orchestrator.presenters import ItemProgress

if TYPE_CHECKING:
    from orchestrator.results import RunRecord, StepRecord
    from orchestrator.services import Context

app = typer.Typer()


# --------------------------------------------------------------------------- bot definitions


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Bot directories, bot.yaml files or directories of bots."),
    ] = None,
    catalog: Annotated[
        bool,
        typer.Option(
            "--catalog",
            help="Also check the catalog (setting catalog_file): schema, bot paths, versions, "
            "installations, and that no published bot changed without a version bump.",
        ),
    ] = False,
) -> None:
    """Check bot files: YAML, schema, hooks, variables, secrets, includes, unique ids."""
    from orchestrator.model.loader import find_bots, validate_paths

    effective = settings()
    bot_dirs = effective.bot_dirs
    targets = list(paths) if paths else [p for d in bot_dirs for p in find_bots([d])]
    if not targets:
        raise errors.InputError(
            "no bots found (looked in: " + ", ".join(str(d) for d in bot_dirs) + ")"
        )
    problems = validate_paths(targets)
    checked = f"{len(targets)} path(s)"
    if catalog:
        from orchestrator.catalog.loading import check_catalog, shown_path
        from orchestrator.catalog.overlays import check_overlays

        problems += check_catalog(effective.catalog_file)
        problems += check_overlays(effective.catalog_file)  # the cities' overlays
        checked += f" and the catalog {shown_path(effective.catalog_file)}"
    for problem in problems:
        echo(str(problem), err=True)
    failed = [p for p in problems if p.severity == "error"]
    if failed:
        echo(f"{len(failed)} problem(s) found", err=True)
        raise typer.Exit(EXIT_INPUT)
    echo(f"ok: {checked} checked, no errors")


@app.command()
def schema() -> None:
    """Print the JSON Schema of bot.yaml files (for editor autocompletion)."""
    from orchestrator.model.schema import bot_json_schema

    print_json(bot_json_schema())


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
    tenant: TenantOption = None,
    enqueue: Annotated[
        bool, typer.Option("--enqueue", help="Queue the run for a robot instead of running here.")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="With --enqueue: wait for the run's end, exit with it.")
    ] = False,
    no_retry: Annotated[
        bool,
        typer.Option("--no-retry", help="One attempt only, whatever the bot's retries say."),
    ] = False,
) -> None:
    """Run a bot now, in this process, and record it in the run history.

    A failed attempt is retried here as the bot's execution.retries say (after the backoff),
    unless --no-retry. Exits 75 without touching any system when another run holds the bot
    (or a pool it needs is full). With --enqueue a robot runs it; --wait then waits for the
    outcome, following retries.
    """
    from orchestrator.services import runs

    overrides: dict[str, Any] = {}
    if trace is not None:
        if trace not in ("always", "on_failure", "never"):
            raise errors.InputError(f"--trace must be always, on_failure or never, not {trace!r}")
        overrides["trace"] = trace
    if tenant is not None:
        overrides["tenant"] = tenant
    if wait and not enqueue:
        raise errors.InputError("--wait goes with --enqueue (a run here always waits)")
    params = _parse_params(param or [])
    with service_context(**overrides) as ctx:
        if enqueue:
            _enqueue(ctx, bot, params, tenant=tenant, wait=wait, as_json=as_json)
            return
        with _progress(enabled=not as_json) as on_step:
            record = runs.run_here(
                ctx,
                bot,
                params,
                tenant=tenant,
                headed=headed or None,
                on_step=on_step,
                on_retry=_announce_retry,
                retry=not no_retry,
            )
    _print_outcome(record, as_json=as_json)


def _announce_retry(record: RunRecord, backoff_s: float) -> None:
    echo(
        f"run {record.id} {record.status}: {record.error}; next attempt in {backoff_s:g} s",
        err=True,
    )


def _enqueue(
    ctx: Context, bot: str, params: dict[str, str], *, tenant: str | None, wait: bool, as_json: bool
) -> None:
    from orchestrator.services import runs

    run_id, where = runs.enqueue_run(ctx, bot, params, tenant=tenant)
    if not wait:
        if as_json:
            print_json({"id": run_id, "status": "queued"})
        else:
            echo(f"run {run_id} queued; follow it with: bots show {run_id}")
        return
    record = runs.follow_run(
        ctx,
        run_id,
        tenant=where,
        on_retry=lambda ended, retry: echo(
            f"run {ended} ended; following its retry, run {retry}", err=True
        ),
    )
    _print_outcome(record, as_json=as_json)


def _print_outcome(record: RunRecord, *, as_json: bool) -> None:
    """The ended run as JSON or a summary; exit 1 unless it succeeded."""
    if as_json:
        print_json(presenters.run_as_json(record, details=True))
    else:
        for line in presenters.run_summary(record):
            echo(line)
    if str(record.status) != "succeeded":
        raise typer.Exit(EXIT_FAILED)


@contextmanager
def _progress(*, enabled: bool) -> Iterator[Callable[[StepRecord], None] | None]:
    """A live one-line progress display on a TTY; nothing extra otherwise (log lines suffice)."""
    if not (enabled and sys.stderr.isatty()):
        yield None
        return
    from rich.console import Console

    count = 0
    items = ItemProgress()
    with Console(stderr=True).status("starting ...") as status:

        def on_step(step: StepRecord) -> None:
            nonlocal count
            if step.kind == "work_item":
                status.update(items.add(step))
                return
            count += 1
            label = step.name or step.kind
            status.update(f"{items.line()}step {count}: {label} ({step.path}) {step.status}")

        yield on_step


# --------------------------------------------------------------------------- history


@app.command()
def history(
    bot: Annotated[str | None, typer.Argument(help="Only runs of this bot.")] = None,
    limit: Annotated[int, typer.Option(help="How many runs, newest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
    tenant: TenantOption = None,
) -> None:
    """List past runs of the tenant, newest first."""
    list_runs(bot=bot, status=None, tenant=tenant, limit=limit, as_json=as_json)


def list_runs(
    *,
    bot: str | None,
    status: str | None,
    tenant: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Print the tenant's runs, newest first (``bots history`` and ``bots runs list``)."""
    from orchestrator.results import RunStatus
    from orchestrator.services import runs

    if status is not None and status not in set(RunStatus):
        choices = ", ".join(RunStatus)
        raise errors.InputError(f"--status must be one of {choices}, not {status!r}")
    with service_context() as ctx:
        found = runs.list_runs(
            ctx, bot=bot, status=RunStatus(status) if status else None, limit=limit, tenant=tenant
        )
    print_listing(
        found,
        as_json=as_json,
        to_json=presenters.run_as_json,
        lines=presenters.run_line,
        empty="no runs yet",
    )


@app.command()
def show(
    run_id: Annotated[int, typer.Argument(help="Run id, as `bots history` lists it.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    tenant: TenantOption = None,
) -> None:
    """Show one run: parameters, steps, error and artifacts."""
    from orchestrator.services import runs

    with service_context() as ctx:
        record = runs.get_run(ctx, run_id, tenant)
    if as_json:
        print_json(presenters.run_as_json(record, details=True))
        return
    max_losses = ctx.settings.orchestrator.max_robot_losses
    for line in presenters.run_details(record, max_robot_losses=max_losses):
        echo(line)
