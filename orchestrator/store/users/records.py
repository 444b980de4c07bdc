"""A user as the store hands it out: :class:`UserRecord`, its roles (:class:`Role`) and
:data:`ALL_TENANTS`, the tenant of a user of every tenant. Example::

    parse_roles(["Fachamt", "admin"])  # (Role.ADMIN, Role.FACHAMT)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Row

from orchestrator.errors import ConfigError
from orchestrator.results import iso_or_none

#: The tenant of a user who may act on every tenant (the installation's administrators).
ALL_TENANTS = "*"


class Role(StrEnum):
    """What a person does; :data:`orchestrator.services.PERMISSIONS` maps permissions to roles."""

    ADMIN = "admin"
    DEVELOPER = "developer"
    OPERATOR = "operator"
    FACHAMT = "fachamt"
    APPROVER = "approver"


@dataclass(frozen=True)
class UserRecord:
    """A user as stored, without the token or its hash.

    ``tenant`` is :data:`ALL_TENANTS` (``*``) for a user of every tenant.
    """

    id: int
    tenant: str
    name: str
    roles: tuple[Role, ...]
    disabled: bool
    created_at: datetime
    created_by: str
    last_used_at: datetime | None

    @classmethod
    def from_row(cls, row: Row[Any]) -> UserRecord:
        """From a row of ``users`` (its token columns are left out)."""
        return cls(
            id=row.id,
            tenant=row.tenant,
            name=row.name,
            roles=tuple(Role(role) for role in row.roles),
            disabled=bool(row.disabled),
            created_at=row.created_at,
            created_by=row.created_by,
            last_used_at=row.last_used_at,
        )

    @property
    def actor(self) -> str:
        """Who this user is in the audit trail: ``user:<name>@<tenant>``."""
        return f"user:{self.name}@{self.tenant}"

    def to_json(self) -> dict[str, Any]:
        """The user as JSON-ready data (the shape `bots users list --json` prints)."""
        return {
            "id": self.id,
            "tenant": self.tenant,
            "name": self.name,
            "roles": [role.value for role in self.roles],
            "disabled": self.disabled,
            "created_at": iso_or_none(self.created_at),
            "created_by": self.created_by,
            "last_used_at": iso_or_none(self.last_used_at),
        }


def parse_roles(roles: Iterable[str]) -> tuple[Role, ...]:
    """The roles named, each once, in the order of :class:`Role`.

    Raises:
        ConfigError: none given, or a name is no role.
    """
    names = {str(role).strip().lower() for role in roles}
    unknown = sorted(names - {role.value for role in Role})
    if unknown or not names:
        known = ", ".join(role.value for role in Role)
        what = f"unknown role(s) {', '.join(map(repr, unknown))}" if unknown else "no role given"
        raise ConfigError(f"{what}; roles are: {known}")
    return tuple(role for role in Role if role.value in names)
