"""The audit trail: an append-only, hash-chained log of everything done to runs and schedules.

Each entry's ``hash`` is the sha256 of the canonical JSON of its other fields, including the
``prev_hash`` of the entry before it (``GENESIS`` for the first)::

    {"action":"claimed","actor":"robot-1","at":"2026-11-02T07:00:00.123456+00:00",
     "data":{...},"prev_hash":"...","run_id":17,"seq":42,"tenant":"giessen"}

so changing, inserting or deleting an entry behind the application's back breaks the chain
from there on, and :func:`verify_chain` names the first entry concerned. Appends are serialised:
on PostgreSQL by a transaction-level advisory lock, on SQLite by the write lock every write
transaction holds from its ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text

from orchestrator.store.tables import AUDIT_LOG as _AUDIT

GENESIS = "0" * 64
# Any fixed number, the same in every process ("bots" + 1); the migration lock is "bots".
_PG_AUDIT_LOCK = 0x626F7473_0001
_ENTRY_COLUMNS = (
    _AUDIT.c.seq,
    _AUDIT.c.at,
    _AUDIT.c.tenant,
    _AUDIT.c.actor,
    _AUDIT.c.action,
    _AUDIT.c.run_id,
    _AUDIT.c.data,
    _AUDIT.c.prev_hash,
    _AUDIT.c.hash,
)
_HEAD = select(_AUDIT.c.seq, _AUDIT.c.hash).order_by(_AUDIT.c.seq.desc()).limit(1)
_PG_APPEND = text("SELECT audit_log_append(:key, :at, CAST(:fields AS json), CAST(:datas AS json))")
_INSERT = insert(_AUDIT)


@dataclass(frozen=True)
class AuditEvent:
    """An entry to append, before it gets its place (``seq``) and hashes in the chain."""

    action: str
    tenant: str | None
    actor: str
    data: dict[str, Any]
    run_id: int | None = None


@dataclass(frozen=True)
class AuditCheck:
    """The verdict of :meth:`RunStore.verify_audit <orchestrator.store.RunStore.verify_audit>`.

    ``checked`` counts the intact entries (all of them when ``ok``); ``head_hash`` is the hash
    of the last intact one, to note down and compare later. When broken, ``first_bad_seq``
    names the first entry concerned and ``problem`` says how, starting with ``altered``,
    ``inserted`` or ``deleted``.
    """

    ok: bool
    checked: int
    head_hash: str | None
    first_bad_seq: int | None = None
    problem: str | None = None


def canonical_json(value: Any) -> str:
    """The one JSON text of ``value`` that is hashed: sorted keys, no spaces, UTF-8 as is.

    Example: ``canonical_json({"b": 1, "a": "ä"}) == '{"a":"ä","b":1}'``.
    """
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def timestamp(at: datetime) -> str:
    """An instant as hashed and exported: ISO 8601 in UTC, always with microseconds."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(
    *,
    seq: int,
    at: datetime,
    tenant: str | None,
    actor: str,
    action: str,
    run_id: int | None,
    data: dict[str, Any],
    prev_hash: str,
) -> str:
    """The sha256 (hex) of an entry: what :func:`append` stores and :func:`verify_chain` checks.

    It hashes the canonical JSON of all the entry's fields but ``hash``::

        {"action":..,"actor":..,"at":..,"data":..,"prev_hash":..,"run_id":..,"seq":..,"tenant":..}
    """
    parts = hash_parts(at=at, tenant=tenant, actor=actor, action=action, run_id=run_id, data=data)
    before, middle, after = parts
    text = before + prev_hash + middle + str(seq) + after
    return hashlib.sha256(text.encode()).hexdigest()


def hash_parts(
    *,
    at: datetime,
    tenant: str | None,
    actor: str,
    action: str,
    run_id: int | None,
    data: dict[str, Any],
) -> tuple[str, str, str]:
    """An entry's canonical JSON without ``prev_hash`` and ``seq``, cut where they go.

    ``before + prev_hash + middle + str(seq) + after`` is the text :func:`entry_hash` hashes:
    the keys sort as ``action, actor, at, data, prev_hash, run_id, seq, tenant``. PostgreSQL
    chains entries from these parts (``audit_log_append``, migration 0003).
    """
    head = canonical_json({"action": action, "actor": actor, "at": timestamp(at), "data": data})
    before = head[:-1] + ',"prev_hash":"'
    middle = '","run_id":' + canonical_json(run_id) + ',"seq":'
    after = ',"tenant":' + canonical_json(tenant) + "}"
    return before, middle, after


def append(connection: Connection, events: Sequence[AuditEvent], at: datetime) -> None:
    """Append ``events`` in order, in the caller's transaction, all stamped ``at``.

    Call it as the last thing before the commit: it takes the lock that serialises all
    appends (on PostgreSQL an advisory lock, held until the commit). On PostgreSQL one call
    of ``audit_log_append`` locks, reads the head and inserts the chained entries, in one
    round trip.
    """
    if not events:
        return
    at = at.astimezone(UTC)
    if connection.dialect.name == "postgresql":
        texts = []
        for event in events:
            before, middle, after = hash_parts(
                at=at,
                tenant=event.tenant,
                actor=event.actor,
                action=event.action,
                run_id=event.run_id,
                data=event.data,
            )
            texts.append(
                [event.tenant, event.actor, event.action, event.run_id, before, middle, after]
            )
        arguments = {
            "key": _PG_AUDIT_LOCK,
            "at": at,
            "fields": json.dumps(texts),
            "datas": "[" + ",".join(canonical_json(event.data) for event in events) + "]",
        }
        connection.execute(_PG_APPEND, arguments)
        return
    head = connection.execute(_HEAD).first()
    seq, prev_hash = (head.seq, head.hash) if head and head.seq is not None else (0, GENESIS)
    rows = []
    for event in events:
        seq += 1
        fields: dict[str, Any] = {
            "seq": seq,
            "at": at,
            "tenant": event.tenant,
            "actor": event.actor,
            "action": event.action,
            "run_id": event.run_id,
            "data": event.data,
            "prev_hash": prev_hash,
        }
        prev_hash = entry_hash(**fields)
        rows.append({**fields, "hash": prev_hash})
    connection.execute(_INSERT, rows)


def verify_chain(connection: Connection) -> AuditCheck:
    """Recompute the whole chain in ``seq`` order and report the first break.

    * a gap in ``seq`` (or a first entry other than 1): ``deleted``, naming the missing entry;
    * an entry linking to the one two back: the entry between was ``inserted``;
    * a stored hash that does not match the entry's content: ``altered`` if the entry links
      to its predecessor, else ``inserted`` (made up, or renumbered to fill a gap);
    * an intact entry linking to anything else: entries before it were ``deleted``.
    """
    checked, expected_seq = 0, 1
    hashes = [GENESIS, GENESIS]  # of the last two intact entries: [before previous, previous]
    rows = connection.execution_options(yield_per=1000).execute(
        select(*_ENTRY_COLUMNS).order_by(_AUDIT.c.seq)
    )
    for row in rows:
        head = hashes[1] if checked else None
        if row.seq != expected_seq:
            problem = f"deleted: entry {expected_seq} is missing (the next one is {row.seq})"
            return AuditCheck(False, checked, head, expected_seq, problem)
        linked = row.prev_hash == hashes[1]
        if not linked and checked and row.prev_hash == hashes[0]:
            problem = f"inserted: entry {row.seq} links past it to entry {row.seq - 2}"
            return AuditCheck(False, checked - 1, hashes[0], row.seq - 1, problem)
        content_ok = row.hash == entry_hash(
            seq=row.seq,
            at=row.at,
            tenant=row.tenant,
            actor=row.actor,
            action=row.action,
            run_id=row.run_id,
            data=row.data,
            prev_hash=row.prev_hash,
        )
        if not content_ok and linked:
            problem = "altered: its content does not match its hash"
            return AuditCheck(False, checked, head, row.seq, problem)
        if not content_ok:
            problem = "inserted: it neither links to the entry before nor matches its hash"
            return AuditCheck(False, checked, head, row.seq, problem)
        if not linked:
            problem = "deleted: entries before it are missing (its link points elsewhere)"
            return AuditCheck(False, checked, head, row.seq, problem)
        hashes = [hashes[1], row.hash]
        checked += 1
        expected_seq += 1
    return AuditCheck(True, checked, hashes[1] if checked else None)


def export_entries(
    connection: Connection, *, since: datetime | None, tenant: str | None
) -> Iterator[dict[str, Any]]:
    """The entries at or after ``since`` (of ``tenant``), in ``seq`` order, JSON-ready."""
    query = select(*_ENTRY_COLUMNS).order_by(_AUDIT.c.seq)
    if since is not None:
        query = query.where(_AUDIT.c.at >= since)
    if tenant is not None:
        query = query.where(_AUDIT.c.tenant == tenant)
    for row in connection.execution_options(yield_per=1000).execute(query):
        yield {
            "seq": row.seq,
            "at": timestamp(row.at),
            "tenant": row.tenant,
            "actor": row.actor,
            "action": row.action,
            "run_id": row.run_id,
            "data": row.data,
            "prev_hash": row.prev_hash,
            "hash": row.hash,
        }
