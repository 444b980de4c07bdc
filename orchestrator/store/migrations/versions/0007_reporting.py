"""Reporting: covering indexes for period reports and the monthly key figures.

Indexes, no rollup table. A daily aggregate would make a report read a few thousand rows
instead of a year's runs, but it would have to be written by every status change it counts
(runs end by five paths, items by seven), in the same transaction, and on PostgreSQL every
robot ending a case of the same bot on the same day would wait for the same counter row.
The indexes below instead let each figure of ``orchestrator.store.reporting`` be read from
one index range, without touching the wide rows (``parameters``, ``payload``): measured with
``make bench`` at well under the 5 s target for a year over one million runs and five
million items (see docs/reports.md, "Period report"). They cannot disagree with the rows.

* ``ix_runs_tenant_started_at``: runs per day, bot and outcome, and each robot's busy time
  (tenant, start, then the columns those figures read);
* ``ix_work_item_runs_run_id``: from a run to the cases it worked and how it left them (no
  index started at ``run_id`` before; the run report uses it too);
* ``ix_work_items_tenant_status_updated_at``: cases waiting for a person, the oldest first;
* ``ix_work_items_tenant_deadline``: SLA breaches (cases late or still open past their
  deadline).

New indexes only: SQLite copies no table.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    (
        "ix_runs_tenant_started_at",
        "runs",
        ["tenant", "started_at", "bot_id", "status", "finished_at", "holder"],
    ),
    ("ix_work_item_runs_run_id", "work_item_runs", ["run_id", "outcome", "item_id"]),
    (
        "ix_work_items_tenant_status_updated_at",
        "work_items",
        ["tenant", "status", "updated_at"],
    ),
    (
        "ix_work_items_tenant_deadline",
        "work_items",
        ["tenant", "deadline", "status", "updated_at"],
    ),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
