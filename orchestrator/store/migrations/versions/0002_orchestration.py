"""Orchestration: the queue columns of runs, audit_log, leases, schedule_state, robots.

Runs of 0001 keep their status. One that is still ``running`` had no lease, so its lease is
set to have run out at its start: the first reap finds it (``lost``) instead of it blocking
its bot forever.

Revision ID: 0002
Revises: 0001
Create Date: 2026-05-09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = "audit_log is append-only"

PG_REFUSE_CHANGE = f"""
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{APPEND_ONLY}: % refused', TG_OP;
END
$$
"""


# Appends lock, then read the chain's head. A VOLATILE function takes a fresh snapshot for each
# query, so the SELECT sees the entries of the transaction that held the lock before: one round
# trip instead of two, and a shorter hold of the lock.
PG_LOCK_HEAD = """
CREATE FUNCTION audit_log_lock_head(lock_key bigint, OUT seq integer, OUT hash varchar)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    SELECT a.seq, a.hash INTO seq, hash FROM audit_log AS a ORDER BY a.seq DESC LIMIT 1;
END
$$
"""


def upgrade() -> None:
    # Only add_column and create_index: SQLite adds them in place, without copying the table.
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("actor", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("labels", sa.JSON(), server_default="[]", nullable=False))
        batch.add_column(sa.Column("pools", sa.JSON(), server_default="[]", nullable=False))
        batch.add_column(
            sa.Column("max_parallel", sa.Integer(), server_default="1", nullable=False)
        )
        batch.add_column(sa.Column("retry_safe", sa.Boolean(), server_default="0", nullable=False))
        batch.add_column(sa.Column("timeout_s", sa.Float(), nullable=True))
        batch.add_column(sa.Column("dedupe_key", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("not_before", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("retry_of", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("attempt", sa.Integer(), server_default="1", nullable=False))
        batch.add_column(sa.Column("holder", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("cancel_requested", sa.Boolean(), server_default="0", nullable=False)
        )
        batch.create_index("ix_runs_status_tenant_id", ["status", "tenant", "id"])
        batch.create_index("ix_runs_dedupe_key", ["dedupe_key"], unique=True)
    op.execute(
        "UPDATE runs SET lease_expires_at = COALESCE(started_at, created_at) "
        "WHERE status = 'running'"
    )

    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    _create_audit_functions()

    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_leases"),
    )
    op.create_table(
        "schedule_state",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("paused", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("last_fire_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "name", name="pk_schedule_state"),
    )
    op.create_table(
        "robots",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("tenants", sa.JSON(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_robots"),
    )


def _create_audit_functions() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_REFUSE_CHANGE)
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()"
        )
        op.execute(PG_LOCK_HEAD)
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}: {event} refused'); END"
        )


def downgrade() -> None:
    op.drop_table("robots")
    op.drop_table("schedule_state")
    op.drop_table("leases")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")  # drops its triggers with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_log_refuse_change()")
        op.execute("DROP FUNCTION audit_log_lock_head(bigint)")
    op.drop_index("ix_runs_dedupe_key", table_name="runs")
    op.drop_index("ix_runs_status_tenant_id", table_name="runs")
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not a batch: copying `runs` would
    # drop the old table, and the foreign keys' ON DELETE CASCADE would empty steps/artifacts.
    for column in (
        "cancel_requested",
        "lease_expires_at",
        "claimed_at",
        "holder",
        "attempt",
        "retry_of",
        "not_before",
        "dedupe_key",
        "timeout_s",
        "retry_safe",
        "max_parallel",
        "pools",
        "labels",
        "actor",
    ):
        op.drop_column("runs", column)
