"""Run a bot once: check inputs, record the run, interpret the steps, keep the evidence.

:func:`run_bot` is the programmatic twin of ``bots run``::

    record = run_bot(loaded, settings=settings, store=store, params={"max_cases": "5"})
    record.status   # RunStatus.SUCCEEDED, or FAILED with record.error / record.error_step

Input problems (parameters, targets, secrets) raise before a run is recorded, and so does
:class:`~orchestrator.errors.BotBusy` when another run holds the bot (no-overlap rule) or a
pool it needs is full. A bot that fails does not raise: the returned record says FAILED (or
TIMED_OUT, CANCELLED), and the run directory holds the evidence: screenshot, page HTML, URL,
trace (as configured) and the JSON log, all scrubbed of secrets and hashed. Ctrl-C and
SIGTERM mark the run CANCELLED, close the browser and re-raise :class:`KeyboardInterrupt`.

Failure evidence shows the first failure, not the last: ``failure.png``, ``failure.html`` and
``failure-url.txt`` are captured when the failure chain that failed the run began, before
``on_error`` steps or retries changed the page (see :mod:`orchestrator.engine.interpreter`);
``failure-final.*`` is the page when the run ended,
kept when the run stopped at another step and the page differs. The run's ``error`` names the
first cause and ``error_step`` is its step (``docs/bot-language.md``)::

    error:      <last error> (stopped at <last step>; first failure at <first step>: <reason>)
    error_step: <first step>

The parenthesis is left out when the first failure is the last one's step; ``stopped at`` when
the last error names its step already (a timeout), ``: <reason>`` when the last error quotes it.

The bot's ``finally`` steps run after its steps, whether they succeeded or failed; after a
timeout or cancellation with a budget of their own (:data:`FINALLY_GRACE_S`); not after Ctrl-C
or SIGTERM. As a failing suite teardown in Robot Framework does, a failure in ``finally`` fails
a run that had succeeded; the error and evidence of a run that had failed stay its own.

A standalone run (``bots run``) goes queued -> claimed -> running in one transaction and
renews its own lease while it runs, so a killed process leaves a run that the orchestrator
finds and marks lost. A robot passes the run it claimed (``claimed=``) and renews the lease
itself.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from connectors.base import ConnectorError
from orchestrator.engine.artifacts import ArtifactKeeper, scrub_file
from orchestrator.engine.context import RunContext
from orchestrator.engine.credentials import harvest_cookies
from orchestrator.engine.evidence import PageCapture
from orchestrator.engine.history import StepWriter
from orchestrator.engine.inputs import coerce_params, resolve_targets
from orchestrator.engine.interpreter import FirstFailure, Interpreter, RunCancelled, RunTimedOut
from orchestrator.engine.runlog import RunLog
from orchestrator.engine.secrets import EnvSecretProvider, Redactor, SecretProvider, SecretValue
from orchestrator.errors import (
    BotBusy,
    BotsError,
    EnvironmentProblem,
    InvalidTransition,
    StepFailed,
)
from orchestrator.results import ArtifactKind, RunRecord, RunStatus, StepRecord
from orchestrator.settings import Settings

if TYPE_CHECKING:
    from connectors.browser import BrowserSession
    from orchestrator.model.loader import LoadedBot
    from orchestrator.store import ClaimedRun, RunRequest, RunStore

ARTIFACT_TIMEOUT_S = 10.0
# A capture at a failure inside the run takes the run's time: the screenshot gets less.
FIRST_FAILURE_CAPTURE_S = 5.0
#: Seconds the `finally` steps get after a timeout or cancellation, and at least otherwise;
#: well below the robot's watchdog grace, so the run still ends by itself. (The model's
#: `finally` description and docs/bot-language.md say 10 s.)
FINALLY_GRACE_S = 10.0
# Given a run's outcome, the request for its next attempt, or None.
NextAttempt = Callable[[RunStatus], "RunRequest | None"]


def run_bot(
    bot: LoadedBot,
    *,
    settings: Settings,
    store: RunStore,
    params: dict[str, Any] | None = None,
    trigger: str = "cli",
    headed: bool | None = None,
    secrets: SecretProvider | None = None,
    on_step: Callable[[StepRecord], None] | None = None,
    actor: str | None = None,
    claimed: ClaimedRun | None = None,
    holder: str | None = None,
    cancel: threading.Event | None = None,
    next_attempt: NextAttempt | None = None,
    attempt: int = 1,
    retry_of: int | None = None,
) -> RunRecord:
    """Run ``bot`` once and return its record from the run history.

    Args:
        bot: The loaded bot.
        settings: Effective settings (data dir, targets, timeouts, trace mode, browser).
        store: The run history.
        params: Parameter values; strings are coerced to the declared types.
        trigger: Who started the run (``cli``, ``schedule``, ``benchmark``, ...).
        headed: Show the browser window; None: ``not settings.headless``.
        secrets: Where secret values come from; default: ``BOTS_SECRET_<NAME>``.
        on_step: Called with every recorded step (progress displays).
        actor: Who started it, for the audit trail; default ``user:<login>@<host>``.
        claimed: A run a robot claimed: it is executed instead of a new one being recorded;
            input problems then end it as failed instead of raising, and the returned record
            carries no steps and artifacts (``store.get_run`` has them).
        holder: Who holds the run's lease; default ``cli:<host>:<pid>``.
        cancel: Set it to stop the run between steps (recorded as cancelled).
        next_attempt: Called with the outcome; the request it returns (a retry) is queued in
            the transaction that records the outcome, so no crash comes between the two.
        attempt: Which attempt this standalone run is (``retry_of`` the one before it).
        retry_of: The run this one retries.

    Raises:
        ParameterError: a parameter is unknown, missing or of the wrong type.
        ConfigError: a declared target has no URL.
        SecretMissing: a declared secret has no value.
        BotBusy: another run holds the bot, or a pool it needs is full (nothing recorded).
        EnvironmentProblem: the browser cannot start (the run is recorded as failed).
        KeyboardInterrupt: Ctrl-C or SIGTERM (the run is recorded as cancelled).
    """
    holder = holder or f"cli:{socket.gethostname()}:{os.getpid()}"
    if claimed is not None:
        return _run_claimed(
            bot,
            claimed,
            settings=settings,
            store=store,
            holder=holder,
            headed=headed,
            secrets=secrets,
            on_step=on_step,
            cancel=cancel,
            next_attempt=next_attempt,
        )
    from orchestrator.requests import run_request

    definition = bot.definition
    values = coerce_params(definition.parameters, params or {})
    targets = resolve_targets(definition, settings)
    provider = secrets if secrets is not None else EnvSecretProvider(tenant=settings.tenant)
    secret_values = {name: provider.get(name) for name in definition.secrets}
    redactor = Redactor(secret_values.values())
    request = run_request(
        bot,
        settings=settings,
        tenant=settings.tenant,
        params=redactor.redact_data(values),
        trigger=trigger,
        actor=actor or user_actor(),
        retry_of=retry_of,
        attempt=attempt,
    )
    lease_s = settings.orchestrator.lease_s
    run_id = store.start_standalone(
        request,
        holder=holder,
        lease_s=lease_s,
        pool_limits=settings.pools_for(settings.tenant),
        max_losses=settings.orchestrator.max_robot_losses,
    )
    cancel = cancel if cancel is not None else threading.Event()
    with _LeaseKeeper(store, holder, run_id, lease_s, cancel):
        return _start(
            bot,
            run_id,
            settings=settings,
            store=store,
            holder=holder,
            values=values,
            targets=targets,
            secret_values=secret_values,
            redactor=redactor,
            headed=headed,
            on_step=on_step,
            cancel=cancel,
            next_attempt=next_attempt,
            attempt=attempt,
        )


def run_with_retries(
    bot: LoadedBot,
    *,
    settings: Settings,
    store: RunStore,
    params: dict[str, Any] | None = None,
    trigger: str = "cli",
    on_retry: Callable[[RunRecord, float], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    retry: bool = True,
    **options: Any,
) -> RunRecord:
    """Run ``bot`` standalone like :func:`run_bot`, retrying as ``execution.retries`` says.

    A failed or timed-out attempt is followed, after the backoff, by a new run (trigger
    ``retry``, ``retry_of`` the one before); the last attempt's record is returned.
    ``on_retry(record, backoff_s)`` is told before each wait. If another run holds the bot
    when a retry is due, that run does the work: the failed record is returned. ``retry``
    False: one attempt only.

    Example: ``run_with_retries(bot, settings=settings, store=store).status``.

    Raises:
        As :func:`run_bot`, for the first attempt.
    """
    from orchestrator.requests import RETRIED, retry_backoff_s

    retries = bot.definition.execution.retries
    record = run_bot(bot, settings=settings, store=store, params=params, trigger=trigger, **options)
    attempt = 1
    while retry and record.status in RETRIED:
        backoff_s = retry_backoff_s(retries, attempt)
        if backoff_s is None:
            break
        if on_retry is not None:
            on_retry(record, backoff_s)
        sleep(backoff_s)
        attempt += 1
        try:
            record = run_bot(
                bot,
                settings=settings,
                store=store,
                params=params,
                trigger="retry",
                attempt=attempt,
                retry_of=record.id,
                **options,
            )
        except BotBusy:
            break
    return record


def _run_claimed(
    bot: LoadedBot,
    claimed: ClaimedRun,
    *,
    settings: Settings,
    store: RunStore,
    holder: str,
    headed: bool | None,
    secrets: SecretProvider | None,
    on_step: Callable[[StepRecord], None] | None,
    cancel: threading.Event | None,
    next_attempt: NextAttempt | None,
) -> RunRecord:
    """Execute a run a robot claimed; anything wrong with its inputs ends it as failed."""
    run_dir = settings.runs_dir / str(claimed.id)
    store.mark_running(claimed.id, holder=holder, bot_digest=bot.digest, run_dir=str(run_dir))
    definition = bot.definition
    try:
        values = coerce_params(definition.parameters, claimed.parameters)
        targets = resolve_targets(definition, settings)
        provider = secrets if secrets is not None else EnvSecretProvider(tenant=settings.tenant)
        secret_values = {name: provider.get(name) for name in definition.secrets}
    except BotsError as exc:
        retry = next_attempt(RunStatus.FAILED) if next_attempt is not None else None
        store.finish_run(
            claimed.id,
            RunStatus.FAILED,
            error=f"cannot start: {exc}",
            holder=holder,
            retry=retry,
        )
        return store.get_run(claimed.id, details=False)
    return _start(
        bot,
        claimed.id,
        settings=settings,
        store=store,
        holder=holder,
        values=values,
        targets=targets,
        secret_values=secret_values,
        redactor=Redactor(secret_values.values()),
        headed=headed,
        on_step=on_step,
        cancel=cancel,
        next_attempt=next_attempt,
        claimed=True,
        attempt=claimed.attempt,
        execution=claimed.robot_losses + 1,
    )


def _start(
    bot: LoadedBot,
    run_id: int,
    *,
    settings: Settings,
    store: RunStore,
    holder: str,
    values: dict[str, Any],
    targets: dict[str, str],
    secret_values: dict[str, str],
    redactor: Redactor,
    headed: bool | None,
    on_step: Callable[[StepRecord], None] | None,
    cancel: threading.Event | None,
    next_attempt: NextAttempt | None = None,
    claimed: bool = False,
    attempt: int = 1,
    execution: int = 1,
) -> RunRecord:
    run_dir = settings.runs_dir / str(run_id)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        if not claimed:  # mark_running recorded it already
            store.set_run_dir(run_id, str(run_dir))
        run = _Run(
            bot=bot,
            settings=settings,
            store=store,
            run_id=run_id,
            run_dir=run_dir,
            params=values,
            targets=targets,
            secret_values=secret_values,
            redactor=redactor,
            headed=(not settings.headless) if headed is None else headed,
            on_step=on_step,
            holder=holder,
            cancel=cancel,
            next_attempt=next_attempt,
            details=not claimed,
            attempt=attempt,
            execution=execution,
        )
    except BaseException as exc:  # the run exists: never leave it "running"
        error = redactor.redact(f"cannot start: {exc}")
        store.finish_run(run_id, RunStatus.FAILED, error=error, holder=holder)
        raise
    return run.execute()


def user_actor() -> str:
    """Who is at the keyboard, for the audit trail: ``user:<login>@<host>``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        user = f"uid{os.getuid()}"
    return f"user:{user}@{socket.gethostname()}"


class _LeaseKeeper:
    """Renews a standalone run's lease from a thread while the run executes.

    If the process dies, renewals stop and the orchestrator finds the run after the lease ran
    out. A cancellation requested meanwhile (``bots runs cancel``) sets ``cancel``.
    """

    def __init__(
        self, store: RunStore, holder: str, run_id: int, lease_s: float, cancel: threading.Event
    ) -> None:
        self._store, self._holder, self._run_id = store, holder, run_id
        self._lease_s, self._cancel = lease_s, cancel
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name=f"run-{run_id}-lease", daemon=True)

    def __enter__(self) -> _LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _renew(self) -> None:
        while not self._stop.wait(self._lease_s / 3):
            try:
                if self._run_id in self._store.renew(self._holder, self._lease_s):
                    self._cancel.set()
            except BotsError:  # the database is away for a moment: try again next time
                continue


@dataclass
class _Outcome:
    """How a run's steps (or its ``finally`` steps) ended."""

    status: RunStatus = RunStatus.SUCCEEDED
    error: str | None = None
    stopped_at: str | None = None  # the step the last error came from, if known
    first: FirstFailure | None = None  # of the failure chain open at the end
    reraise: BaseException | None = None

    def error_and_step(self) -> tuple[str | None, str | None]:
        """The run's ``error`` naming the first cause, and ``error_step``: the first cause's
        step (format in the module docstring)."""
        first = self.first
        if self.error is None or first is None or first.step_path == self.stopped_at:
            return self.error, self.stopped_at
        stopped = f"stopped at {self.stopped_at}"
        where = f"{stopped}; " if self.stopped_at and stopped not in self.error else ""
        reason = "" if first.reason in self.error else f": {first.reason}"
        return f"{self.error} ({where}first failure at {first.step_path}{reason})", first.step_path


class _Run:
    """One execution of a bot, from the recorded start to the recorded end."""

    def __init__(
        self,
        *,
        bot: LoadedBot,
        settings: Settings,
        store: RunStore,
        run_id: int,
        run_dir: Path,
        params: dict[str, Any],
        targets: dict[str, str],
        secret_values: dict[str, str],
        redactor: Redactor,
        headed: bool,
        on_step: Callable[[StepRecord], None] | None,
        holder: str,
        cancel: threading.Event | None,
        next_attempt: NextAttempt | None = None,
        details: bool = True,
        attempt: int = 1,
        execution: int = 1,
    ) -> None:
        self.bot = bot
        self.next_attempt = next_attempt
        self.holder = holder
        self.details = details
        self.settings = settings
        self.store = store
        self.run_id = run_id
        self.run_dir = run_dir
        self.redactor = redactor
        self.headed = headed
        self.on_step = on_step
        definition = bot.definition
        self.trace_mode = definition.trace or settings.trace
        self.timeout_s = definition.timeout or settings.run_timeout_s
        self.log = RunLog(
            run_dir / "run.log.jsonl",
            redactor,
            level=settings.log_level,
            # A run re-queued after a robot loss runs again under its id, appending to the
            # same log: every line says which attempt and which execution of it wrote it.
            context={
                "run_id": run_id,
                "bot": definition.id,
                "tenant": settings.tenant,
                "attempt": attempt,
                "execution": execution,
            },
        )
        self.keeper = ArtifactKeeper(store, run_id, redactor)
        self.steps = StepWriter(store, run_id)
        self.ctx = RunContext(
            params=params,
            vars={},
            run_id=run_id,
            run_dir=run_dir,
            tenant=settings.tenant,
            bot_id=definition.id,
            log=self.log.logger,
            _secrets=secret_values,
            _keep_artifact=lambda path, kind: self.keeper.keep(path, kind),
        )
        self.started_at = datetime.now(UTC)
        base_scope = {
            "params": params,
            "secrets": {name: SecretValue(name, v) for name, v in secret_values.items()},
            "targets": targets,
            "run": {
                "id": run_id,
                "bot": definition.id,
                "tenant": settings.tenant,
                "dir": str(run_dir),
                "started_at": self.started_at.isoformat(),
            },
        }
        self._pages = PageCapture(run_dir, redactor, self.log.logger)
        self.interpreter = Interpreter(
            bot=bot,
            settings=settings,
            ctx=self.ctx,
            base_scope=base_scope,
            redactor=redactor,
            keeper=self.keeper,
            open_browser=self._open_browser,
            record=self._record_step,
            run_deadline=time.monotonic() + self.timeout_s,
            run_timeout=self.timeout_s,
            cancel=cancel,
            capture=lambda browser: self._pages.capture(
                browser, "failure", FIRST_FAILURE_CAPTURE_S
            ),
        )
        self._resources = ExitStack()
        # (file, kind, step path) of the failure evidence, captured before `finally` runs
        self._evidence: list[tuple[Path, ArtifactKind, str | None]] | None = None

    # ----------------------------------------------------------------- the run

    def execute(self) -> RunRecord:
        log = self.log.logger
        definition = self.bot.definition
        log.info("run started", version=definition.version, params=self.ctx.params)
        outcome = self._attempt(lambda: self.interpreter.run(definition.steps))
        try:
            if outcome.status != RunStatus.SUCCEEDED:
                self._capture_failure_evidence(outcome)  # before `finally` changes the page
            outcome = self._run_finally(outcome)
            _, error_step = outcome.error_and_step()
            failed = outcome.status != RunStatus.SUCCEEDED
            self._close_browser(failed=failed, error_step=error_step)
        finally:
            status = outcome.status
            error, error_step = outcome.error_and_step()
            error = self.redactor.redact(error) if error else None
            self._resources.close()
            unwritten = self.steps.close()
            for problem in self.steps.errors[:1]:
                log.error("steps missing from the run history", error=str(problem))
            log.info("run finished", status=str(status), error=error, error_step=error_step)
            self.log.close()
            self.keeper.keep(self.log.path, ArtifactKind.LOG, defer=True)
            self._scrub_unkept_files()
            self._finish(status, error, error_step, unwritten)
        if outcome.reraise is not None:
            raise outcome.reraise
        return self.store.get_run(self.run_id, details=self.details)

    def _attempt(self, steps: Callable[[], None]) -> _Outcome:
        """Run ``steps`` (the bot's or its ``finally``) and say how they ended."""
        outcome = _Outcome()
        try:
            with _sigterm_as_interrupt():
                steps()
        except StepFailed as exc:
            outcome = _Outcome(RunStatus.FAILED, exc.reason, exc.step_path)
        except RunTimedOut as exc:
            outcome = _Outcome(RunStatus.TIMED_OUT, str(exc), exc.step_path)
        except RunCancelled as exc:
            outcome = _Outcome(RunStatus.CANCELLED, str(exc), exc.step_path)
        except KeyboardInterrupt as exc:
            outcome = _Outcome(RunStatus.CANCELLED, "cancelled (Ctrl-C or SIGTERM)", reraise=exc)
        except BotsError as exc:
            outcome = _Outcome(RunStatus.FAILED, str(exc), reraise=exc)
        except Exception as exc:  # a bug: record it, then let it surface
            outcome = _Outcome(RunStatus.FAILED, f"internal error: {exc!r}", reraise=exc)
        outcome.first = self.interpreter.take_first_failure()
        if outcome.first is not None and outcome.status == RunStatus.SUCCEEDED:
            outcome.first.discard()  # cannot happen: every chain of a success was recovered
            outcome.first = None
        return outcome

    def _run_finally(self, main: _Outcome) -> _Outcome:
        """Run the bot's ``finally`` steps after ``main``; the outcome of the whole run.

        A failure in them fails a run that had succeeded; a run that had failed keeps its
        error and evidence, the ``finally`` failure goes to the log and the step history.
        """
        steps = self.bot.definition.finally_
        if not steps or isinstance(main.reraise, KeyboardInterrupt):
            return main  # Ctrl-C or SIGTERM: whoever stops the process wants it stopped now
        interrupted = main.status in (RunStatus.TIMED_OUT, RunStatus.CANCELLED)
        grace = time.monotonic() + FINALLY_GRACE_S
        deadline = grace if interrupted else max(self.interpreter.run_deadline, grace)
        cancel = threading.Event() if interrupted else self.interpreter.cancel
        succeeded = main.status == RunStatus.SUCCEEDED
        self.log.logger.info("finally steps started", after=str(main.status))
        ending = self._attempt(
            lambda: self.interpreter.run_finally(
                steps, deadline=deadline, cancel=cancel, evidence=succeeded
            )
        )
        if ending.status == RunStatus.SUCCEEDED:
            return main
        if succeeded:
            self._capture_failure_evidence(ending)
            return ending
        error, step = ending.error_and_step()
        self.log.logger.error("finally steps failed", error=error, error_step=step)
        if ending.first is not None:
            ending.first.discard()
        if isinstance(ending.reraise, KeyboardInterrupt) and main.reraise is None:
            main.reraise = ending.reraise
        return main

    def _finish(
        self,
        status: RunStatus,
        error: str | None,
        error_step: str | None,
        steps: list[StepRecord],
    ) -> None:
        """Record the outcome with the steps and final artifacts not recorded yet (and the
        retry, if one is due)."""
        artifacts = self.keeper.deferred
        retry = None
        if self.next_attempt is not None:
            try:
                retry = self.next_attempt(status)
            except BotsError as exc:
                structlog.get_logger(__name__).error("no retry", run_id=self.run_id, error=str(exc))
        try:
            retry_id = self.store.finish_run(
                self.run_id,
                status,
                error=error,
                error_step=error_step,
                holder=self.holder,
                steps=steps,
                artifacts=artifacts,
                retry=retry,
            )
        except InvalidTransition as exc:
            # Someone else ended it meanwhile: the robot's watchdog (timed out) or the
            # orchestrator (lease lost). Their verdict stands; ours goes to the log, and the
            # evidence to the run's record all the same.
            structlog.get_logger(__name__).warning(
                "run already ended elsewhere", run_id=self.run_id, error=str(exc)
            )
            self.store.record_steps(self.run_id, steps)
            self.store.record_artifacts(self.run_id, artifacts)
            return
        if retry is not None and retry_id is not None:
            structlog.get_logger(__name__).info(
                "retry queued", run_id=self.run_id, retry_id=retry_id, attempt=retry.attempt
            )

    def _scrub_unkept_files(self) -> None:
        """Scrub files a hook left in the run directory without keeping them as artifacts."""
        kept = {a.path for a in self.keeper.kept}
        for path in self.run_dir.rglob("*"):
            if path.is_file() and str(path.resolve()) not in kept:
                try:
                    scrub_file(path, self.redactor)
                except OSError as exc:
                    self.log.logger.warning("cannot scrub file", file=str(path), error=str(exc))

    def _record_step(self, record: StepRecord) -> None:
        self.steps.put(record)
        level = "info" if record.status != "failed" else "error"
        details = {"name": record.name, "message": record.message}
        getattr(self.log.logger, level)(
            "step",
            path=record.path,
            kind=record.kind,
            status=str(record.status),
            ms=record.duration_ms,
            **{key: value for key, value in details.items() if value is not None},
        )
        if self.on_step is not None:
            try:
                self.on_step(record)
            except Exception as exc:  # a broken progress display must not break the run
                self.log.logger.warning("on_step callback failed", error=repr(exc))

    # ----------------------------------------------------------------- the browser

    def _open_browser(self) -> BrowserSession:
        from connectors.browser import BrowserSession

        if self.headed:
            from connectors.display import DisplayUnavailable, has_display, virtual_display

            if not has_display():
                try:
                    self._resources.enter_context(virtual_display())
                except DisplayUnavailable as exc:
                    raise EnvironmentProblem(f"headed run: {exc}") from None
        browser = BrowserSession(
            self.settings.chromium,
            headless=not self.headed,
            timeout_s=self.settings.step_timeout_s,
            trace=self.trace_mode != "never",
        )
        try:
            browser.open()
        except ConnectorError as exc:
            raise EnvironmentProblem(
                f"{exc}; fix: apt-get install -y chromium, or set BOTS_CHROMIUM"
            ) from None
        self._resources.callback(browser.close)
        self.log.logger.info("browser started", headless=not self.headed, trace=self.trace_mode)
        return browser

    def _close_browser(self, *, failed: bool, error_step: str | None) -> None:
        """Keep the failure evidence and the trace, then close the browser."""
        browser = self.interpreter.open_browser_or_none
        if browser is None:
            return
        try:
            harvest_cookies(browser, self.redactor)  # redacted from evidence, trace and log
            if failed:
                self._keep_failure_evidence(browser, error_step)
            keep = self.trace_mode == "always" or (self.trace_mode == "on_failure" and failed)
            # Playwright writes the trace outside the run directory; only the scrubbed copy
            # enters it.
            scratch = Path(tempfile.mkdtemp(prefix="bots-trace-"))
            try:
                saved = browser.stop_trace(scratch / "trace.zip" if keep else None)
                if saved is not None:
                    self.keeper.keep(
                        self.run_dir / "trace.zip",
                        ArtifactKind.TRACE,
                        error_step,
                        source=saved,
                        defer=True,
                    )
            except ConnectorError as exc:
                self.log.logger.warning("trace not saved", error=str(exc))
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
        finally:
            browser.close()

    def _keep_failure_evidence(self, browser: BrowserSession, step: str | None) -> None:
        """Keep the evidence captured before ``finally`` ran (or, if none was, the page now)."""
        if self._evidence is None:
            files = self._pages.capture(browser, "failure", ARTIFACT_TIMEOUT_S)
            self._evidence = [(path, kind, step) for kind, path in files.items()]
        for path, kind, step_path in self._evidence:
            try:
                self.keeper.keep(path, kind, step_path=step_path, defer=True)
            except OSError as exc:
                self.log.logger.warning("failure evidence not kept", file=path.name, error=str(exc))

    def _capture_failure_evidence(self, outcome: _Outcome) -> None:
        """Note the failed run's evidence: the first failure's, captured when it happened,
        plus the page as it is now (``failure-final.*``) if the run stopped at another step
        and the page differs; without the first failure's, the page now as ``failure.*``."""
        browser = self.interpreter.open_browser_or_none
        first = outcome.first
        now = outcome.stopped_at or (first.step_path if first is not None else None)
        self._evidence = []
        if first is not None and first.evidence:
            self._evidence += [
                (path, kind, first.step_path) for kind, path in first.evidence.items()
            ]
            if browser is not None and outcome.stopped_at != first.step_path:
                final = self._pages.capture(
                    browser, "failure-final", ARTIFACT_TIMEOUT_S, unless_like=first.evidence
                )
                self._evidence += [(path, kind, now) for kind, path in final.items()]
        elif browser is not None:
            files = self._pages.capture(browser, "failure", ARTIFACT_TIMEOUT_S)
            self._evidence += [(path, kind, now) for kind, path in files.items()]


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt while the steps run (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt("SIGTERM")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
