"""One execution of a recorded run: the bot's steps, its ``finally`` steps, the evidence.

:func:`execute_run` takes a prepared :class:`~orchestrator.engine.plan.RunPlan` and a run that
is recorded as running (by :func:`~orchestrator.engine.runner.run_bot` or
:func:`~orchestrator.engine.runner.run_claimed`), interprets the steps and records the
outcome. A bot that fails does not raise: the record says FAILED (or TIMED_OUT, CANCELLED),
and the run directory holds the evidence: screenshot, page HTML, URL, trace (as configured)
and the JSON log, all scrubbed of secrets and hashed. Ctrl-C and SIGTERM mark the run
CANCELLED, close the sessions and re-raise :class:`KeyboardInterrupt`.

Failure evidence shows the first failure, not the last: ``failure.png``, ``failure.html`` and
``failure-url.txt`` are captured when the failure chain that failed the run began, before
``on_error`` steps or retries changed the page (see :mod:`orchestrator.engine.interpreter`);
``failure-final.*`` is the page when the run ended,
kept when the run stopped at another step and the page differs. The run's ``error`` names the
first cause and ``error_step`` is its step (:class:`~orchestrator.engine.outcome.Outcome`).

The bot's ``finally`` steps run after its steps, whether they succeeded or failed; after a
timeout or cancellation with a budget of their own (:data:`FINALLY_GRACE_S`); not after Ctrl-C
or SIGTERM. As a failing suite teardown in Robot Framework does, a failure in ``finally`` fails
a run that had succeeded; the error and evidence of a run that had failed stay its own.

The connectors' sessions, their failure evidence and what they leave (a trace) are
:mod:`orchestrator.engine.run_sessions`' business; this module says when (on a step's first
use of a session, before ``finally``, at the end).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from orchestrator.engine.artifacts import ArtifactKeeper, scrub_file
from orchestrator.engine.context import RunContext
from orchestrator.engine.history import StepWriter
from orchestrator.engine.interpreter import Interpreter, RunCancelled, RunTimedOut
from orchestrator.engine.outcome import Outcome
from orchestrator.engine.plan import RunPlan
from orchestrator.engine.run_end import after_run
from orchestrator.engine.run_sessions import RunSessions
from orchestrator.engine.runlog import RunLog
from orchestrator.engine.secrets import SecretValue
from orchestrator.engine.work_queue import RunQueues
from orchestrator.errors import BotsError, InvalidTransition, StepFailed
from orchestrator.model import registry
from orchestrator.results import ArtifactKind, RunRecord, RunStatus, StepRecord
from orchestrator.settings import Settings

if TYPE_CHECKING:
    from orchestrator.store import RunRequest, RunStore

#: Seconds the `finally` steps get after a timeout or cancellation, and at least otherwise;
#: well below the robot's watchdog grace, so the run still ends by itself. (The model's
#: `finally` description and docs/bot-language.md say 10 s.)
FINALLY_GRACE_S = 10.0
#: Given a run's outcome, the request for its next attempt, or None.
NextAttempt = Callable[[RunStatus], "RunRequest | None"]
#: Given a run's outcome, whether no further attempt follows it (for notifications).
IsFinal = Callable[[RunStatus], bool]


def execute_run(
    plan: RunPlan,
    run_id: int,
    *,
    settings: Settings,
    store: RunStore,
    holder: str,
    headed: bool | None = None,
    on_step: Callable[[StepRecord], None] | None = None,
    cancel: threading.Event | None = None,
    next_attempt: NextAttempt | None = None,
    record_run_dir: bool = True,
    details: bool = True,
    attempt: int = 1,
    execution: int = 1,
    is_final: IsFinal | None = None,
    report_now: bool = True,
) -> RunRecord:
    """Execute run ``run_id``, recorded as running by ``holder``, and return its record.

    Args:
        plan: The bot and its checked inputs.
        run_id: The run, recorded as running.
        settings: Effective settings (data dir, timeouts, trace mode, connectors).
        store: The run history.
        holder: Who holds the run's lease.
        headed: Show the sessions' windows; None: ``not settings.headless``.
        on_step: Called with every recorded step (progress displays).
        cancel: Set it to stop the run between steps (recorded as cancelled).
        next_attempt: Called with the outcome; the request it returns (a retry) is queued in
            the transaction that records the outcome.
        record_run_dir: Record the run directory (False: it was recorded with the start).
        details: The returned record carries the steps and artifacts.
        attempt: Which attempt of the bot's retries this run is (for the log).
        execution: Which execution of this run it is, after robot losses (for the log).
        is_final: Given the outcome, whether no attempt follows (standalone retries, which
            are no queued runs); default: unless ``next_attempt`` queued one. Failure
            notifications wait for the final attempt.
        report_now: Write the run's report as it ends (False: when first read, see
            :func:`~orchestrator.reports.run_end.ensure_run_report`).

    Raises:
        EnvironmentProblem: a session cannot start (the run is recorded as failed).
        KeyboardInterrupt: Ctrl-C or SIGTERM (the run is recorded as cancelled).
    """
    run_dir = settings.runs_dir / str(run_id)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        if record_run_dir:
            store.set_run_dir(run_id, str(run_dir))
        run = RunExecution(
            plan,
            run_id=run_id,
            run_dir=run_dir,
            settings=settings,
            store=store,
            holder=holder,
            headed=(not settings.headless) if headed is None else headed,
            on_step=on_step,
            cancel=cancel,
            next_attempt=next_attempt,
            details=details,
            attempt=attempt,
            execution=execution,
            is_final=is_final,
            report_now=report_now,
        )
    except BaseException as exc:  # the run exists: never leave it "running"
        error = plan.redactor.redact(f"cannot start: {exc}")
        store.finish_run(run_id, RunStatus.FAILED, error=error, holder=holder)
        raise
    return run.execute()


class RunExecution:
    """One execution of a bot, from the recorded start to the recorded end."""

    def __init__(
        self,
        plan: RunPlan,
        *,
        run_id: int,
        run_dir: Path,
        settings: Settings,
        store: RunStore,
        holder: str,
        headed: bool,
        on_step: Callable[[StepRecord], None] | None,
        cancel: threading.Event | None,
        next_attempt: NextAttempt | None = None,
        details: bool = True,
        attempt: int = 1,
        execution: int = 1,
        is_final: IsFinal | None = None,
        report_now: bool = True,
    ) -> None:
        bot, params, redactor = plan.bot, plan.params, plan.redactor
        secret_values = plan.secret_values
        self.bot = bot
        self.settings = settings
        self.next_attempt = next_attempt
        self.is_final = is_final
        self.report_now = report_now
        self.holder = holder
        self.details = details
        self.store = store
        self.run_id = run_id
        self.run_dir = run_dir
        self.redactor = redactor
        self.on_step = on_step
        definition = bot.definition
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
            "targets": plan.targets,
            "run": {
                "id": run_id,
                "bot": definition.id,
                "tenant": settings.tenant,
                "dir": str(run_dir),
                "started_at": self.started_at.isoformat(),
            },
        }
        connectors = registry.installed()
        self.queues = RunQueues(
            store,
            tenant=settings.tenant,
            holder=holder,
            run_id=run_id,
            lease_s=settings.orchestrator.lease_s,
            run_dir=run_dir,
            keep=self.keeper.keep,
            actor=f"bot:{definition.id}",
            names=plan.queue_names,
        )
        self.sessions = RunSessions(
            connectors=connectors,
            settings=settings,
            run_dir=run_dir,
            headed=headed,
            trace_mode=definition.trace or settings.trace,
            redactor=redactor,
            keeper=self.keeper,
            log=self.log.logger,
            work_queues=self.queues,
        )
        self.interpreter = Interpreter(
            bot=bot,
            settings=settings,
            ctx=self.ctx,
            base_scope=base_scope,
            redactor=redactor,
            keeper=self.keeper,
            steps=connectors.by_model(),
            sessions=self.sessions.pool,
            actions=connectors.actions(),
            record=self._record_step,
            run_deadline=time.monotonic() + self.timeout_s,
            run_timeout=self.timeout_s,
            cancel=cancel,
            capture=self.sessions.capture_first_failure,
            workers=self.sessions.worker,
        )

    # ----------------------------------------------------------------- the run

    def execute(self) -> RunRecord:
        log = self.log.logger
        definition = self.bot.definition
        log.info("run started", version=definition.version, params=self.ctx.params)
        outcome = self._attempt(lambda: self.interpreter.run(definition.steps))
        try:
            if outcome.status != RunStatus.SUCCEEDED:
                # before `finally` changes the page
                self.sessions.note_failure(outcome.first, outcome.stopped_at)
            outcome = self._run_finally(outcome)
            _, error_step = outcome.error_and_step()
            failed = outcome.status != RunStatus.SUCCEEDED
            self.sessions.finish(failed=failed, error_step=error_step)
        finally:
            status = outcome.status
            error, error_step = outcome.error_and_step()
            error = self.redactor.redact(error) if error else None
            self.queues.close()
            self.sessions.close()
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

    def _attempt(self, steps: Callable[[], None]) -> Outcome:
        """Run ``steps`` (the bot's or its ``finally``) and say how they ended."""
        outcome = Outcome()
        try:
            with _sigterm_as_interrupt():
                steps()
        except StepFailed as exc:
            outcome = Outcome(RunStatus.FAILED, exc.reason, exc.step_path)
        except RunTimedOut as exc:
            outcome = Outcome(RunStatus.TIMED_OUT, str(exc), exc.step_path)
        except RunCancelled as exc:
            outcome = Outcome(RunStatus.CANCELLED, str(exc), exc.step_path)
        except KeyboardInterrupt as exc:
            outcome = Outcome(RunStatus.CANCELLED, "cancelled (Ctrl-C or SIGTERM)", reraise=exc)
        except BotsError as exc:
            outcome = Outcome(RunStatus.FAILED, str(exc), reraise=exc)
        except Exception as exc:  # a bug: record it, then let it surface
            outcome = Outcome(RunStatus.FAILED, f"internal error: {exc!r}", reraise=exc)
        outcome.first = self.interpreter.take_first_failure()
        if outcome.first is not None and outcome.status == RunStatus.SUCCEEDED:
            outcome.first.discard()  # cannot happen: every chain of a success was recovered
            outcome.first = None
        return outcome

    def _run_finally(self, main: Outcome) -> Outcome:
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
            self.sessions.note_failure(ending.first, ending.stopped_at)
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
        final = retry_id is None if self.is_final is None else self.is_final(status)
        after_run(self.store, self.settings, self.run_id, final=final, report_now=self.report_now)

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
