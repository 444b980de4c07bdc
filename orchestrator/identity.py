"""Who acts, and whether they may: identities, roles per action, tenant isolation.

On one machine without users the operating-system account is the identity, with every role
and every tenant (the embedded default). Once a user exists, every human action needs that
person's token, from ``BOTS_TOKEN`` or the token file (``BOTS_TOKEN_FILE``, default
``~/.config/kommune-bots/token``, readable by its owner only). The audit trail then records
``user:<name>@<tenant>`` instead of ``user:<login>@<host>``. Example::

    who = current_identity(store)
    require(who, "queue resolve", "giessen")   # NotAllowed: wrong role or other tenant
    store.queues.resolve_item(..., actor=who.actor)

Which role may do what is the one table :data:`PERMISSIONS`, keyed by the command's words.
A user of one tenant sees nothing of another: :meth:`Identity.sees` filters lists, and
:func:`require` refuses actions there. A user of tenant ``*`` acts on every tenant.
"""

from __future__ import annotations

import getpass
import os
import socket
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from orchestrator.errors import NotAllowed, NotAuthenticated
from orchestrator.store import ALL_TENANTS, Role, RunStore, UserRecord

#: Where the CLI looks for a token when ``BOTS_TOKEN`` is not set and ``BOTS_TOKEN_FILE``
#: names no other file.
DEFAULT_TOKEN_FILE = Path("~/.config/kommune-bots/token")

_ALL = frozenset(Role)
_A, _D, _O, _F, _P = Role.ADMIN, Role.DEVELOPER, Role.OPERATOR, Role.FACHAMT, Role.APPROVER

#: Human action (the command's words) -> the roles that may do it. Four eyes: only an
#: approver approves (an admin who must, gets the role as a second user); the store refuses
#: the item's creator or last editor whatever the roles.
PERMISSIONS: Mapping[str, frozenset[Role]] = {
    # Work queues and their items.
    "queue list": _ALL,
    "queue show": _ALL,
    "queue items": _ALL,
    "queue item": _ALL,
    "queue create": frozenset({_A, _D}),
    "queue sync": frozenset({_A, _D}),
    "queue add": frozenset({_A, _D, _O, _F}),
    "queue retry": frozenset({_A, _O, _F}),
    "queue resolve": frozenset({_A, _O, _F}),
    "queue approve": frozenset({_P}),
    "queue purge": frozenset({_A}),
    # Runs, schedules and robots.
    "run": frozenset({_A, _D, _O}),
    "history": _ALL,
    "show": _ALL,
    "runs list": _ALL,
    "runs cancel": frozenset({_A, _D, _O}),
    "runs retry": frozenset({_A, _D, _O}),
    "robot list": _ALL,
    "robot start": frozenset({_A, _O}),
    "schedule list": _ALL,
    "schedule pause": frozenset({_A, _O}),
    "schedule resume": frozenset({_A, _O}),
    # The audit trail.
    "audit verify": _ALL,
    "audit anchor": frozenset({_A, _O}),
    "audit export": frozenset({_A}),
    # Reports for Fachämter.
    "report run": _ALL,
    "report period": _ALL,
    "report kpis": _ALL,
    # Deletion on time (data protection).
    "retention show": _ALL,
    "retention apply": frozenset({_A}),
    # Notifications (e-mail, webhook).
    "notifications list": _ALL,
    "notifications deliver": frozenset({_A, _O}),
    "notifications test": frozenset({_A, _O}),
    # The catalog of shared bots.
    "catalog list": _ALL,
    "catalog show": _ALL,
    "catalog diff": _ALL,
    "catalog promote": frozenset({_A, _D}),
    "catalog pack": frozenset({_A, _D}),
    "catalog verify": _ALL,
    "catalog install": frozenset({_A, _O}),
    "catalog upgrade": frozenset({_A, _O}),
    # Users.
    "users list": frozenset({_A}),
    "users add": frozenset({_A}),
    "users disable": frozenset({_A}),
}


@dataclass(frozen=True)
class Identity:
    """Who acts: a user (``kind`` ``user``) or the operating-system account (``os``).

    ``tenant`` None means every tenant (the OS account, a user of tenant ``*``).
    ``host`` is the machine, for the OS account only.
    """

    name: str
    tenant: str | None
    roles: frozenset[Role]
    kind: Literal["user", "os"]
    host: str | None = None

    @classmethod
    def of_user(cls, user: UserRecord) -> Identity:
        """The identity of a stored user."""
        tenant = None if user.tenant == ALL_TENANTS else user.tenant
        return cls(user.name, tenant, frozenset(user.roles), "user")

    @classmethod
    def of_os_account(cls) -> Identity:
        """The operating-system account at the keyboard, with every role and tenant."""
        try:
            login = getpass.getuser()
        except (KeyError, OSError):  # no name for this uid (containers)
            login = f"uid{os.getuid()}"
        return cls(login, None, _ALL, "os", socket.gethostname())

    @property
    def actor(self) -> str:
        """Who this is in the audit trail: ``user:<name>@<tenant>`` for a user (tenant ``*``
        for every tenant), ``user:<login>@<host>`` for the OS account."""
        where = self.host if self.kind == "os" else (self.tenant or ALL_TENANTS)
        return f"user:{self.name}@{where}"

    def sees(self, tenant: str | None) -> bool:
        """Whether ``tenant``'s things are visible to this identity (lists filter by it)."""
        return self.tenant is None or tenant == self.tenant

    def to_json(self) -> dict[str, Any]:
        """As JSON-ready data (the shape `bots whoami --json` prints)."""
        return {
            "name": self.name,
            "tenant": self.tenant,
            "roles": [role.value for role in Role if role in self.roles],
            "kind": self.kind,
            "actor": self.actor,
        }


def current_identity(store: RunStore, environ: Mapping[str, str] | None = None) -> Identity:
    """Who is acting: the OS account while no user exists, else the user whose token is in
    ``BOTS_TOKEN`` or the token file (``environ`` defaults to the process environment).

    Raises:
        NotAuthenticated: users exist and no token was found, the token file can be read
            by others, or no enabled user has the token.
    """
    if not store.users.any_users():
        return Identity.of_os_account()
    env = os.environ if environ is None else environ
    token = env.get("BOTS_TOKEN", "").strip() or read_token_file(token_file(env))
    return Identity.of_user(store.users.authenticate(token))


def token_file(environ: Mapping[str, str] | None = None) -> Path:
    """The token file: ``BOTS_TOKEN_FILE``, else :data:`DEFAULT_TOKEN_FILE`."""
    env = os.environ if environ is None else environ
    return Path(env.get("BOTS_TOKEN_FILE") or DEFAULT_TOKEN_FILE).expanduser()


def read_token_file(path: Path) -> str:
    """The token in ``path``, which only its owner may read or write.

    Raises:
        NotAuthenticated: the file is missing, empty, not the caller's, or open to others.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        raise NotAuthenticated(
            f"users are configured, so a token is needed: set BOTS_TOKEN, or write your token "
            f"to {path} (chmod 600); an admin adds you with `bots users add`"
        ) from None
    except OSError as exc:
        raise NotAuthenticated(f"cannot read the token file {path}: {exc.strerror}") from None
    if os.name == "posix":
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise NotAuthenticated(
                f"the token file {path} can be used by others (mode "
                f"{stat.S_IMODE(info.st_mode):04o}); refusing it: run `chmod 600 {path}`, and "
                "if others could read it, have an admin disable the user and add a new token"
            )
        if info.st_uid != os.getuid():
            raise NotAuthenticated(f"the token file {path} belongs to another account")
    token = path.read_text(encoding="utf-8").strip()
    if not token:
        raise NotAuthenticated(f"the token file {path} is empty")
    return token


def require(identity: Identity, action: str, tenant: str | None) -> None:
    """Refuse ``action`` on ``tenant`` unless one of ``identity``'s roles allows it and the
    tenant is the identity's own (``tenant`` None: an action on every tenant).

    Raises:
        NotAllowed: the role or the tenant does not fit.
        KeyError: ``action`` is not in :data:`PERMISSIONS` (a bug of the caller).
    """
    if not identity.sees(tenant):
        where = "every tenant" if tenant is None else f"tenant {tenant!r}"
        raise NotAllowed(
            f"{identity.actor} belongs to tenant {identity.tenant!r} and cannot act on {where}"
        )
    require_role(identity, action)


def require_role(identity: Identity, action: str) -> None:
    """Refuse ``action`` unless one of ``identity``'s roles allows it (whatever the tenant).

    Raises:
        NotAllowed: none of its roles allows the action.
        KeyError: ``action`` is not in :data:`PERMISSIONS` (a bug of the caller).
    """
    allowed = PERMISSIONS[action]
    if not identity.roles & allowed:
        needed = " or ".join(role.value for role in Role if role in allowed)
        held = ", ".join(role.value for role in Role if role in identity.roles) or "none"
        raise NotAllowed(
            f"{identity.actor} may not {action}: that needs the role {needed} (has: {held})"
        )


def add_user(
    store: RunStore, identity: Identity, tenant: str, name: str, roles: Iterable[str]
) -> tuple[UserRecord, str]:
    """Add a user as ``identity`` (the programmatic twin of `bots users add`); returns the
    user and the token, shown this once.

    The OS account may add users only while none exist, and the first one must be an admin
    (who then adds the others with a token).

    Raises:
        NotAllowed: not an admin of ``tenant``, or a first user without the admin role.
        UserExists, ConfigError: see :meth:`~orchestrator.store.users.UserRepository.add_user`.
    """
    chosen = [str(role).strip().lower() for role in roles]
    if identity.kind == "os" and Role.ADMIN.value not in chosen:
        raise NotAllowed(
            "the first user must be an admin (--role admin): only an admin's token can add "
            "users once one exists"
        )
    require(identity, "users add", tenant)
    return store.users.add_user(tenant, name, chosen, actor=identity.actor)


def disable_user(store: RunStore, identity: Identity, tenant: str, name: str) -> UserRecord:
    """Disable a user as ``identity`` (the twin of `bots users disable`).

    Raises:
        NotAllowed: not an admin of ``tenant``, or the user is the last enabled admin who
            could add users for ``tenant`` (no one could add or disable users any more).
        UserNotFound: the tenant has no such user.
    """
    require(identity, "users disable", tenant)
    target = store.users.get_user(tenant, name)
    if Role.ADMIN in target.roles and not target.disabled:
        others = [
            user
            for user in store.users.list_users()
            if user.id != target.id
            and not user.disabled
            and Role.ADMIN in user.roles
            and user.tenant in (tenant, ALL_TENANTS)
        ]
        if not others:
            raise NotAllowed(
                f"{name!r} is the last admin who can manage the users of tenant {tenant!r}; "
                "add another admin first"
            )
    return store.users.disable_user(tenant, name, actor=identity.actor)


def visible_users(store: RunStore, identity: Identity) -> list[UserRecord]:
    """The users ``identity`` may list (the twin of `bots users list`): all for an identity
    of every tenant, else only those of its own tenant.

    Raises:
        NotAllowed: ``identity`` has no role that may list users.
    """
    require_role(identity, "users list")
    return [user for user in store.users.list_users() if identity.sees(user.tenant)]
