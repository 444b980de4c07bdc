"""Who acts, with which settings, on which store: what every service operation is given.

A front end opens a context for each request or command, with the token it was given::

    with open_context(settings, token) as ctx:            # a web console: refuses without users
        item = queues.resolve_item(ctx, 7, "done", "checked by phone", tenant=None)

The CLI on one machine passes ``allow_os_account=True`` (see
:func:`orchestrator.identity.resolve_actor`); no other front end does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from orchestrator.identity import Identity, resolve_actor
from orchestrator.services.access import Permission, authorise, authorise_role, tenant_for
from orchestrator.settings import Settings
from orchestrator.store import RunStore, open_store


@dataclass(frozen=True)
class Context:
    """The store, the effective settings and who acts (``actor``)."""

    store: RunStore
    settings: Settings
    actor: Identity

    def on_tenant(self, permission: Permission, asked: str | None) -> str:
        """The one tenant an operation acts on (:func:`~orchestrator.services.access.
        tenant_for`, defaulting to the setting ``tenant``), once the actor may.

        Raises:
            NotAllowed: the actor's roles or tenant do not allow ``permission`` there.
        """
        where = tenant_for(self.actor, asked, self.settings.tenant) or self.settings.tenant
        authorise(self.actor, permission, where)
        return where

    def on_tenants(self, permission: Permission, asked: str | None) -> str | None:
        """The tenant an operation spanning tenants acts on: as :meth:`on_tenant`, but
        None (every tenant the actor may see) by default.

        Raises:
            NotAllowed: the actor's roles or tenant do not allow ``permission`` there.
        """
        where = tenant_for(self.actor, asked, None)
        authorise(self.actor, permission, where)
        return where

    def allowed(self, permission: Permission) -> None:
        """Refuse unless the actor's roles have ``permission`` (an operation of no tenant).

        Raises:
            NotAllowed: none of the actor's roles has it.
        """
        authorise_role(self.actor, permission)


@contextmanager
def open_context(
    settings: Settings,
    token: str | Callable[[], str] | None,
    *,
    allow_os_account: bool = False,
) -> Iterator[Context]:
    """The store of ``settings`` and the actor of ``token``, for the operations of one
    request (the store is closed after it).

    Raises:
        NotAuthenticated: as :func:`orchestrator.identity.resolve_actor`.
    """
    with open_store(settings.database) as store:
        actor = resolve_actor(store, token, allow_os_account=allow_os_account)
        yield Context(store, settings, actor)
