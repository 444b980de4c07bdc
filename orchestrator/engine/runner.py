"""Run a bot once: standalone (``bots run``), or a run a robot claimed from the queue.

:func:`run_bot` is the programmatic twin of ``bots run``::

    record = run_bot(loaded, settings=settings, store=store, params={"max_cases": "5"})
    record.status   # RunStatus.SUCCEEDED, or FAILED with record.error / record.error_step

:func:`run_claimed` executes a run a robot claimed::

    record = run_claimed(loaded, claimed, settings=settings, store=store, holder="robot-1")

Both check the bot's inputs into a :class:`~orchestrator.engine.plan.RunPlan` (parameters,
targets, secrets, the redactor), then execute the run
(:func:`~orchestrator.engine.execution.execute_run`: steps, ``finally``, evidence). They
differ in what they own:

* A standalone run raises on input problems (parameters, targets, secrets) before a run is
  recorded, and so does :class:`~orchestrator.errors.BotBusy` when another run holds the bot
  (no-overlap rule) or a pool it needs is full. It goes queued -> claimed -> running in one
  transaction and renews its own lease while it runs, so a killed process leaves a run that
  the orchestrator finds and marks lost.
* A claimed run exists already: input problems end it as failed (with the retry the robot's
  ``next_attempt`` asks for) instead of raising, and the robot renews its lease.

A bot that fails raises in neither: the returned record says FAILED (or TIMED_OUT,
CANCELLED), and the run directory holds the evidence. Ctrl-C and SIGTERM mark the run
CANCELLED and re-raise :class:`KeyboardInterrupt`.
"""

from __future__ import annotations

import getpass
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import structlog

from orchestrator.engine.execution import IsFinal, NextAttempt, execute_run
from orchestrator.engine.plan import plan_run
from orchestrator.engine.run_end import after_run, tenant_secrets
from orchestrator.engine.secrets import SecretProvider
from orchestrator.errors import BotBusy, BotsError
from orchestrator.notifications import deliver_pending, deliverer
from orchestrator.results import RunRecord, RunStatus, StepRecord
from orchestrator.settings import Settings

if TYPE_CHECKING:
    from orchestrator.model.loader import LoadedBot
    from orchestrator.store import ClaimedRun, RunStore


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
    holder: str | None = None,
    cancel: threading.Event | None = None,
    next_attempt: NextAttempt | None = None,
    attempt: int = 1,
    retry_of: int | None = None,
    is_final: IsFinal | None = None,
) -> RunRecord:
    """Run ``bot`` once, standalone, and return its record from the run history.

    Args:
        bot: The loaded bot.
        settings: Effective settings (data dir, targets, timeouts, trace mode, connectors).
        store: The run history.
        params: Parameter values; strings are coerced to the declared types.
        trigger: Who started the run (``cli``, ``benchmark``, ...).
        headed: Show the sessions' windows; None: ``not settings.headless``.
        secrets: Where secret values come from; default: ``BOTS_SECRET_<NAME>``.
        on_step: Called with every recorded step (progress displays).
        actor: Who started it, for the audit trail; default ``user:<login>@<host>``.
        holder: Who holds the run's lease; default ``cli:<host>:<pid>``.
        cancel: Set it to stop the run between steps (recorded as cancelled).
        next_attempt: Called with the outcome; the request it returns (a retry) is queued in
            the transaction that records the outcome, so no crash comes between the two.
        attempt: Which attempt this run is (``retry_of`` the one before it).
        retry_of: The run this one retries.
        is_final: Given the outcome, whether no attempt follows (see
            :func:`run_with_retries`); default: unless ``next_attempt`` queued one.

    Raises:
        ParameterError: a parameter is unknown, missing or of the wrong type.
        ConfigError: a declared target has no URL.
        SecretMissing: a declared secret has no value.
        BotBusy: another run holds the bot, or a pool it needs is full (nothing recorded).
        EnvironmentProblem: a session cannot start (the run is recorded as failed).
        KeyboardInterrupt: Ctrl-C or SIGTERM (the run is recorded as cancelled).
    """
    holder = holder or f"cli:{socket.gethostname()}:{os.getpid()}"
    # Imported here: the queue's module imports the store (SQLAlchemy); the engine does not.
    from orchestrator.requests import run_request

    plan = plan_run(bot, settings=settings, params=params, secrets=secrets)
    request = run_request(
        bot,
        settings=settings,
        tenant=settings.tenant,
        params=plan.redactor.redact_data(plan.params),
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
        return execute_run(
            plan,
            run_id,
            settings=settings,
            store=store,
            holder=holder,
            headed=headed,
            on_step=on_step,
            cancel=cancel,
            next_attempt=next_attempt,
            attempt=attempt,
            is_final=is_final,
        )


def run_claimed(
    bot: LoadedBot,
    claimed: ClaimedRun,
    *,
    settings: Settings,
    store: RunStore,
    holder: str,
    headed: bool | None = None,
    secrets: SecretProvider | None = None,
    on_step: Callable[[StepRecord], None] | None = None,
    cancel: threading.Event | None = None,
    next_attempt: NextAttempt | None = None,
) -> RunRecord:
    """Execute the run ``claimed`` that ``holder`` claimed, and return its record.

    The run starts running now, with the parameters it was queued with; ``holder`` renews its
    lease meanwhile. Anything wrong with its inputs ends it as failed instead of raising (with
    the retry ``next_attempt(RunStatus.FAILED)`` returns). The returned record carries no
    steps and artifacts (``store.get_run`` has them). Its report is written when it is first
    read (``bots show``, a notification), not on the robot's claiming path.

    Args:
        bot: The loaded bot the run names.
        claimed: The run, as :meth:`RunStore.claim` returned it.
        settings: Effective settings for the run's tenant.
        store: The run history.
        holder: Who holds the run's lease (the robot instance).
        headed: Show the sessions' windows; None: ``not settings.headless``.
        secrets: Where secret values come from; default: ``BOTS_SECRET_<NAME>``.
        on_step: Called with every recorded step.
        cancel: Set it to stop the run between steps (recorded as cancelled).
        next_attempt: Called with the outcome; the request it returns (a retry) is queued in
            the transaction that records the outcome.

    Raises:
        EnvironmentProblem: a session cannot start (the run is recorded as failed).
        KeyboardInterrupt: Ctrl-C or SIGTERM (the run is recorded as cancelled).
    """
    run_dir = settings.runs_dir / str(claimed.id)
    store.mark_running(claimed.id, holder=holder, bot_digest=bot.digest, run_dir=str(run_dir))
    try:
        plan = plan_run(bot, settings=settings, params=claimed.parameters, secrets=secrets)
    except BotsError as exc:
        retry = next_attempt(RunStatus.FAILED) if next_attempt is not None else None
        retry_id = store.finish_run(
            claimed.id,
            RunStatus.FAILED,
            error=f"cannot start: {exc}",
            holder=holder,
            retry=retry,
        )
        after_run(store, settings, claimed.id, final=retry_id is None, report_now=False)
        return store.get_run(claimed.id, details=False)
    return execute_run(
        plan,
        claimed.id,
        settings=settings,
        store=store,
        holder=holder,
        headed=headed,
        on_step=on_step,
        cancel=cancel,
        next_attempt=next_attempt,
        record_run_dir=False,  # mark_running recorded it
        details=False,
        attempt=claimed.attempt,
        execution=claimed.robot_losses + 1,
        report_now=False,
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
    False: one attempt only. A failure is notified after the last attempt only; at the end,
    notifications still pending (a mail server that was down) are tried again.

    Example: ``run_with_retries(bot, settings=settings, store=store).status``.

    Raises:
        As :func:`run_bot`, for the first attempt.
    """
    from orchestrator.requests import RETRIED, retry_backoff_s

    retries = bot.definition.execution.retries

    def final_after(attempt: int) -> IsFinal:
        return lambda status: (
            not retry or status not in RETRIED or retry_backoff_s(retries, attempt) is None
        )

    record = run_bot(
        bot,
        settings=settings,
        store=store,
        params=params,
        trigger=trigger,
        is_final=final_after(1),
        **options,
    )
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
                is_final=final_after(attempt),
                **options,
            )
        except BotBusy:
            break
    _deliver_pending(store, settings)
    return record


def _deliver_pending(store: RunStore, settings: Settings) -> None:
    """Try the notifications still pending, as no orchestrator may run here (never raises)."""
    try:
        deliver_pending(store, settings, secrets=tenant_secrets, holder=deliverer("run"))
    except BotsError as exc:
        structlog.get_logger(__name__).warning("notifications not delivered", error=str(exc))


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
