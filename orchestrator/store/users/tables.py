"""The table of users: ``users`` (migration 0006)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.store.tables import Base


class UserRow(Base):
    """A person with roles in a tenant and a personal token (``users``, migration 0006).

    ``tenant`` is ``*`` for a user of every tenant (the installation's own administrators).
    ``roles`` is a JSON list of role names. Only the token's argon2 hash is stored;
    ``token_prefix`` (its first characters) finds the candidate rows without a full scan.
    """

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("tenant", "name"),
        Index("ix_users_token_prefix", "token_prefix"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    roles: Mapped[list[str]]
    token_hash: Mapped[str] = mapped_column(String(255))
    token_prefix: Mapped[str] = mapped_column(String(16))
    disabled: Mapped[bool] = mapped_column(Boolean, server_default="0")
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(255))
    last_used_at: Mapped[datetime | None]


USERS = Base.metadata.tables["users"]
