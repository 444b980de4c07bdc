"""The `bots` command: parse arguments, call the library, map errors to exit codes.

Exit codes: 0 success, 1 the bot failed (or `bots audit verify` found tampering), 2 invalid
input or definition, 3 the machine lacks something (browser, writable data directory), 70 an
internal error (a bug: please report), 75 the bot is busy (another run holds it, or a pool it
needs is full: try again later; cron jobs may treat it as "skipped").
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
from orchestrator.results import iso_or_none as iso
from orchestrator.settings import Settings, load_settings

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_ENVIRONMENT, EXIT_INTERNAL = 0, 1, 2, 3, 70
EXIT_BUSY = 75  # EX_TEMPFAIL from sysexits.h

app = typer.Typer(
    help="Run, check and inspect RPA bots for municipal casework.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
sandbox_app = typer.Typer(help="The stand-in target systems for training, tests and the demo.")
app.add_typer(sandbox_app, name="sandbox")
runs_app = typer.Typer(help="Runs of all bots: list, cancel, retry.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")
schedule_app = typer.Typer(help="Schedules from the configuration.", no_args_is_help=True)
app.add_typer(schedule_app, name="schedule")
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
robot_app = typer.Typer(help="Robots: workers that execute queued runs.", no_args_is_help=True)
app.add_typer(robot_app, name="robot")
orchestrator_app = typer.Typer(help="Scheduling and lost-run detection.", no_args_is_help=True)
app.add_typer(orchestrator_app, name="orchestrator")

TenantOption = Annotated[
    str | None, typer.Option("--tenant", help="The tenant (city); default: setting `tenant`.")
]


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
    from orchestrator.engine import run_with_retries
    from orchestrator.model.loader import resolve_bot
    from orchestrator.store import open_store

    overrides: dict[str, Any] = {}
    if trace is not None:
        if trace not in ("always", "on_failure", "never"):
            raise errors.InputError(f"--trace must be always, on_failure or never, not {trace!r}")
        overrides["trace"] = trace
    if tenant is not None:
        overrides["tenant"] = tenant
    if wait and not enqueue:
        raise errors.InputError("--wait goes with --enqueue (a run here always waits)")
    settings = _settings(**overrides)
    loaded = resolve_bot(bot, settings.bot_dirs)
    if enqueue:
        _enqueue(loaded, settings, _parse_params(param or []), wait=wait, as_json=as_json)
        return
    store = open_store(settings.database)
    try:
        with _progress(enabled=not as_json) as on_step:
            record = run_with_retries(
                loaded,
                settings=settings,
                store=store,
                params=_parse_params(param or []),
                trigger="cli",
                headed=headed or None,
                on_step=on_step,
                on_retry=_announce_retry,
                retry=not no_retry,
            )
    finally:
        store.close()
    if as_json:
        _print_json(record.to_json(with_details=True))
    else:
        _print_run_summary(record, settings)
    if str(record.status) != "succeeded":
        raise typer.Exit(EXIT_FAILED)


def _announce_retry(record: Any, backoff_s: float) -> None:
    _echo(
        f"run {record.id} {record.status}: {record.error}; next attempt in {backoff_s:g} s",
        err=True,
    )


def _enqueue(
    loaded: Any, settings: Settings, params: dict[str, str], *, wait: bool, as_json: bool
) -> None:
    import time

    from orchestrator.engine.runner import user_actor
    from orchestrator.requests import run_request
    from orchestrator.store import open_store

    request = run_request(
        loaded,
        settings=settings,
        tenant=settings.tenant,
        params=params,
        trigger="cli",
        actor=user_actor(),
    )
    with open_store(settings.database) as store:
        run_id = store.enqueue(request)
        if not wait:
            if as_json:
                _print_json({"id": run_id, "status": "queued"})
            else:
                _echo(f"run {run_id} queued; follow it with: bots show {run_id}")
            return
        while True:  # until the run, or the last of its retries, ended
            while not store.get_run(
                run_id, tenant=settings.tenant, details=False
            ).status.is_terminal:
                time.sleep(0.5)
            retry_id = store.retry_of(run_id, tenant=settings.tenant)
            if retry_id is None:
                break
            _echo(f"run {run_id} ended; following its retry, run {retry_id}", err=True)
            run_id = retry_id
        record = store.get_run(run_id, tenant=settings.tenant)
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
    tenant: TenantOption = None,
) -> None:
    """List past runs of the tenant, newest first."""
    _list_runs(bot=bot, status=None, tenant=tenant, limit=limit, as_json=as_json)


def _list_runs(
    *, bot: str | None, status: str | None, tenant: str | None, limit: int, as_json: bool
) -> None:
    from orchestrator.results import RunStatus
    from orchestrator.store import open_store

    if status is not None and status not in set(RunStatus):
        choices = ", ".join(RunStatus)
        raise errors.InputError(f"--status must be one of {choices}, not {status!r}")
    settings = _settings()
    with open_store(settings.database) as store:
        runs = store.list_runs(
            bot_id=bot,
            tenant=tenant or settings.tenant,
            status=RunStatus(status) if status else None,
            limit=limit,
        )
    if as_json:
        _print_json([r.to_json() for r in runs])
        return
    if not runs:
        _echo("no runs yet")
        return
    for r in runs:
        started = r.started_at.strftime("%Y-%m-%d %H:%M:%S") if r.started_at else "-"
        _echo(
            f"{r.id:>6}  {started}  {r.status!s:<10} {r.bot} {r.version}  ({r.trigger})"
            f"{_queue_note(r)}"
        )


def _queue_note(record: Any) -> str:
    """What the queue adds to a run's line: attempt, robot losses, holder, not before."""
    parts = []
    if record.attempt > 1 or record.max_attempts > 1:
        parts.append(f"attempt {record.attempt} of {record.max_attempts}")
    if record.robot_losses:
        parts.append(f"robot lost {record.robot_losses}x")
    if record.holder and record.status in ("claimed", "running"):
        until = record.lease_expires_at
        parts.append(f"held by {record.holder}" + (f" until {until.isoformat()}" if until else ""))
    if record.status == "queued" and record.not_before is not None:
        parts.append(f"not before {record.not_before.isoformat()}")
    return "  [" + ", ".join(parts) + "]" if parts else ""


@app.command()
def show(
    run_id: Annotated[int, typer.Argument(help="Run id, as `bots history` lists it.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    tenant: TenantOption = None,
) -> None:
    """Show one run: parameters, steps, error and artifacts."""
    from orchestrator.store import open_store

    settings = _settings()
    store = open_store(settings.database)
    try:
        record = store.get_run(run_id, tenant=tenant or settings.tenant)
    finally:
        store.close()
    if as_json:
        _print_json(record.to_json(with_details=True))
        return
    _echo(f"run {record.id}: {record.bot} {record.version} ({record.digest[:12]})")
    _echo(f"  status:     {record.status}")
    _echo(f"  tenant:     {record.tenant}   trigger: {record.trigger}")
    _echo(f"  created:    {iso(record.created_at)}")
    _echo(f"  started:    {iso(record.started_at)}   finished: {iso(record.finished_at)}")
    _echo(
        f"  attempt:    {record.attempt} of {record.max_attempts} "
        f"({record.retries_left} retries left)   robot losses: {record.robot_losses}"
        f" (at most {settings.orchestrator.max_robot_losses} re-queues)"
    )
    if record.retry_of is not None:
        _echo(f"  retry of:   run {record.retry_of}")
    if record.holder and record.status in ("claimed", "running"):
        _echo(f"  holder:     {record.holder}   lease until: {iso(record.lease_expires_at)}")
    if record.status == "queued" and record.not_before is not None:
        _echo(f"  not before: {iso(record.not_before)}")
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


# --------------------------------------------------------------------------- runs


@runs_app.command("list")
def runs_list(
    status: Annotated[str | None, typer.Option(help="Only runs in this status.")] = None,
    bot: Annotated[str | None, typer.Option(help="Only runs of this bot.")] = None,
    limit: Annotated[int, typer.Option(help="How many runs, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
    tenant: TenantOption = None,
) -> None:
    """List runs of the tenant (queued, running and ended), newest first."""
    _list_runs(bot=bot, status=status, tenant=tenant, limit=limit, as_json=as_json)


@runs_app.command("cancel")
def runs_cancel(
    run_id: Annotated[int, typer.Argument(help="Run id.")],
    tenant: TenantOption = None,
) -> None:
    """Cancel a run: a queued one at once, a running one at its next step."""
    from orchestrator.engine.runner import user_actor
    from orchestrator.results import RunStatus
    from orchestrator.store import open_store

    settings = _settings()
    with open_store(settings.database) as store:
        outcome = store.cancel(run_id, tenant=tenant or settings.tenant, actor=user_actor())
    if outcome == RunStatus.RUNNING:
        _echo(f"run {run_id} is running; it stops at its next step")
    else:
        _echo(f"run {run_id} cancelled")


@runs_app.command("retry")
def runs_retry(
    run_id: Annotated[int, typer.Argument(help="Id of an ended run.")],
    tenant: TenantOption = None,
) -> None:
    """Queue a new run with the same bot and parameters as an ended one."""
    from orchestrator.engine.runner import user_actor
    from orchestrator.store import open_store

    settings = _settings()
    with open_store(settings.database) as store:
        new_id = store.retry(run_id, tenant=tenant or settings.tenant, actor=user_actor())
    _echo(f"run {new_id} queued (retry of run {run_id})")


# --------------------------------------------------------------------------- schedules


@schedule_app.command("list")
def schedule_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
    tenant: TenantOption = None,
) -> None:
    """List the tenant's schedules with their next firing and whether they are paused."""
    from orchestrator.scheduler import list_schedules
    from orchestrator.store import open_store

    settings = _settings()
    with open_store(settings.database) as store:
        infos = list_schedules(settings, store, tenant or settings.tenant)
    if as_json:
        _print_json([_jsonable(info) for info in infos])
        return
    if not infos:
        _echo("no schedules configured for this tenant")
    for info in infos:
        state = "paused" if info.paused else ("disabled" if not info.enabled else "active")
        nxt = info.next_fire_at.isoformat(timespec="minutes") if info.next_fire_at else "-"
        _echo(f"{info.name:<24} {state:<8} {info.cron:<20} {info.bot}  next: {nxt}")


def _jsonable(record: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return {
        key: value.isoformat() if hasattr(value, "isoformat") else value
        for key, value in asdict(record).items()
    }


@schedule_app.command("pause")
def schedule_pause(
    name: Annotated[str, typer.Argument(help="Schedule name.")], tenant: TenantOption = None
) -> None:
    """Pause a schedule: its firings are skipped (and logged) until it is resumed."""
    _set_paused(name, tenant, paused=True)


@schedule_app.command("resume")
def schedule_resume(
    name: Annotated[str, typer.Argument(help="Schedule name.")], tenant: TenantOption = None
) -> None:
    """Resume a paused schedule from its next firing."""
    _set_paused(name, tenant, paused=False)


def _set_paused(name: str, tenant: str | None, *, paused: bool) -> None:
    from orchestrator.engine.runner import user_actor
    from orchestrator.scheduler import pause_schedule, resume_schedule
    from orchestrator.store import open_store

    settings = _settings()
    change = pause_schedule if paused else resume_schedule
    with open_store(settings.database) as store:
        change(settings, store, tenant or settings.tenant, name, user_actor())
    _echo(f"schedule {name} {'paused' if paused else 'resumed'}")


# --------------------------------------------------------------------------- audit


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the whole hash chain, and against the heads noted down in the anchors file;
    name the first altered, inserted or deleted entry."""
    from orchestrator.store import open_store, read_anchors

    settings = _settings()
    anchors = read_anchors(settings.audit_anchors_file)
    with open_store(settings.database) as store:
        check = store.verify_audit(anchors)
    if not check.ok:
        _echo(f"audit trail broken at entry {check.first_bad_seq}: {check.problem}", err=True)
        _echo(f"({check.checked} entries before it are intact)", err=True)
        raise typer.Exit(EXIT_FAILED)
    agreed = f"; {len(anchors)} anchors agree" if anchors else "; no anchors noted yet"
    _echo(f"ok: {check.checked} entries checked, head {check.head_hash}{agreed}")


@audit_app.command("anchor")
def audit_anchor() -> None:
    """Verify the trail, then note its head down in the anchors file (e.g. from cron)."""
    from orchestrator.store import note_anchor, open_store, read_anchors

    settings = _settings()
    path = settings.audit_anchors_file
    with open_store(settings.database) as store:
        check = store.verify_audit(read_anchors(path))
        if not check.ok:
            _echo(f"audit trail broken at entry {check.first_bad_seq}: {check.problem}", err=True)
            _echo("nothing noted down: a broken head is no anchor", err=True)
            raise typer.Exit(EXIT_FAILED)
        anchor = note_anchor(path, store.audit_head())
    if anchor is None:
        _echo(f"nothing new to note: the head is in {path} already (or the trail is empty)")
        return
    _echo(f"noted entry {anchor.seq} (hash {anchor.hash}) in {path}")


@audit_app.command("export")
def audit_export(
    since: Annotated[
        str | None, typer.Option(help="Only entries at or after this ISO date or time.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")
    ] = None,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's entries.")] = None,
) -> None:
    """Write audit entries as JSON lines (for the data protection officer or an archive)."""
    from datetime import UTC, datetime

    from orchestrator.store import open_store

    start = None
    if since is not None:
        try:
            start = datetime.fromisoformat(since)
        except ValueError:
            raise errors.InputError(
                f"--since {since!r} is not an ISO date or time, e.g. 2026-11-01 or "
                "2026-11-01T08:00+01:00"
            ) from None
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
    settings = _settings()
    with open_store(settings.database) as store:
        lines = (
            json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"
            for entry in store.export_audit(since=start, tenant=tenant)
        )
        if output is None:
            for line in lines:
                sys.stdout.write(line)
            return
        partial = output.with_name(output.name + ".partial")
        with partial.open("w", encoding="utf-8") as handle:
            handle.writelines(lines)
        partial.replace(output)  # never a half-written export under the real name


# --------------------------------------------------------------------------- robots


def _csv(value: str | None) -> list[str] | None:
    return [part.strip() for part in value.split(",") if part.strip()] if value else None


@robot_app.command("list")
def robot_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List robots: name, instance, labels, tenants, last heartbeat, runs held, alive or gone.

    A robot is alive while it has not stopped, its heartbeat is younger than the lease
    (``orchestrator.lease_s``) and, on this host, its process runs; otherwise it is gone.
    """
    from datetime import UTC, datetime

    from orchestrator.robot_identity import still_alive
    from orchestrator.store import open_store

    settings = _settings()
    with open_store(settings.database) as store:
        robots = store.list_robots()
        held = store.runs_held()
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for robot in robots:
        age = (now - robot.heartbeat_at).total_seconds()
        # The rule a restart under the name applies: heartbeat, and on this host the process.
        lease_s = settings.orchestrator.lease_s
        alive = robot.stopped_at is None and still_alive(robot, lease_s) is not None
        holders = [h for h in (robot.instance, robot.name) if h]
        rows.append(
            {
                "name": robot.name,
                "instance": robot.instance,
                "state": "alive" if alive else "gone",
                "labels": robot.labels,
                "tenants": robot.tenants,
                "concurrency": robot.concurrency,
                "host": robot.host,
                "pid": robot.pid,
                "started_at": iso(robot.started_at),
                "heartbeat_at": iso(robot.heartbeat_at),
                "heartbeat_age_s": round(age, 1),
                "stopped_at": iso(robot.stopped_at),
                "runs": sorted(run for h in holders for run in held.get(h, [])),
            }
        )
    if as_json:
        _print_json(rows)
        return
    if not rows:
        _echo("no robots registered yet")
        return
    for row in rows:
        runs = ", ".join(map(str, row["runs"])) or "-"
        _echo(
            f"{row['name']}  {row['state']:<5}  instance {row['instance'] or '-'}  "
            f"host {row['host']} pid {row['pid']}  heartbeat {row['heartbeat_at']} "
            f"({row['heartbeat_age_s']:g} s ago)"
        )
        _echo(
            f"    labels {','.join(row['labels']) or '-'}  tenants {','.join(row['tenants'])}"
            f"  runs held: {runs}"
        )


@robot_app.command("start")
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
    """Claim and execute queued runs until SIGTERM (then finish or hand back, exit 0)."""
    from orchestrator.robot import serve

    code = serve(
        _settings(),
        name=name,
        labels=_csv(labels),
        tenants=_csv(tenants),
        concurrency=concurrency,
    )
    raise typer.Exit(code)


@orchestrator_app.command("start")
def orchestrator_start() -> None:
    """Schedule runs (when this instance holds the leader lease) and find lost runs."""
    from orchestrator.scheduler import serve

    raise typer.Exit(serve(_settings()))


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
    if isinstance(exc, errors.BotBusy | errors.RobotNameTaken):
        return EXIT_BUSY
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
