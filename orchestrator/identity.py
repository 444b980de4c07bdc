"""Who acts: identities, and the one place a token's user is resolved.

A front end hands :func:`resolve_actor` the token it was given; the store finds the enabled
user it belongs to. While no user exists there is no one to find: a web server refuses then
(the default), while the CLI on one machine chooses ``allow_os_account=True`` and acts as the
operating-system account, with every role and every tenant (the embedded default). The
token the CLI passes comes from ``BOTS_TOKEN`` or the token file (``BOTS_TOKEN_FILE``,
default ``~/.config/kommune-bots/token``, readable by its owner only). The audit trail then
records ``user:<name>@<tenant>`` instead of ``user:<login>@<host>``. Example::

    who = resolve_actor(store, request_token)               # a web console
    who = resolve_actor(store, environment_token, allow_os_account=True)   # the CLI

What a role may do and which tenant an operation acts on are decided by the service layer
(:mod:`orchestrator.services.access`), never here. A user of tenant ``*`` acts on every tenant.
"""

from __future__ import annotations

import getpass
import os
import socket
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from orchestrator.errors import NotAuthenticated
from orchestrator.store import ALL_TENANTS, Role, RunStore, UserRecord

#: Where the CLI looks for a token when ``BOTS_TOKEN`` is not set and ``BOTS_TOKEN_FILE``
#: names no other file.
DEFAULT_TOKEN_FILE = Path("~/.config/kommune-bots/token")

_ALL = frozenset(Role)


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


def resolve_actor(
    store: RunStore, token: str | Callable[[], str] | None, *, allow_os_account: bool = False
) -> Identity:
    """The identity acting with ``token``: the enabled user it belongs to.

    ``token`` may be a function giving it, called only once users exist (the CLI's token
    file need not exist before). ``allow_os_account``: while no user exists, act as the
    operating-system account with every role and tenant; only the CLI on one machine makes
    that choice, every other front end refuses (the default).

    Raises:
        NotAuthenticated: no token was given, no enabled user has it, or (unless
            ``allow_os_account``) no user exists yet.
    """
    if not store.users.any_users():
        if allow_os_account:
            return Identity.of_os_account()
        raise NotAuthenticated(
            "no users exist yet: add the first admin with `bots users add NAME --role admin` "
            "on the orchestrator's machine"
        )
    given = token() if callable(token) else token
    if not given or not given.strip():
        raise NotAuthenticated("a token is needed: no token was given")
    return Identity.of_user(store.users.authenticate(given))


def environment_token(environ: Mapping[str, str] | None = None) -> str:
    """The CLI's token: ``BOTS_TOKEN``, else the token file (``environ`` defaults to the
    process environment).

    Raises:
        NotAuthenticated: neither is set, or the token file can be read by others.
    """
    env = os.environ if environ is None else environ
    return env.get("BOTS_TOKEN", "").strip() or read_token_file(token_file(env))


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
