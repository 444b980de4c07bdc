"""Schedules of the configuration: list them, pause and resume one (audited)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.services.access import Permission
from orchestrator.services.context import Context

if TYPE_CHECKING:
    from orchestrator.schedules import ScheduleInfo


def list_schedules(ctx: Context, tenant: str | None) -> list[ScheduleInfo]:
    """The tenant's schedules with their next firing and whether they are paused."""
    from orchestrator.schedules import list_schedules as listed

    where = ctx.on_tenant(Permission.LIST_SCHEDULES, tenant)
    return listed(ctx.settings, ctx.store, where)


def set_paused(ctx: Context, name: str, tenant: str | None, *, paused: bool) -> None:
    """Pause a schedule (its firings are skipped, and logged) or resume it.

    Raises:
        NotAllowed: the actor may not pause or resume schedules there.
        InputError: the tenant has no such schedule.
    """
    from orchestrator.schedules import pause_schedule, resume_schedule

    permission = Permission.PAUSE_SCHEDULE if paused else Permission.RESUME_SCHEDULE
    where = ctx.on_tenant(permission, tenant)
    change = pause_schedule if paused else resume_schedule
    change(ctx.settings, ctx.store, where, name, ctx.actor.actor)
