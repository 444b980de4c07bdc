"""Work queues: ``queues``, their ``work_items``, and the ``work_item_runs`` that touched them.

New tables only: nothing existing changes, so SQLite copies no table.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "queues",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("retry_delay_s", sa.Float(), nullable=False),
        sa.Column("backoff", sa.Float(), nullable=False),
        sa.Column("payload_schema", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("sla_s", sa.Float(), nullable=True),
        sa.Column("retention_days", sa.Integer(), server_default="365", nullable=False),
        sa.Column("next_on_success", sa.String(length=128), nullable=True),
        sa.Column("next_on_failure", sa.String(length=128), nullable=True),
        sa.Column("approval_required", sa.Boolean(), server_default="0", nullable=False),
        _at("created_at", nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_queues"),
        sa.UniqueConstraint("tenant", "name", name="uq_queues_tenant_name"),
    )
    op.create_table(
        "work_items",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("output", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("priority", sa.Integer(), server_default="0", nullable=False),
        _at("postpone_until"),
        _at("deadline"),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error_kind", sa.String(length=16), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("evidence", sa.JSON(), server_default="[]", nullable=False),
        sa.Column("holder", sa.String(length=255), nullable=True),
        _at("lease_expires_at"),
        _at("not_before"),
        _at("created_at", nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        _at("updated_at", nullable=False),
        sa.Column("updated_by", sa.String(length=255), nullable=False),
        sa.Column("approved_by", sa.String(length=255), nullable=True),
        _at("purged_at"),
        sa.PrimaryKeyConstraint("id", name="pk_work_items"),
        sa.ForeignKeyConstraint(
            ["queue_id"], ["queues.id"], name="fk_work_items_queue_id_queues"
        ),
        sa.UniqueConstraint("queue_id", "reference", name="uq_work_items_queue_id_reference"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_work_items_queue_id_status_priority_id",
        "work_items",
        ["queue_id", "status", "priority", "id"],
    )
    op.create_index(
        "ix_work_items_status_lease_expires_at", "work_items", ["status", "lease_expires_at"]
    )
    op.create_table(
        "work_item_runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        _at("at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_work_item_runs"),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["work_items.id"],
            name="fk_work_item_runs_item_id_work_items",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "item_id", "run_id", "attempt", name="uq_work_item_runs_item_id_run_id_attempt"
        ),
    )


def downgrade() -> None:
    op.drop_table("work_item_runs")
    op.drop_index("ix_work_items_status_lease_expires_at", table_name="work_items")
    op.drop_index("ix_work_items_queue_id_status_priority_id", table_name="work_items")
    op.drop_table("work_items")
    op.drop_table("queues")
