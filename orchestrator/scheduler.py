"""Schedules turn into queued runs: APScheduler on the leader, lost runs found by everyone.

``bots orchestrator start`` runs :func:`serve`. Several orchestrators may run for
availability; each one searches for runs and work items whose lease ran out
(:meth:`RunStore.reap_expired`, ``store.queues.reap_items``), and the one holding the store
lease ``scheduler`` runs an APScheduler 3 ``BackgroundScheduler`` with one cron job per
schedule and applies retention once a day (:func:`orchestrator.engine.run_end.expire_records`:
run evidence, reports, logs and work-item payloads past their period). A firing at fire time
T of schedule S of tenant C enqueues a run with ``dedupe_key = "schedule:C/S@T"``, so one
fire time yields one run even if two orchestrators fire it (e.g. during a takeover). A new
leader first makes up the fire times missed since the schedule's last firing, within the
schedule's misfire grace (several of them coalesced into one run unless the schedule says
``coalesce: false``). A tenant's schedules are those of its settings and those of its city
overlays of catalog bots, named ``<bot>.<schedule>`` (:func:`orchestrator.catalog.city.
schedules_for`)::

    with open_store(settings.database) as store:
        Orchestrator(settings, store).run(stop_event)

What a schedule says (its cron trigger in the time zone of ``orchestrator.timezone``, its fire
times, when a firing is skipped, the dedupe key) is :mod:`orchestrator.schedules`.

The leader also delivers notifications every ``notifications.deliver_every_s``, in a job of
its scheduler: it queues SLA breaches and robots gone silent, puts the daily digests
together, and sends what is pending (:mod:`orchestrator.notifications`).
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler

from orchestrator.catalog.city import schedules_for, with_city_parameters
from orchestrator.errors import BotsError
from orchestrator.schedules import check_schedules, dedupe_key, fire_times, skip_reason
from orchestrator.service_log import service_logger
from orchestrator.settings import Settings
from orchestrator.store import RunStore, note_anchor, open_store

LEADER_LEASE = "scheduler"
#: How often the leader applies retention (daily, and when it starts leading).
PURGE_EVERY_S = 24 * 3600.0


class Orchestrator:
    """Finds lost runs; while holding the leader lease, turns schedule firings into runs.

    Args:
        settings: Schedules, tenants, leases, time zone, bot directories.
        store: The shared store.
        instance: This orchestrator's name in the lease; default ``<host>:<pid>``.
    """

    def __init__(self, settings: Settings, store: RunStore, *, instance: str | None = None):
        self.settings = settings
        self.store = store
        self.instance = instance or f"{socket.gethostname()}:{os.getpid()}"
        self.triggers = check_schedules(settings)
        self.zone = ZoneInfo(settings.orchestrator.timezone)
        self._scheduler: BackgroundScheduler | None = None
        self._log: Any = service_logger(settings.log_level).bind(instance=self.instance)
        self._noted_head: tuple[int, str] | None = None  # the audit head this one noted last

    @property
    def is_leader(self) -> bool:
        """True while this instance runs the scheduler."""
        return self._scheduler is not None

    def run(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set; then step down and release the lease."""
        config = self.settings.orchestrator
        tick = min(config.leader_lease_s / 3, config.reap_every_s, 1.0)
        next_reap = next_anchor = next_purge = 0.0
        self._log.info("orchestrator started", schedules=len(self.triggers))
        try:
            while not stop.is_set():
                try:
                    if _monotonic() >= next_reap:
                        self._reap()
                        next_reap = _monotonic() + config.reap_every_s
                    leader = self.store.acquire_lease(
                        LEADER_LEASE, self.instance, config.leader_lease_s
                    )
                except BotsError as exc:  # the database is away: nobody may count on us
                    self._log.warning("store unavailable", error=str(exc))
                    leader = False
                starting = leader and not self.is_leader
                if leader and (starting or _monotonic() >= next_purge):
                    try:
                        self._purge()
                        next_purge = _monotonic() + PURGE_EVERY_S
                    except BotsError as exc:  # tried again on a later tick
                        self._log.warning("retention failed", error=str(exc))
                if leader and config.anchor_every_s and (starting or _monotonic() >= next_anchor):
                    # A new leader first notes the trail as the one before left it.
                    if self._anchor():
                        next_anchor = _monotonic() + config.anchor_every_s
                if starting:
                    self._become_leader()
                elif not leader and self.is_leader:
                    self._step_down("lease lost")
                stop.wait(tick)
        finally:
            if self.is_leader:
                self._step_down("stopping")
                try:
                    self.store.release_lease(LEADER_LEASE, self.instance)
                except BotsError as exc:
                    self._log.warning("lease not released", error=str(exc))
            self._log.info("orchestrator stopped")

    def _anchor(self) -> bool:
        """Note the audit trail's head down outside the database (:mod:`.store.anchors`) if
        the trail grew since this orchestrator last did; True if it had grown.

        Called on every tick once ``anchor_every_s`` passed since the last anchor: one query
        (:meth:`RunStore.audit_head`) while the trail stays as it is. A failure counts as
        grown, so it is tried again after ``anchor_every_s``, not logged on every tick.
        """
        path = self.settings.audit_anchors_file
        try:
            head = self.store.audit_head()
            if head is None or head == self._noted_head:
                return False
            anchor = note_anchor(path, head)  # None: noted already (`bots audit anchor`)
        except (BotsError, OSError) as exc:
            self._log.warning("audit head not noted down", file=str(path), error=str(exc))
            return True
        self._noted_head = head
        if anchor is not None:
            self._log.info("audit head noted down", file=str(path), seq=anchor.seq)
        return True

    def fire(self, tenant: str, name: str, fire_time: datetime) -> int | None:
        """Handle one fire time of a schedule: a queued run's id, or None if skipped."""
        from orchestrator.model.loader import resolve_bot
        from orchestrator.requests import run_request

        schedule = schedules_for(self.settings, tenant)[name]
        fire_time = fire_time.astimezone(self.zone)
        actor = f"schedule:{tenant}/{name}"
        state = self.store.schedule_state(tenant).get(name)
        reason = "paused" if state and state.paused else skip_reason(schedule, fire_time)
        run_id = None
        if reason is not None:
            self._log.info("firing skipped", schedule=actor, fire_time=fire_time, reason=reason)
            self.store.audit(
                "schedule skipped",
                tenant=tenant,
                actor=actor,
                data={"fire_time": fire_time.isoformat(), "reason": reason},
            )
        else:
            try:
                bot = resolve_bot(schedule.bot, self.settings.bot_dirs)
                params = with_city_parameters(bot, self.settings, tenant, schedule.parameters)
                request = run_request(
                    bot,
                    settings=self.settings,
                    tenant=tenant,
                    params=params,
                    trigger="schedule",
                    actor=actor,
                    dedupe_key=dedupe_key(tenant, name, fire_time),
                )
            except BotsError as exc:
                self._log.error("firing failed", schedule=actor, error=str(exc))
                self.store.audit(
                    "schedule failed",
                    tenant=tenant,
                    actor=actor,
                    data={"fire_time": fire_time.isoformat(), "error": str(exc)},
                )
            else:
                run_id = self.store.enqueue(request)
                self._log.info("run queued", schedule=actor, fire_time=fire_time, run_id=run_id)
        self.store.record_firing(tenant, name, fire_time)
        return run_id

    # ----------------------------------------------------------------- leadership

    def _become_leader(self) -> None:
        self._log.info("leader: scheduling")
        scheduler = BackgroundScheduler(timezone=self.zone)
        for (tenant, name), trigger in self.triggers.items():
            schedule = schedules_for(self.settings, tenant)[name]
            if not schedule.enabled:
                continue
            scheduler.add_job(
                self._fire_due,
                trigger,
                args=[tenant, name],
                id=f"{tenant}/{name}",
                misfire_grace_time=schedule.misfire_grace_s,
                coalesce=True,
                max_instances=1,
            )
        self._add_notifications(scheduler)
        scheduler.start()
        self._scheduler = scheduler
        # After the start, so a fire time passing meanwhile is either made up here or fired
        # by the scheduler (or both: the store keeps one run per fire time).
        for tenant, name in self.triggers:
            self._fire_due(tenant, name, make_up=True)

    def _add_notifications(self, scheduler: BackgroundScheduler) -> None:
        """Deliver notifications every ``notifications.deliver_every_s``, in a thread of the
        scheduler: a mail server that does not answer never delays the leader's lease."""
        from orchestrator.notifications.delivery import configured

        if configured(self.settings):
            scheduler.add_job(
                self._notify,
                "interval",
                seconds=self.settings.notifications.deliver_every_s,
                id="notifications",
                next_run_time=datetime.now(self.zone),
                max_instances=1,
                coalesce=True,
            )

    def _notify(self) -> None:
        """One notification pass: SLA breaches and lost robots queued, digests put together,
        pending messages delivered (:func:`orchestrator.notifications.notification_pass`)."""
        from orchestrator.engine.run_end import tenant_secrets
        from orchestrator.notifications import deliverer, notification_pass

        try:
            done = notification_pass(
                self.store, self.settings, secrets=tenant_secrets, holder=deliverer("leader")
            )
        except BotsError as exc:  # the database is away: the next pass goes on
            self._log.warning("notifications not delivered", error=str(exc))
            return
        if done.sent or done.failed:
            self._log.info("notifications delivered", sent=len(done.sent), failed=len(done.failed))

    def _step_down(self, why: str) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        self._log.info("no longer leader", reason=why)

    def _fire_due(self, tenant: str, name: str, make_up: bool = False) -> None:
        """Fire the schedule's due fire times since its last firing, within the misfire grace.

        As APScheduler's job it normally finds exactly one: the one that is due now. After a
        takeover, or when a job was skipped because the previous one was still busy, it also
        finds those missed in between: with ``coalesce`` (the default) they become one run at
        the latest of them, the others are audited as ``schedule coalesced``; without, each
        fire time gets its own run. A schedule that never fired has no history to make up:
        only its current fire time.
        """
        schedule = schedules_for(self.settings, tenant)[name]
        if not schedule.enabled:
            return
        now = datetime.now(self.zone)
        earliest = now - timedelta(seconds=schedule.misfire_grace_s)
        actor = f"schedule:{tenant}/{name}"
        try:
            state = self.store.schedule_state(tenant).get(name)
            last = state.last_fire_at if state else None
            due = fire_times(self.triggers[tenant, name], max(earliest, last or earliest), now)
            if last is None:
                due = [] if make_up else due[-1:]
            if make_up and due:
                self._log.info("making up missed firings", schedule=actor, n=len(due))
            if schedule.coalesce and len(due) > 1:
                missed, due = due[:-1], due[-1:]
                self.store.audit(
                    "schedule coalesced",
                    tenant=tenant,
                    actor=actor,
                    data={
                        "fire_times": [t.astimezone(self.zone).isoformat() for t in missed],
                        "into": due[0].astimezone(self.zone).isoformat(),
                    },
                )
                self._log.info("firings coalesced", schedule=actor, n=len(missed) + 1)
            for fire_time in due:
                self.fire(tenant, name, fire_time)
        except BotsError as exc:  # the database is away: the next leader makes it up
            self._log.error("firing not recorded", schedule=actor, error=str(exc))

    def _reap(self) -> None:
        for run_id, status in self.store.reap_expired(
            max_losses=self.settings.orchestrator.max_robot_losses
        ):
            self._log.warning("lease expired", run_id=run_id, now=str(status))
        for item_id, item_status in self.store.queues.reap_items():
            self._log.warning("work item lease expired", item_id=item_id, now=str(item_status))

    def _purge(self) -> None:
        """Apply retention (data minimisation): delete the run evidence, reports, logs and
        work-item payloads past their period; each deletion audited, and logged here."""
        from orchestrator.engine.run_end import expire_records

        outcome = expire_records(self.store, self.settings, actor=f"orchestrator:{self.instance}")
        for deletion in outcome.deletions:
            self._log.info(
                "retention deleted",
                tenant=deletion.tenant,
                kind=deletion.kind,
                count=deletion.count,
                bytes=deletion.bytes,
            )
        if outcome.finished:
            self._log.info("retention finished interrupted deletions", count=outcome.finished)
        for note in outcome.left_alone:
            self._log.warning("retention left a file alone", file=note)


def _monotonic() -> float:
    import time as clock

    return clock.monotonic()


def serve(settings: Settings) -> int:
    """Run an orchestrator until SIGTERM or SIGINT; 0 after a clean stop."""
    check_schedules(settings)
    stop = threading.Event()

    def request_stop(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with open_store(settings.database) as store:
        Orchestrator(settings, store).run(stop)
    return 0


if __name__ == "__main__":
    from orchestrator.settings import load_settings

    raise SystemExit(serve(load_settings()))
