"""People with roles per tenant: add one (its token shown once), disable one, list them.

The operating-system account may add users only while none exist, and the first one must be
an admin (who then adds the others with a token). The tenant is the one tenant rule's.
"""

from __future__ import annotations

from collections.abc import Iterable

from orchestrator.errors import NotAllowed
from orchestrator.services.access import Permission
from orchestrator.services.context import Context
from orchestrator.store import ALL_TENANTS, Role, UserRecord


def add_user(
    ctx: Context, name: str, roles: Iterable[str], tenant: str | None
) -> tuple[UserRecord, str]:
    """Add a user (the twin of `bots users add`); returns the user and the token, shown
    this once.

    Raises:
        NotAllowed: not an admin of the tenant, or a first user without the admin role.
        UserExists, ConfigError: see
            :meth:`~orchestrator.store.users.repository.UserRepository.add_user`.
    """
    chosen = [str(role).strip().lower() for role in roles]
    if ctx.actor.kind == "os" and Role.ADMIN.value not in chosen:
        raise NotAllowed(
            "the first user must be an admin (--role admin): only an admin's token can add "
            "users once one exists"
        )
    where = ctx.on_tenant(Permission.ADD_USER, tenant)
    return ctx.store.users.add_user(where, name, chosen, actor=ctx.actor.actor)


def disable_user(ctx: Context, name: str, tenant: str | None) -> UserRecord:
    """Disable a user (the twin of `bots users disable`): the token is refused from now on.

    Raises:
        NotAllowed: not an admin of the tenant, or the user is the last enabled admin who
            could add users for it (no one could add or disable users any more).
        UserNotFound: the tenant has no such user.
    """
    where = ctx.on_tenant(Permission.DISABLE_USER, tenant)
    users = ctx.store.users
    target = users.get_user(where, name)
    if Role.ADMIN in target.roles and not target.disabled:
        others = [
            user
            for user in users.list_users()
            if user.id != target.id
            and not user.disabled
            and Role.ADMIN in user.roles
            and user.tenant in (where, ALL_TENANTS)
        ]
        if not others:
            raise NotAllowed(
                f"{name!r} is the last admin who can manage the users of tenant {where!r}; "
                "add another admin first"
            )
    return users.disable_user(where, name, actor=ctx.actor.actor)


def visible_users(ctx: Context) -> list[UserRecord]:
    """The users the actor may list (the twin of `bots users list`): all for an actor of
    every tenant, else only those of its own tenant."""
    ctx.allowed(Permission.LIST_USERS)
    return [user for user in ctx.store.users.list_users() if ctx.actor.sees(user.tenant)]
