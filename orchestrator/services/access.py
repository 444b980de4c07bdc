"""Who may do what, and on which tenant: the permissions of the domain and the one tenant rule.

Every service operation authorises once, here, before it touches the store::

    where = tenant_for(actor, asked, settings.tenant)
    authorise(actor, Permission.RESOLVE_ITEM, where)   # NotAllowed: wrong role or tenant

Which role may do what is the one table :data:`PERMISSIONS`. A permission's value is how a
refusal names it ("may not queue resolve"), the words a person at any front end reads. A
user of one tenant sees nothing of another: :meth:`~orchestrator.identity.Identity.sees`
filters lists, and :func:`authorise` refuses actions there. A user of tenant ``*`` acts on
every tenant. Four eyes: only an approver approves (an admin who must, gets the role as a
second user); the store refuses the item's creator or last editor whatever the roles.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from orchestrator.errors import NotAllowed
from orchestrator.identity import Identity
from orchestrator.store import Role


class Permission(StrEnum):
    """An operation a person may be allowed: one per service operation (reads of one kind
    share one). The value names it in refusals."""

    # Work queues and their items.
    LIST_QUEUES = "queue list"
    SHOW_QUEUE = "queue show"
    LIST_ITEMS = "queue items"
    SHOW_ITEM = "queue item"
    CREATE_QUEUE = "queue create"
    SYNC_QUEUES = "queue sync"
    ADD_ITEMS = "queue add"
    RETRY_ITEM = "queue retry"
    RESOLVE_ITEM = "queue resolve"
    APPROVE_ITEM = "queue approve"
    PURGE_PAYLOADS = "queue purge"
    # Runs, schedules and robots.
    START_RUN = "run"
    LIST_RUNS = "runs list"
    SHOW_RUN = "show"
    CANCEL_RUN = "runs cancel"
    RETRY_RUN = "runs retry"
    LIST_ROBOTS = "robot list"
    START_ROBOT = "robot start"
    LIST_SCHEDULES = "schedule list"
    PAUSE_SCHEDULE = "schedule pause"
    RESUME_SCHEDULE = "schedule resume"
    # The audit trail.
    VERIFY_AUDIT = "audit verify"
    ANCHOR_AUDIT = "audit anchor"
    EXPORT_AUDIT = "audit export"
    # Reports for Fachämter.
    REPORT_RUN = "report run"
    REPORT_PERIOD = "report period"
    REPORT_KPIS = "report kpis"
    # Deletion on time (data protection).
    SHOW_RETENTION = "retention show"
    APPLY_RETENTION = "retention apply"
    # Notifications (e-mail, webhook).
    LIST_NOTIFICATIONS = "notifications list"
    DELIVER_NOTIFICATIONS = "notifications deliver"
    TEST_NOTIFICATIONS = "notifications test"
    # The catalog of shared bots.
    READ_CATALOG = "catalog read"
    PROMOTE_BOT = "catalog promote"
    PUBLISH_BOT = "catalog pack"
    VERIFY_BUNDLE = "catalog verify"
    INSTALL_BOT = "catalog install"
    UPGRADE_BOT = "catalog upgrade"
    # Users.
    LIST_USERS = "users list"
    ADD_USER = "users add"
    DISABLE_USER = "users disable"


_ALL = frozenset(Role)
_A, _D, _O, _F, _P = Role.ADMIN, Role.DEVELOPER, Role.OPERATOR, Role.FACHAMT, Role.APPROVER
_P_ = Permission

#: Permission -> the roles that have it.
PERMISSIONS: Mapping[Permission, frozenset[Role]] = {
    _P_.LIST_QUEUES: _ALL,
    _P_.SHOW_QUEUE: _ALL,
    _P_.LIST_ITEMS: _ALL,
    _P_.SHOW_ITEM: _ALL,
    _P_.CREATE_QUEUE: frozenset({_A, _D}),
    _P_.SYNC_QUEUES: frozenset({_A, _D}),
    _P_.ADD_ITEMS: frozenset({_A, _D, _O, _F}),
    _P_.RETRY_ITEM: frozenset({_A, _O, _F}),
    _P_.RESOLVE_ITEM: frozenset({_A, _O, _F}),
    _P_.APPROVE_ITEM: frozenset({_P}),
    _P_.PURGE_PAYLOADS: frozenset({_A}),
    _P_.START_RUN: frozenset({_A, _D, _O}),
    _P_.LIST_RUNS: _ALL,
    _P_.SHOW_RUN: _ALL,
    _P_.CANCEL_RUN: frozenset({_A, _D, _O}),
    _P_.RETRY_RUN: frozenset({_A, _D, _O}),
    _P_.LIST_ROBOTS: _ALL,
    _P_.START_ROBOT: frozenset({_A, _O}),
    _P_.LIST_SCHEDULES: _ALL,
    _P_.PAUSE_SCHEDULE: frozenset({_A, _O}),
    _P_.RESUME_SCHEDULE: frozenset({_A, _O}),
    _P_.VERIFY_AUDIT: _ALL,
    _P_.ANCHOR_AUDIT: frozenset({_A, _O}),
    _P_.EXPORT_AUDIT: frozenset({_A}),
    _P_.REPORT_RUN: _ALL,
    _P_.REPORT_PERIOD: _ALL,
    _P_.REPORT_KPIS: _ALL,
    _P_.SHOW_RETENTION: _ALL,
    _P_.APPLY_RETENTION: frozenset({_A}),
    _P_.LIST_NOTIFICATIONS: _ALL,
    _P_.DELIVER_NOTIFICATIONS: frozenset({_A, _O}),
    _P_.TEST_NOTIFICATIONS: frozenset({_A, _O}),
    _P_.READ_CATALOG: _ALL,
    _P_.PROMOTE_BOT: frozenset({_A, _D}),
    _P_.PUBLISH_BOT: frozenset({_A, _D}),
    _P_.VERIFY_BUNDLE: _ALL,
    _P_.INSTALL_BOT: frozenset({_A, _O}),
    _P_.UPGRADE_BOT: frozenset({_A, _O}),
    _P_.LIST_USERS: frozenset({_A}),
    _P_.ADD_USER: frozenset({_A}),
    _P_.DISABLE_USER: frozenset({_A}),
}


def tenant_for(actor: Identity, asked: str | None, default: str | None) -> str | None:
    """The one tenant rule: the tenant an operation acts on.

    The tenant asked for (``--tenant``), else the actor's own (a user bound to one tenant),
    else ``default``: the setting ``tenant`` for an operation on one tenant, None (every
    tenant the actor may see) for one that spans tenants (audit export, notifications,
    retention). Whether the actor may act there is :func:`authorise`'s question::

        tenant_for(anna_of_giessen, None, "marburg")      # 'giessen'
        tenant_for(os_account, None, "marburg")           # 'marburg'
        tenant_for(os_account, None, None)                # None: every tenant
    """
    return asked or actor.tenant or default


def authorise(actor: Identity, permission: Permission, tenant: str | None) -> None:
    """Refuse unless one of ``actor``'s roles has ``permission`` and ``tenant`` is the
    actor's own (``tenant`` None: an operation on every tenant).

    Raises:
        NotAllowed: the role or the tenant does not fit.
    """
    if not actor.sees(tenant):
        where = "every tenant" if tenant is None else f"tenant {tenant!r}"
        raise NotAllowed(
            f"{actor.actor} belongs to tenant {actor.tenant!r} and cannot act on {where}"
        )
    authorise_role(actor, permission)


def authorise_role(actor: Identity, permission: Permission) -> None:
    """Refuse unless one of ``actor``'s roles has ``permission``, for an operation that
    concerns no one tenant (verifying the audit chain, listing robots or users).

    Raises:
        NotAllowed: none of its roles has the permission.
    """
    allowed = PERMISSIONS[permission]
    if not actor.roles & allowed:
        needed = " or ".join(role.value for role in Role if role in allowed)
        held = ", ".join(role.value for role in Role if role in actor.roles) or "none"
        raise NotAllowed(
            f"{actor.actor} may not {permission}: that needs the role {needed} (has: {held})"
        )
