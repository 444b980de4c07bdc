"""Robots: workers that claim queued runs from the shared store and execute them.

A robot registers, then loops until it is told to stop: settle runs whose lease ran out (every
``orchestrator.reap_every_s``), claim as many runs as it has free slots, and execute each in a
thread of its own (:mod:`orchestrator.robot_runs`: load the bot, hand the run to the engine).
A heartbeat thread renews the leases of its runs every third of ``orchestrator.lease_s`` and
passes on cancellations (``bots runs cancel``). A failed or timed-out run of a bot with
``execution.retries`` is queued again, with a backoff. Programmatic use::

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

import os
import secrets
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from orchestrator.errors import BotsError, RobotNameTaken
from orchestrator.requests import pool_limits
from orchestrator.robot_identity import still_alive
from orchestrator.robot_runs import ClaimedRuns, Slot
from orchestrator.service_log import service_logger
from orchestrator.settings import Settings
from orchestrator.store import ClaimedRun, RunStore, open_store

# Names of the robots running in this process: two Robot objects under one name share a pid.
_LIVE_NAMES: set[str] = set()
_LIVE_LOCK = threading.Lock()


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
        self._slots: dict[int, Slot] = {}
        self._lock = threading.Lock()  # guards _slots
        self._wake = threading.Event()  # a slot became free
        self._superseded = threading.Event()  # another instance registered under the name
        self._log: Any = service_logger(settings.log_level).bind(
            robot=self.name, instance=self.instance
        )
        self._runs = ClaimedRuns(
            store, instance=self.instance, per_tenant=self._per_tenant, log=self._log
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
                    slot = Slot(claimed)
                    with self._lock:
                        self._slots[claimed.id] = slot
                    pool.submit(self._execute, slot, stop)
            self._wake.wait(self.settings.robot.poll_s)

    def _under_way(self) -> list[Slot]:
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
            if slot.deadline is not None and not slot.overdue and now >= slot.deadline:
                self._runs.end_overdue(slot)

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

    def _execute(self, slot: Slot, stop: threading.Event) -> None:
        """Worker thread: execute one claimed run; whatever happens, it does not stay claimed."""
        claimed = slot.claimed
        try:
            if stop.is_set():
                self._runs.hand_back(claimed)
            else:
                self._runs.run(slot)
        except Exception as exc:  # a bug in the robot: still end the run, and say why
            self._log.exception("robot error", run_id=claimed.id)
            self._runs.end_failed(claimed, f"robot {self.instance} failed: {exc!r}")
        finally:
            with self._lock:
                del self._slots[claimed.id]
            self._wake.set()


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
