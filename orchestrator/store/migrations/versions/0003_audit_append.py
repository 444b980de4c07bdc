"""PostgreSQL appends audit entries in one round trip: ``audit_log_append``.

The client sends the entries with their canonical JSON cut around ``prev_hash`` and ``seq``
(:func:`orchestrator.store.audit.hash_parts`); the function takes the append lock, reads the
head, and chains and inserts the entries. The hashes are the same as before, byte for byte,
so existing trails verify unchanged. SQLite needs nothing: it appends from the client.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Arrays, one element per entry, not one JSON document: reading a field of a JSON document
# parses all of it to text, which refuses a \u0000 anywhere in `data`. `json`, not `jsonb`:
# `data` is kept as sent. VOLATILE, so the SELECT after the lock sees what the previous holder
# of the lock committed.
PG_APPEND = """
CREATE FUNCTION audit_log_append(
    lock_key bigint, at timestamptz, tenants text[], actors text[], actions text[],
    run_ids integer[], datas json[], befores text[], middles text[], afters text[]
) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    head_seq integer;
    head_hash varchar;
    entry_hash varchar;
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    SELECT a.seq, a.hash INTO head_seq, head_hash FROM audit_log AS a ORDER BY a.seq DESC LIMIT 1;
    head_seq := coalesce(head_seq, 0);
    head_hash := coalesce(head_hash, repeat('0', 64));
    FOR i IN 1 .. coalesce(array_length(actions, 1), 0) LOOP
        head_seq := head_seq + 1;
        entry_hash := encode(sha256(convert_to(
            befores[i] || head_hash || middles[i] || head_seq::text || afters[i], 'UTF8')), 'hex');
        INSERT INTO audit_log (seq, at, tenant, actor, action, run_id, data, prev_hash, hash)
        VALUES (head_seq, at, tenants[i], actors[i], actions[i], run_ids[i], datas[i],
                head_hash, entry_hash);
        head_hash := entry_hash;
    END LOOP;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_APPEND)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION audit_log_append(bigint, timestamptz, text[], text[], text[],"
            " integer[], json[], text[], text[], text[])"
        )
