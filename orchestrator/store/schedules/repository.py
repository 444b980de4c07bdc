"""Schedules and leader leases: which orchestrator leads, and each schedule's state.

A named lease (e.g. ``"scheduler"``) is held by one orchestrator at a time, for a time to
live it renews; the schedules of a tenant remember whether they are paused and when they last
fired. Example::

    schedules = ScheduleRepository(transactions)
    if schedules.acquire_lease("scheduler", "orch-1", 15):
        schedules.record_firing("giessen", "morgens", fire_time)
"""

from __future__ import annotations

from datetime import datetime

from orchestrator.store.audit.chain import AuditEvent
from orchestrator.store.schedules import records
from orchestrator.store.schedules.records import ScheduleState
from orchestrator.store.tables import aware, utc_now
from orchestrator.store.transactions import Transactions


class ScheduleRepository:
    """Leader leases and the state of schedules."""

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    def acquire_lease(self, name: str, holder: str, ttl_s: float) -> bool:
        """Take lease ``name`` for ``ttl_s`` seconds, or renew it; False if another holds it.

        Example: ``if store.acquire_lease("scheduler", "orch-1", 15): lead()``.
        """
        with self._tx.write() as connection:
            return records.acquire_lease(connection, name, holder, ttl_s, utc_now())

    def release_lease(self, name: str, holder: str) -> None:
        """Give up lease ``name`` if ``holder`` has it, so another can take it at once.

        Example: ``store.release_lease("scheduler", "orch-1")``.
        """
        with self._tx.write() as connection:
            records.release_lease(connection, name, holder)

    def schedule_state(self, tenant: str) -> dict[str, ScheduleState]:
        """The state of ``tenant``'s schedules, by name (schedules never touched are absent).

        Example: ``store.schedule_state("giessen")["morgens"].paused``.
        """
        with self._tx.read() as connection:
            return records.schedule_states(connection, tenant)

    def set_schedule_paused(self, tenant: str, name: str, paused: bool, *, actor: str) -> None:
        """Pause or resume a schedule (audited).

        Example: ``store.set_schedule_paused("giessen", "morgens", True, actor="user:alice")``.
        """
        with self._tx.change() as tx:
            records.set_paused(tx.connection, tenant, name, paused)
            action = "schedule paused" if paused else "schedule resumed"
            tx.record(AuditEvent(action, tenant, actor, {"schedule": name}))

    def record_firing(self, tenant: str, name: str, fire_time: datetime) -> None:
        """Remember that the schedule fired at ``fire_time`` (an earlier time changes nothing).

        Example: ``store.record_firing("giessen", "morgens", fire_time)``.
        """
        fire_time = aware(fire_time, "fire_time")
        with self._tx.write() as connection:
            records.record_firing(connection, tenant, name, fire_time)
