"""People and who acts, as text: `bots users list`, `bots whoami`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported for their types only: a presenter loads no scheduler or store
    from orchestrator.identity import Identity
    from orchestrator.store import UserRecord


def user_line(user: UserRecord) -> str:
    """One user as `bots users list` prints it: tenant, name, roles, status, last use."""
    status = "disabled" if user.disabled else "active"
    used = f"{user.last_used_at:%Y-%m-%d %H:%M}" if user.last_used_at else "never"
    return (
        f"{user.tenant:<12} {user.name:<16} {','.join(user.roles):<28} {status:<8} last used {used}"
    )


def identity_line(who: Identity) -> str:
    """Who acts, as `bots whoami` prints it."""
    if who.kind == "os":
        return f"{who.actor} (operating-system account: no users exist; every role and tenant)"
    roles = ", ".join(who.to_json()["roles"])
    return f"{who.actor} (tenant {who.tenant or 'every tenant'}; roles: {roles})"
