"""Robots: list them (a user of one tenant sees those serving it), and who may start one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.services.access import Permission, authorise, tenant_for
from orchestrator.services.context import Context

if TYPE_CHECKING:
    from orchestrator.robot_identity import RobotState


def list_robots(ctx: Context) -> list[RobotState]:
    """Every robot that registered, alive or gone; for a user of one tenant only those
    serving it."""
    from orchestrator.robot_identity import robot_states

    ctx.allowed(Permission.LIST_ROBOTS)
    tenant = ctx.actor.tenant
    return [
        state
        for state in robot_states(ctx.store, ctx.settings.orchestrator.lease_s)
        if tenant is None or tenant in state.record.tenants
    ]


def tenants_to_serve(ctx: Context, asked: list[str] | None) -> list[str] | None:
    """The tenants a robot started by the actor serves, once the actor may start robots
    for every one of them: ``asked`` (``--tenants``), else the actor's own (the one tenant
    rule); None: as the settings say (``robot.tenants``, else the setting ``tenant``).

    Raises:
        NotAllowed: the actor may not start robots for one of them.
    """
    served = asked
    if served is None and (own := tenant_for(ctx.actor, None, None)) is not None:
        served = [own]
    for tenant in served or ctx.settings.robot.tenants or [ctx.settings.tenant]:
        authorise(ctx.actor, Permission.START_ROBOT, tenant)
    return served
