"""Robots: workers that claim queued runs from the shared store and execute them.

A robot registers, then loops until it is told to stop: settle runs whose lease ran out (every
``orchestrator.reap_every_s``), claim as many runs as it has free slots, and execute each in a
thread of its own via ``run_claimed(bot, claimed, ...)``. A heartbeat thread renews the leases of
its runs every third of ``orchestrator.lease_s`` and passes on cancellations (``bots runs
cancel``). A failed or timed-out run of a bot with ``execution.retries`` is queued again, with
a backoff. Programmatic use::

    stop = threading.Event()
    robot = Robot(settings, store, labels=["browser"], tenants=["giessen"], concurrency=2)
    threading.Thread(target=robot.run, args=(stop,)).start()
    ...
    stop.set()      # stop claiming; runs under way finish, then run() returns

From the shell: ``bots robot start --labels browser,desktop``.
On SIGTERM or SIGINT it stops claiming, hands back runs claimed but not yet started, lets the
running ones finish (a second signal cancels them) and exits 0.
"""

from __future__ import annotations

import functools
import os
import secrets
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from orchestrator.errors import BotsError, InvalidTransition, RobotNameTaken
from orchestrator.requests import next_attempt, pool_limits
from orchestrator.results import RunStatus
from orchestrator.robot_identity import still_alive
from orchestrator.service_log import service_logger
from orchestrator.settings import Settings
from orchestrator.store import ClaimedRun, RunRequest, RunStore, open_store

if TYPE_CHECKING:
    from orchestrator.model.loader import LoadedBot

# The engine stops a run at its timeout between steps; a step that hangs (a hook that never
# returns) gets this much longer before the robot ends the run as timed out itself.
WATCHDOG_GRACE_S = 30.0
BOT_RECHECK_S = 1.0
# Names of the robots running in this process: two Robot objects under one name share a pid.
_LIVE_NAMES: set[str] = set()
_LIVE_LOCK = threading.Lock()


@dataclass
class _Slot:
    """A run this robot claimed, from the claim until its thread is done with it."""

    claimed: ClaimedRun
    cancel: threading.Event = field(default_factory=threading.Event)
    bot: LoadedBot | None = None
    timeout_s: float | None = None
    deadline: float | None = None  # time.monotonic() after which the watchdog ends the run
    overdue: bool = False


class Robot:
    """A worker executing queued runs of some tenants that need no labels beyond its own.

    Args:
        settings: Effective settings; ``settings.robot`` gives the defaults below.
        store: The shared run store.
        name: Stable robot name (from configuration); default ``<host>:<pid>``. Each process
            started under it is a new instance (``name#<8 hex digits>``), which holds the
            leases of the runs it claims.
        labels: What this machine offers (``browser``, ``desktop``, ...).
        tenants: Tenants whose runs it takes; default ``[settings.tenant]``.
        concurrency: Runs executed at once.

    Example::

        robot = Robot(settings, store, labels=["browser", "desktop"], concurrency=2)
        robot.run(stop)     # returns after stop.set() and the last run under way ended
    """

    def __init__(
        self,
        settings: Settings,
        store: RunStore,
        *,
        name: str | None = None,
        labels: list[str] | None = None,
        tenants: list[str] | None = None,
        concurrency: int | None = None,
    ) -> None:
        defaults = settings.robot
        self.settings = settings
        self.store = store
        self.name = name or defaults.name or f"{socket.gethostname()}:{os.getpid()}"
        # This process: holds the leases of the runs it claims. A process restarted under
        # the same name is another instance and cannot renew the leases of the one before.
        self.instance = f"{self.name}#{secrets.token_hex(4)}"
        self.labels = sorted(set(labels if labels is not None else defaults.labels))
        self.tenants = sorted(set(tenants or defaults.tenants or [settings.tenant]))
        self.concurrency = concurrency or defaults.concurrency
        self._per_tenant = {t: settings.model_copy(update={"tenant": t}) for t in self.tenants}
        self._pool_limits = pool_limits(settings, self.tenants)
        self._slots: dict[int, _Slot] = {}
        self._bots: dict[str, tuple[LoadedBot, float]] = {}  # by id: bot, checked at; _load
        self._lock = threading.Lock()  # guards _slots
        self._wake = threading.Event()  # a slot became free
        self._superseded = threading.Event()  # another instance registered under the name
        self._log: Any = service_logger(settings.log_level).bind(
            robot=self.name, instance=self.instance
        )

    def run(self, stop: threading.Event, abort: threading.Event | None = None) -> None:
        """Claim and execute runs until ``stop`` is set and the runs under way have ended.

        After ``stop``, runs claimed but not started yet are handed back to the queue. Setting
        ``abort`` (as well) cancels the runs under way at their next step.

        Example: ``threading.Thread(target=robot.run, args=(stop,)).start()``.

        Raises:
            EnvironmentProblem: the store cannot be reached when the robot registers.
        """
        abort = abort or threading.Event()
        with _LIVE_LOCK:
            if self.name in _LIVE_NAMES:  # the process table cannot tell two robots of one
                raise RobotNameTaken(f"robot {self.name!r} is already running in this process.")
            _LIVE_NAMES.add(self.name)
        try:
            self._register()
        except BaseException:
            with _LIVE_LOCK:
                _LIVE_NAMES.discard(self.name)
            raise
        self._log.info(
            "robot started",
            tenants=",".join(self.tenants),
            labels=",".join(self.labels),
            concurrency=self.concurrency,
        )
        halt = threading.Event()
        heartbeat = threading.Thread(
            target=self._heartbeat, args=(halt,), name=f"{self.name}-heartbeat", daemon=True
        )
        heartbeat.start()
        try:
            with ThreadPoolExecutor(self.concurrency, thread_name_prefix="robot-run") as pool:
                self._loop(stop, abort, pool)
        finally:
            halt.set()
            heartbeat.join()
            with _LIVE_LOCK:
                _LIVE_NAMES.discard(self.name)
            try:
                self.store.robot_stopped(self.instance)
            except BotsError as exc:  # the database is away: the heartbeat will age out
                self._log.warning("stop not recorded", error=str(exc))
            self._log.info("robot stopped")

    def _register(self) -> None:
        """Register this instance under the robot's name, taking over from a dead one.

        The runs a previous instance of the name left behind are handed back at once
        (re-queued or lost, audited) instead of blocking their bots until the leases run out.

        Raises:
            RobotNameTaken: a live process runs under this name.
        """
        settings = self.settings.orchestrator
        previous = self.store.robot(self.name)
        if previous is not None and previous.stopped_at is None:
            alive = still_alive(previous, settings.lease_s)
            if alive is not None:
                raise RobotNameTaken(
                    f"robot {self.name!r} is already running ({alive}). Two robots cannot "
                    "share a name: stop that one, or start this one with another --name. "
                    f"If that process is gone, the name is free once its heartbeat is older "
                    f"than the lease ({settings.lease_s:g} s)."
                )
        handed_back = self.store.register_robot(
            self.name,
            instance=self.instance,
            tenants=self.tenants,
            labels=self.labels,
            concurrency=self.concurrency,
            host=socket.gethostname(),
            pid=os.getpid(),
            replaces=previous.instance if previous is not None else None,
            max_losses=settings.max_robot_losses,
        )
        for run_id, status in handed_back:
            self._log.warning(
                "run of the previous instance handed back",
                run_id=run_id,
                now=str(status),
                previous=previous.instance if previous is not None else None,
            )

    # ----------------------------------------------------------------- the main loop

    def _loop(
        self, stop: threading.Event, abort: threading.Event, pool: ThreadPoolExecutor
    ) -> None:
        # serve()'s signal handler sets `stop` and `abort` in this thread, between any two
        # bytecodes: had it interrupted a wait on one of them, set() would block on the lock
        # the wait holds. So this thread only ever waits on `_wake`.
        next_reap = 0.0
        stopping = False
        while True:
            self._wake.clear()
            if self._superseded.is_set() and not abort.is_set():
                # Another process took over the name (this one was frozen, or cut off, for
                # longer than the lease): its runs were handed back; stop at once.
                self._log.error("robot replaced by another instance; stopping")
                stop.set()
                abort.set()
            if stop.is_set() and not stopping:
                stopping = True
                self._log.info("robot stopping", runs_under_way=len(self._under_way()))
            if stopping and not self._under_way():
                return
            if abort.is_set():
                for slot in self._under_way():
                    slot.cancel.set()
            self._watch()
            if not stopping:
                if time.monotonic() >= next_reap:
                    self._reap()
                    next_reap = time.monotonic() + self.settings.orchestrator.reap_every_s
                for claimed in self._claim(self.concurrency - len(self._under_way())):
                    slot = _Slot(claimed)
                    with self._lock:
                        self._slots[claimed.id] = slot
                    pool.submit(self._execute, slot, stop)
            self._wake.wait(self.settings.robot.poll_s)

    def _under_way(self) -> list[_Slot]:
        with self._lock:
            return list(self._slots.values())

    def _reap(self) -> None:
        try:
            settled = self.store.reap_expired(
                tenants=self.tenants, max_losses=self.settings.orchestrator.max_robot_losses
            )
        except BotsError as exc:
            self._log.warning("cannot look for lost runs", error=str(exc))
            return
        for run_id, status in settled:
            self._log.warning("lease expired", run_id=run_id, now=str(status))

    def _claim(self, free: int) -> list[ClaimedRun]:
        if free <= 0:
            return []
        try:
            claimed = self.store.claim(
                holder=self.instance,
                tenants=self.tenants,
                labels=self.labels,
                limit=free,
                lease_s=self.settings.orchestrator.lease_s,
                pool_limits=self._pool_limits,
            )
        except BotsError as exc:  # the database is away for a moment: try again next time
            self._log.warning("cannot claim runs", error=str(exc))
            return []
        for run in claimed:
            self._log.info(
                "run claimed",
                run_id=run.id,
                bot=run.bot_id,
                tenant=run.tenant,
                attempt=run.attempt,
                robot_losses=run.robot_losses,
            )
        return claimed

    def _watch(self) -> None:
        """End runs still executing long after their timeout (a hung step) as timed out."""
        now = time.monotonic()
        for slot in self._under_way():
            if slot.deadline is None or slot.overdue or now < slot.deadline:
                continue
            slot.overdue = True
            slot.cancel.set()
            claimed = slot.claimed
            error = (
                f"still running {WATCHDOG_GRACE_S:g} s after its timeout of "
                f"{slot.timeout_s:g} s; ended by robot {self.instance}"
            )
            retry = None
            if slot.bot is not None:
                try:
                    retry = self._next_attempt(slot.bot, claimed, RunStatus.TIMED_OUT)
                except BotsError as exc:  # its parameters no longer fit the bot
                    self._log.error("no retry", run_id=claimed.id, error=str(exc))
            try:
                retry_id = self.store.finish_run(
                    claimed.id, RunStatus.TIMED_OUT, error=error, holder=self.instance, retry=retry
                )
            except BotsError as exc:  # ended meanwhile, or the database is away
                self._log.warning("cannot end overdue run", run_id=claimed.id, error=str(exc))
                continue
            self._log.warning("run overdue, ended as timed out", run_id=claimed.id)
            self._after_run(claimed, final=retry_id is None)

    def _heartbeat(self, halt: threading.Event) -> None:
        lease_s = self.settings.orchestrator.lease_s
        while not halt.wait(lease_s / 3):
            try:
                cancelled = self.store.renew(self.instance, lease_s)
            except BotsError as exc:  # the database is away for a moment: try again
                self._log.warning("cannot renew leases", error=str(exc))
                continue
            for slot in self._under_way():
                if slot.claimed.id in cancelled and not slot.cancel.is_set():
                    self._log.info("cancellation requested", run_id=slot.claimed.id)
                    slot.cancel.set()
            try:
                registered = self.store.robot(self.name)
            except BotsError:
                continue
            if registered is not None and registered.instance != self.instance:
                self._superseded.set()
                self._wake.set()

    # ----------------------------------------------------------------- one run

    def _execute(self, slot: _Slot, stop: threading.Event) -> None:
        """Worker thread: execute one claimed run; whatever happens, it does not stay claimed."""
        claimed = slot.claimed
        try:
            if stop.is_set():
                self._hand_back(claimed)
            else:
                self._run(slot)
        except Exception as exc:  # a bug in the robot: still end the run, and say why
            self._log.exception("robot error", run_id=claimed.id)
            self._end_failed(claimed, f"robot {self.instance} failed: {exc!r}")
        finally:
            with self._lock:
                del self._slots[claimed.id]
            self._wake.set()

    def _run(self, slot: _Slot) -> None:
        claimed = slot.claimed
        settings = self._per_tenant[claimed.tenant]
        started = time.monotonic()
        try:
            bot = self._load(claimed.bot_id, settings)
        except BotsError as exc:
            self._end_failed(claimed, f"cannot load bot {claimed.bot_id!r}: {exc}")
            self._log.error("bot not loadable", run_id=claimed.id, error=str(exc))
            return
        slot.bot = bot
        slot.timeout_s = claimed.timeout_s or bot.definition.timeout or settings.run_timeout_s
        slot.deadline = started + slot.timeout_s + WATCHDOG_GRACE_S
        # The engine is imported with the first run: an idle robot does not hold it.
        from orchestrator.engine.runner import run_claimed

        try:
            status = run_claimed(
                bot,
                claimed,
                settings=settings,
                store=self.store,
                holder=self.instance,
                cancel=slot.cancel,
                next_attempt=functools.partial(self._next_attempt, bot, claimed),
            ).status
        except Exception as exc:  # recorded as failed by the engine where it could
            self._end_failed(claimed, f"cannot execute: {exc}")
            status = self.store.get_run(claimed.id).status
            self._log.warning("run raised", run_id=claimed.id, error=str(exc))
        self._log.info(
            "run finished",
            run_id=claimed.id,
            bot=claimed.bot_id,
            status=str(status),
            seconds=round(time.monotonic() - started, 3),
        )

    def _load(self, bot_id: str, settings: Settings) -> LoadedBot:
        """The bot as it is on disk; loaded again when a file of it changed.

        Loading (YAML, schema, hooks) costs more than a short run itself. The digest over the
        bot's files is cheaper, and checked at most every ``BOT_RECHECK_S``: an edit counts
        from the next run after that.
        """
        from orchestrator.model.loader import bot_digest, resolve_bot

        now = time.monotonic()
        cached = self._bots.get(bot_id)
        if cached is not None:
            bot, checked_at = cached
            if now - checked_at < BOT_RECHECK_S:
                return bot
            if bot_digest(bot.directory) == bot.digest:
                self._bots[bot_id] = (bot, now)
                return bot
        loaded = resolve_bot(bot_id, settings.bot_dirs)
        self._bots[bot_id] = (loaded, now)
        return loaded

    def _next_attempt(
        self, bot: LoadedBot, claimed: ClaimedRun, status: RunStatus
    ) -> RunRequest | None:
        """The retry to queue with the run's outcome, as ``execution.retries`` says; or None."""
        retry = next_attempt(
            bot,
            settings=self._per_tenant[claimed.tenant],
            tenant=claimed.tenant,
            params=claimed.parameters,
            run_id=claimed.id,
            attempt=claimed.attempt,
            status=status,
            actor=f"robot:{self.instance}",
        )
        if retry is not None:
            self._log.info(
                "retry due, queued with the outcome",
                run_id=claimed.id,
                attempt=retry.attempt,
                not_before=retry.not_before.isoformat() if retry.not_before else None,
            )
        return retry

    def _hand_back(self, claimed: ClaimedRun) -> None:
        try:
            self.store.hand_back(claimed.id, holder=self.instance)
        except BotsError as exc:
            self._log.warning("cannot hand back run", run_id=claimed.id, error=str(exc))
            return
        self._log.info("run handed back", run_id=claimed.id)

    def _end_failed(self, claimed: ClaimedRun, error: str) -> None:
        """End a run of this robot as failed, whether it got to ``running`` or not.

        Runs that ended meanwhile, or went to another holder, are left as they are: the store
        refuses those moves.
        """
        try:
            self.store.mark_running(claimed.id, holder=self.instance)
        except InvalidTransition:
            pass  # already running, ended, or not ours any more
        try:
            self.store.finish_run(claimed.id, RunStatus.FAILED, error=error, holder=self.instance)
        except InvalidTransition:
            return
        self._after_run(claimed, final=True)

    def _after_run(self, claimed: ClaimedRun, *, final: bool) -> None:
        """Report and notify a run the robot ended itself (the engine does it for the runs
        it ends)."""
        from orchestrator.engine.run_end import after_run

        settings = self._per_tenant[claimed.tenant]
        after_run(self.store, settings, claimed.id, final=final, report_now=False)


def serve(
    settings: Settings,
    *,
    name: str | None = None,
    labels: list[str] | None = None,
    tenants: list[str] | None = None,
    concurrency: int | None = None,
) -> int:
    """Run a robot on ``settings.database`` until SIGTERM or SIGINT; returns the exit code 0.

    The first signal stops claiming, hands back runs not yet started and waits for the
    running ones; a second one cancels those. Arguments left out come from ``settings.robot``.

    Example: ``raise SystemExit(serve(load_settings(), labels=["browser"], concurrency=2))``.

    Raises:
        ConfigError: the database URL is malformed.
        EnvironmentProblem: the database cannot be reached.
    """
    stop, abort = threading.Event(), threading.Event()

    def on_signal(_signum: int, _frame: Any) -> None:
        (abort if stop.is_set() else stop).set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        with open_store(settings.database) as store:
            robot = Robot(
                settings,
                store,
                name=name,
                labels=labels,
                tenants=tenants,
                concurrency=concurrency,
            )
            robot.run(stop, abort)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
