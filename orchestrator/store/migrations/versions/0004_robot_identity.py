"""Robot identity and separate budgets: robot instances, robot losses, attempts allowed.

* ``robots.instance``: the process now registered under the robot's name. Leases are held
  and renewed by the instance (``runs.holder``), so a process restarted under the same name
  cannot renew the leases of the one that died.
* ``runs.robot_losses``: how often the run's robot was lost while it held the run. Counted
  apart from ``attempt`` (retries after application errors) and capped by the orchestrator.
* ``runs.max_attempts``: the attempts the bot's ``execution.retries`` allowed when the run was
  queued, so an operator sees the retries left.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Only add_column: SQLite adds them in place, without copying the table.
    with op.batch_alter_table("runs") as batch:
        batch.add_column(
            sa.Column("robot_losses", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("max_attempts", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("robots") as batch:
        batch.add_column(sa.Column("instance", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("robots") as batch:
        batch.drop_column("instance")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("max_attempts")
        batch.drop_column("robot_losses")
