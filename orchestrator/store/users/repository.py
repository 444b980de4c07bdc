"""Users: people with roles per tenant, each with a personal token (the store's ``users``).

A token is shown once, when the user is added; the store keeps only its argon2 hash (and its
first :data:`PREFIX_LENGTH` characters, to find the row). Adding and disabling a user is
audited in the same transaction; neither the token nor its hash ever reaches the audit trail.
Example::

    user, token = store.users.add_user("giessen", "anna", ["fachamt"], actor="user:root@rpa-01")
    store.users.authenticate(token).name  # "anna"
    store.users.disable_user("giessen", "anna", actor="user:admin@giessen")
    store.users.authenticate(token)  # NotAuthenticated: the user is disabled

Which role may do what is decided above the store, in :mod:`orchestrator.identity`.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from orchestrator.errors import ConfigError, NotAuthenticated, UserExists, UserNotFound
from orchestrator.store.audit.chain import AuditEvent
from orchestrator.store.database import dialect_insert
from orchestrator.store.tables import utc_now
from orchestrator.store.transactions import Transactions
from orchestrator.store.users.records import ALL_TENANTS, UserRecord, parse_roles
from orchestrator.store.users.tables import USERS

#: What every token starts with, so a token found in a file or a paste is recognisable.
TOKEN_PREFIX = "kb_"
#: How many leading characters of a token the store keeps to find its row (never the token).
PREFIX_LENGTH = 8
if TYPE_CHECKING:
    from argon2 import PasswordHasher


@functools.cache
def _hasher() -> PasswordHasher:
    """argon2id with the library's defaults (RFC 9106, low memory); loaded with the first
    token checked or made, so a robot that never sees one does not hold it."""
    from argon2 import PasswordHasher

    return PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Checked against when no row has the token's prefix, so an unknown token costs as much
    time as a wrong one and the answer's timing does not tell which prefixes exist. Made on
    first use: hashing takes a while, and most processes that import the store check no
    token (an idle robot, ``bots run`` without users)."""
    return _hasher().hash(secrets.token_urlsafe(32))


def new_token() -> str:
    """A fresh token: :data:`TOKEN_PREFIX` and 256 random bits, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class UserRepository:
    """Users and their tokens (``store.users``)."""

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    def add_user(
        self, tenant: str, name: str, roles: Iterable[str], *, actor: str
    ) -> tuple[UserRecord, str]:
        """Add ``name`` to ``tenant`` with ``roles``; audited as ``user added``.

        Returns the user and the token: the only time the token is seen. Only its argon2
        hash is stored.

        Raises:
            UserExists: the tenant has a user of that name (disabled ones count too).
            ConfigError: no role, an unknown role, or an empty name or tenant.
        """
        if not name.strip() or not tenant.strip():
            raise ConfigError("a user needs a name and a tenant")
        chosen = parse_roles(roles)
        token = new_token()
        token_hash = _hasher().hash(token)  # before the transaction: hashing takes a while
        with self._tx.change() as tx:
            inserted = tx.connection.execute(
                dialect_insert(tx.connection, USERS)
                .values(
                    tenant=tenant,
                    name=name,
                    roles=[role.value for role in chosen],
                    token_hash=token_hash,
                    token_prefix=token[:PREFIX_LENGTH],
                    disabled=False,
                    created_at=tx.now,
                    created_by=actor,
                )
                .on_conflict_do_nothing(index_elements=[USERS.c.tenant, USERS.c.name])
                .returning(USERS.c.id)
            ).scalar_one_or_none()
            if inserted is None:
                raise UserExists(
                    f"tenant {tenant!r} has a user named {name!r} already; names are not "
                    "reused, pick another one"
                )
            data = {"user": name, "roles": [role.value for role in chosen]}
            tx.record(AuditEvent("user added", _audit_tenant(tenant), actor, data))
            row = tx.connection.execute(select(USERS).where(USERS.c.id == inserted)).one()
        return UserRecord.from_row(row), token

    def get_user(self, tenant: str, name: str) -> UserRecord:
        """The user ``name`` of ``tenant``.

        Raises:
            UserNotFound: the tenant has no such user.
        """
        with self._tx.query() as connection:
            row = connection.execute(
                select(USERS).where(USERS.c.tenant == tenant, USERS.c.name == name)
            ).first()
        if row is None:
            raise UserNotFound(f"tenant {tenant!r} has no user named {name!r}")
        return UserRecord.from_row(row)

    def list_users(self, tenant: str | None = None) -> list[UserRecord]:
        """The users (of ``tenant``, where given) by tenant and name, disabled ones too."""
        query = select(USERS).order_by(USERS.c.tenant, USERS.c.name)
        if tenant is not None:
            query = query.where(USERS.c.tenant == tenant)
        with self._tx.query() as connection:
            return [UserRecord.from_row(row) for row in connection.execute(query)]

    def disable_user(self, tenant: str, name: str, *, actor: str) -> UserRecord:
        """Disable ``name`` of ``tenant``: its token is refused from now on; audited as
        ``user disabled``. Disabling a disabled user changes nothing and records nothing.

        Raises:
            UserNotFound: the tenant has no such user.
        """
        with self._tx.change() as tx:
            row = tx.connection.execute(
                select(USERS)
                .where(USERS.c.tenant == tenant, USERS.c.name == name)
                .with_for_update()
            ).first()
            if row is None:
                raise UserNotFound(f"tenant {tenant!r} has no user named {name!r}")
            if not row.disabled:
                tx.connection.execute(
                    update(USERS).where(USERS.c.id == row.id).values(disabled=True)
                )
                tx.record(AuditEvent("user disabled", _audit_tenant(tenant), actor, {"user": name}))
        return self.get_user(tenant, name)

    def authenticate(self, token: str) -> UserRecord:
        """The user whose token this is; notes the time it was used.

        The hash check is argon2's (constant time); a token no row's prefix matches is
        checked against a dummy hash, so it takes as long as a wrong one.

        Raises:
            NotAuthenticated: no user has this token, or its user is disabled. The message
                never contains the token.
        """
        token = token.strip()
        with self._tx.query() as connection:
            candidates = connection.execute(
                select(USERS).where(USERS.c.token_prefix == token[:PREFIX_LENGTH])
            ).all()
        found = next((row for row in candidates if _verify(row.token_hash, token)), None)
        if not candidates:
            _verify(_dummy_hash(), token)
        if found is None:
            raise NotAuthenticated(
                "the token is not valid: no user has it (check BOTS_TOKEN or the token file; "
                "an admin can add you with `bots users add`)"
            )
        if found.disabled:
            raise NotAuthenticated(
                f"the token of user {found.name!r} of tenant {found.tenant!r} is disabled"
            )
        values: dict[str, Any] = {"last_used_at": utc_now()}
        if _hasher().check_needs_rehash(found.token_hash):  # the hasher's defaults got stronger
            values["token_hash"] = _hasher().hash(token)
        with self._tx.write() as connection:
            connection.execute(update(USERS).where(USERS.c.id == found.id).values(**values))
            row = connection.execute(select(USERS).where(USERS.c.id == found.id)).one()
        return UserRecord.from_row(row)

    def any_users(self) -> bool:
        """Whether any user exists (disabled ones too): from then on a token is required."""
        with self._tx.query() as connection:
            return connection.scalar(select(USERS.c.id).limit(1)) is not None


def _verify(token_hash: str, token: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(token_hash, token)
    except (VerificationError, InvalidHashError):
        return False


def _audit_tenant(tenant: str) -> str | None:
    """The audit entry's tenant: none for a user of every tenant."""
    return None if tenant == ALL_TENANTS else tenant
