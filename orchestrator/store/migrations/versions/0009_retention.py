"""Retention: what was deleted and when.

* ``artifacts.deleted_at``: when retention deleted the file. The row stays, with the path,
  sha256 and size of what existed, so the history still says what a run kept.
* ``artifacts.unlink_pending``: set with ``deleted_at`` and cleared once the file is gone. A
  process killed between the two leaves it set, and the next ``bots retention apply``
  finishes the deletion (``ix_artifacts_unlink_pending``, partial: only such rows).
* ``ix_artifacts_kind_deleted_at_id``: the artifacts of one kind still there
  (``deleted_at IS NULL``), so a daily run reads the artifacts within their period, not the
  whole history.

Only add_column and new indexes: SQLite copies no table.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("artifacts") as batch:
        batch.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("unlink_pending", sa.Boolean(), server_default="0", nullable=False)
        )
    op.create_index("ix_artifacts_kind_deleted_at_id", "artifacts", ["kind", "deleted_at", "id"])
    op.create_index(
        "ix_artifacts_unlink_pending",
        "artifacts",
        ["unlink_pending"],
        sqlite_where=sa.text("unlink_pending = 1"),
        postgresql_where=sa.text("unlink_pending"),
    )


def downgrade() -> None:
    op.drop_index("ix_artifacts_unlink_pending", table_name="artifacts")
    op.drop_index("ix_artifacts_kind_deleted_at_id", table_name="artifacts")
    with op.batch_alter_table("artifacts") as batch:
        batch.drop_column("unlink_pending")
        batch.drop_column("deleted_at")
