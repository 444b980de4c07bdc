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

# Two JSON arrays, one element per entry: `fields` [tenant, actor, action, run_id, before,
# middle, after] as texts, and `datas`, the `data` objects. `data` is split with
# json_array_elements, which keeps each as `json`: `->` and `->>` would convert it to text and
# refuse a \u0000 in it. `json`, not `jsonb`, keeps it as sent. VOLATILE, so the SELECT after the lock sees what the
# previous holder of the lock committed.
PG_APPEND = """
CREATE FUNCTION audit_log_append(lock_key bigint, at timestamptz, fields json, datas json)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    head_seq integer;
    head_hash varchar;
    entry_hash varchar;
    entry json;
    data_items json[] := ARRAY(SELECT value FROM json_array_elements(datas));
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    SELECT a.seq, a.hash INTO head_seq, head_hash FROM audit_log AS a ORDER BY a.seq DESC LIMIT 1;
    head_seq := coalesce(head_seq, 0);
    head_hash := coalesce(head_hash, repeat('0', 64));
    FOR i IN 0 .. json_array_length(fields) - 1 LOOP
        entry := fields->i;
        head_seq := head_seq + 1;
        entry_hash := encode(sha256(convert_to(
            (entry->>4) || head_hash || (entry->>5) || head_seq::text || (entry->>6), 'UTF8'
        )), 'hex');
        INSERT INTO audit_log (seq, at, tenant, actor, action, run_id, data, prev_hash, hash)
        VALUES (head_seq, at, entry->>0, entry->>1, entry->>2, (entry->>3)::integer, data_items[i + 1],
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
            "DROP FUNCTION audit_log_append(bigint, timestamptz, json, json)"
        )
