"""The use cases of the orchestrator, for the CLI and every front end after it.

One module per group: :mod:`~orchestrator.services.runs`, :mod:`~.queues`,
:mod:`~.schedules`, :mod:`~.robots`, :mod:`~.audit`, :mod:`~.reports`, :mod:`~.retention`,
:mod:`~.notifications`, :mod:`~.catalog`, :mod:`~.users`. Each operation takes a
:class:`Context` (the store, the settings and who acts), authorises once against a
:class:`Permission` on the tenant of the one tenant rule (:func:`tenant_for`), works through
the store and returns records; presenters (:mod:`orchestrator.presenters`) turn them into
text or JSON. Roles, four eyes and tenant isolation are decided here, so no front end can
skip them::

    from orchestrator.services import open_context, queues

    with open_context(settings, token) as ctx:       # refuses while no user exists
        item = queues.approve_item(ctx, 7, "checked", tenant=None)

Only the CLI opens its context with ``allow_os_account=True``
(:func:`orchestrator.commands.shared.service_context`).
"""

from orchestrator.identity import Identity, environment_token, token_file
from orchestrator.services.access import (
    PERMISSIONS,
    Permission,
    authorise,
    authorise_role,
    tenant_for,
)
from orchestrator.services.context import Context, open_context

__all__ = [
    "PERMISSIONS",
    "Context",
    "Identity",
    "Permission",
    "authorise",
    "authorise_role",
    "environment_token",
    "open_context",
    "tenant_for",
    "token_file",
]
