"""What a robot does with a run it claimed: load the bot, execute it, end it when nothing else
will.

:class:`ClaimedRuns` is the robot's side of one claimed run, apart from the claiming loop of
:class:`orchestrator.robot.Robot`: it loads the run's bot (kept between runs, loaded again
when one of its files changed), hands the run to the engine (imported with the first run, so
that an idle robot does not hold it), queues the retry ``execution.retries`` asks for, and
ends the run itself when the engine could not (a bot that no longer loads, a bug) or did not
in time (a step that ignored every timeout)::

    runs = ClaimedRuns(store, instance="rpa-01#1a2b3c4d", per_tenant=settings_by_tenant,
                       log=log)
    slot = Slot(claimed)
    runs.run(slot)              # in the run's own thread
    runs.end_overdue(slot)      # from the robot's loop, once slot.deadline has passed
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from orchestrator.errors import BotsError, InvalidTransition
from orchestrator.requests import next_attempt
from orchestrator.results import RunStatus
from orchestrator.settings import Settings
from orchestrator.store import ClaimedRun, RunRequest, RunStore

if TYPE_CHECKING:
    from orchestrator.model.loader import LoadedBot
    from orchestrator.results import RunRecord

# The engine stops a run at its timeout between steps; a step that hangs (a hook that never
# returns) gets this much longer before the robot ends the run as timed out itself.
WATCHDOG_GRACE_S = 30.0
BOT_RECHECK_S = 1.0


@dataclass
class Slot:
    """A run a robot claimed, from the claim until its thread is done with it."""

    claimed: ClaimedRun
    cancel: threading.Event = field(default_factory=threading.Event)
    bot: LoadedBot | None = None
    timeout_s: float | None = None
    deadline: float | None = None  # time.monotonic() after which the watchdog ends the run
    overdue: bool = False


def run_claimed(bot: LoadedBot, claimed: ClaimedRun, **kwargs: Any) -> RunRecord:
    """The engine's :func:`~orchestrator.engine.runner.run_claimed`, imported when a robot
    executes its first run."""
    from orchestrator.engine.runner import run_claimed as execute

    return execute(bot, claimed, **kwargs)


class ClaimedRuns:
    """The runs one robot instance claimed (see the module docstring).

    Args:
        store: The shared run store.
        instance: The robot instance holding the runs' leases.
        per_tenant: The effective settings of each tenant the robot serves.
        log: The robot's bound logger.
    """

    def __init__(
        self, store: RunStore, *, instance: str, per_tenant: dict[str, Settings], log: Any
    ) -> None:
        self.store, self.instance, self._per_tenant, self._log = store, instance, per_tenant, log
        self._bots: dict[str, tuple[LoadedBot, float]] = {}  # by id: bot, checked at; _load

    def run(self, slot: Slot) -> None:
        """Execute ``slot``'s run through the engine, in the calling thread."""
        claimed = slot.claimed
        settings = self._per_tenant[claimed.tenant]
        started = time.monotonic()
        try:
            bot = self._load(claimed.bot_id, settings)
        except BotsError as exc:
            self.end_failed(claimed, f"cannot load bot {claimed.bot_id!r}: {exc}")
            self._log.error("bot not loadable", run_id=claimed.id, error=str(exc))
            return
        slot.bot = bot
        slot.timeout_s = claimed.timeout_s or bot.definition.timeout or settings.run_timeout_s
        slot.deadline = started + slot.timeout_s + WATCHDOG_GRACE_S
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
            self.end_failed(claimed, f"cannot execute: {exc}")
            status = self.store.get_run(claimed.id).status
            self._log.warning("run raised", run_id=claimed.id, error=str(exc))
        self._log.info(
            "run finished",
            run_id=claimed.id,
            bot=claimed.bot_id,
            status=str(status),
            seconds=round(time.monotonic() - started, 3),
        )

    def end_overdue(self, slot: Slot) -> None:
        """End ``slot``'s run as timed out: it is still executing long after its timeout (a
        hung step); its thread is told to stop."""
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
            return
        self._log.warning("run overdue, ended as timed out", run_id=claimed.id)
        self._after_run(claimed, final=retry_id is None)

    def hand_back(self, claimed: ClaimedRun) -> None:
        """Give a run claimed but not started back to the queue."""
        try:
            self.store.hand_back(claimed.id, holder=self.instance)
        except BotsError as exc:
            self._log.warning("cannot hand back run", run_id=claimed.id, error=str(exc))
            return
        self._log.info("run handed back", run_id=claimed.id)

    def end_failed(self, claimed: ClaimedRun, error: str) -> None:
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

    def _after_run(self, claimed: ClaimedRun, *, final: bool) -> None:
        """Report and notify a run the robot ended itself (the engine does it for the runs
        it ends)."""
        from orchestrator.engine.run_end import after_run

        settings = self._per_tenant[claimed.tenant]
        after_run(self.store, settings, claimed.id, final=final, report_now=False)
