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
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, insert, select, text

from orchestrator.store.audit.tables import AUDIT_LOG as _AUDIT

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
# Verification reads every column as stored (see _stored_entries), in the same order as above.
_SQLITE_ENTRIES = text(
    "SELECT "
    + ", ".join(f"typeof({c.name}), CAST({c.name} AS BLOB)" for c in _ENTRY_COLUMNS)
    + " FROM audit_log ORDER BY seq"
)
_PG_ENTRIES = text(
    "SELECT seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US BC'), tenant, actor, "
    "action, run_id, CAST(data AS text), prev_hash, hash FROM audit_log ORDER BY seq"
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

    * a gap in ``seq`` (or a first entry other than 1): ``deleted``, naming the missing entry,
      or ``altered`` if it is there under another number;
    * an entry linking to the one two back: the entry between was ``inserted``;
    * a stored hash that does not match the entry's content: ``altered`` if the entry links
      to its predecessor or its successor links to it, else ``inserted`` (made up, or
      renumbered to fill a gap);
    * an intact entry linking to anything else: entries before it were ``deleted``;
    * an entry numbered below 1: ``inserted`` after the trail, or ``altered`` if it is the
      trail's last entry renumbered.

    Any content of any row gives a verdict, never an error: values are read as stored
    (:func:`_stored_entries`), and one the application does not write (text in a number
    column, JSON that does not parse, no time) is content that does not match its hash.
    """
    return walk_chain(connection)[0]


def walk_chain(
    connection: Connection, keep: Collection[int] = ()
) -> tuple[AuditCheck, dict[int, str]]:
    """:func:`verify_chain`'s verdict, and the hashes of the intact entries numbered in ``keep``.

    One pass gives both: :func:`orchestrator.store.audit.anchors.verify_trail` keeps the hashes of
    the anchored entries to compare with the anchors.

    Example: ``check, hashes = walk_chain(connection, {9}); hashes.get(9)`` (None unless
    entries 1 to 9 are intact).
    """
    checked = 0
    kept: dict[int, str] = {}  # the hashes of the entries in keep
    hashes = [GENESIS, GENESIS]  # of the last two intact entries: [before previous, previous]
    strays: list[_Stored] = []  # numbered below 1 (or not with a number): outside the chain
    for entry, after in _with_next(_stored_entries(connection)):
        expected, head = checked + 1, hashes[1] if checked else None
        if type(entry.seq) is not int or entry.seq < expected:
            strays.append(entry)  # entries come in seq order: so these come before entry 1
            continue
        if entry.seq != expected:
            missing = f"deleted: entry {expected} is missing (the next one is {entry.seq})"
            problem = _renumbered(expected, [*strays, entry]) or missing
            return AuditCheck(False, checked, head, expected, problem), kept
        linked = entry.prev_hash == hashes[1]
        if not linked and checked and entry.prev_hash == hashes[0]:
            problem = f"inserted: entry {expected} links past it to entry {expected - 2}"
            return AuditCheck(False, checked - 1, hashes[0], expected - 1, problem), kept
        broken = _content_problem(entry, expected, after, linked=linked)
        if broken is not None:
            return AuditCheck(False, checked, head, expected, broken), kept
        hashes = [hashes[1], str(entry.hash)]  # text: it equals the hash just computed
        checked += 1
        if checked in keep:
            kept[checked] = hashes[1]
    head = hashes[1] if checked else None
    if strays:
        outside = (
            f"inserted: an entry numbered {strays[0].seq!r} lies outside the trail, "
            "which counts from 1"
        )
        problem = _renumbered(checked + 1, strays) or outside
        return AuditCheck(False, checked, head, checked + 1, problem), kept
    return AuditCheck(True, checked, head), kept


def _content_problem(
    entry: _Stored, seq: int, after: _Stored | None, *, linked: bool
) -> str | None:
    """Why ``entry``, numbered ``seq`` as it should be, breaks the chain; None if it does not.

    ``linked`` says it links to its predecessor; ``after`` is the entry after it, if any.
    """
    content_ok = _matches(entry, seq)
    if content_ok and linked:
        return None
    if content_ok:
        return "deleted: entries before it are missing (its link points elsewhere)"
    # Linked to from either side, it is the entry that was there, changed. One made up and
    # put in its place links to neither: the entry after still links to the one displaced.
    if linked or (after is not None and after.prev_hash == entry.hash):
        return "altered: its content does not match its hash"
    return "inserted: it neither links to the entry before nor matches its hash"


def _renumbered(seq: int, entries: Iterable[_Stored]) -> str | None:
    """``altered: ...`` if one of ``entries`` is entry ``seq`` under another number, else None.

    Its content matches its hash as entry ``seq``: only its ``seq`` was changed.
    """
    for entry in entries:
        if _matches(entry, seq):
            return f"altered: it was renumbered to {entry.seq!r}"
    return None


def _matches(entry: _Stored, seq: int) -> bool:
    """True if ``entry``'s stored hash is that of its content, as entry number ``seq``."""
    content_hash = _content_hash(entry, seq)
    return content_hash is not None and entry.hash == content_hash


def _content_hash(entry: _Stored, seq: int) -> str | None:
    """The hash of ``entry``'s content as entry number ``seq``, or None if it has a value the
    application never writes: of another type, text that is no ISO time or no JSON.

    Example: an entry whose ``data`` is ``'{"bot": '`` (cut off) has no content hash.
    """
    if not (
        isinstance(entry.at, str)
        and (entry.tenant is None or isinstance(entry.tenant, str))
        and isinstance(entry.actor, str)
        and isinstance(entry.action, str)
        and (entry.run_id is None or type(entry.run_id) is int)
        and isinstance(entry.data, str)
        and isinstance(entry.prev_hash, str)
    ):
        return None
    try:
        at = datetime.fromisoformat(entry.at)
        return entry_hash(
            seq=seq,
            at=at if at.tzinfo else at.replace(tzinfo=UTC),
            tenant=entry.tenant,
            actor=entry.actor,
            action=entry.action,
            run_id=entry.run_id,
            data=json.loads(entry.data),
            prev_hash=entry.prev_hash,
        )
    except (ValueError, OverflowError, RecursionError):
        # No time or no JSON; a year beyond Python's, JSON nested or a number too big for it;
        # a lone surrogate (a JSON "\ud800") that has no UTF-8 to hash.
        return None


class _Stored(NamedTuple):
    """An audit entry as the database holds it: after tampering, any value of any type.

    ``at`` is text in ISO 8601 (UTC when without offset), ``data`` the JSON text.
    """

    seq: object
    at: object
    tenant: object
    actor: object
    action: object
    run_id: object
    data: object
    prev_hash: object
    hash: object


def _stored_entries(connection: Connection) -> Iterator[_Stored]:
    """All entries in ``seq`` order, read past SQLAlchemy's types (which raise on bad values).

    SQLite keeps any value in any column, even text that is not UTF-8 (which its Python
    driver refuses to read): each value is read with its type, as bytes. PostgreSQL's column
    types admit only their own values, but psycopg refuses some of them: ``at`` is read as
    text (psycopg has no ``infinity`` or year 10000), ``data`` as its JSON text (Python's
    parser refuses some JSON that PostgreSQL accepts).
    """
    streamed = connection.execution_options(yield_per=1000)
    if connection.dialect.name == "postgresql":
        for seq, at, *others in streamed.execute(_PG_ENTRIES):
            # An era other than AD, or an infinite time (NULL), is no time the application writes.
            in_era = at[: -len(" AD")] if isinstance(at, str) and at.endswith(" AD") else None
            yield _Stored(seq, in_era, *others)
        return
    for row in streamed.execute(_SQLITE_ENTRIES):
        kinds, raws = row[::2], row[1::2]
        yield _Stored._make(_sqlite_value(k, raw) for k, raw in zip(kinds, raws, strict=True))


def _sqlite_value(kind: str, raw: bytes | None) -> object:
    """A value as SQLite holds it, given its ``typeof`` and bytes: an integer, text, or None.

    Anything else stays bytes, a value the application never writes: a blob, a real number,
    text that is not UTF-8. Example: ``_sqlite_value("integer", b"17") == 17``.
    """
    if kind == "null" or raw is None:
        return None
    if kind == "integer":
        return int(raw)
    if kind == "text":
        try:
            return raw.decode()
        except UnicodeDecodeError:
            pass
    return raw


def _with_next(entries: Iterator[_Stored]) -> Iterator[tuple[_Stored, _Stored | None]]:
    """Each entry with the one after it (None after the last)."""
    entry = next(entries, None)
    while entry is not None:
        after = next(entries, None)
        yield entry, after
        entry = after


def export_entries(
    connection: Connection, *, since: datetime | None, tenant: str | None
) -> Iterator[dict[str, Any]]:
    """The entries at or after ``since`` (of ``tenant``), in ``seq`` order, JSON-ready.

    Read as verification reads them (:func:`_stored_entries`), so an altered row never stops
    an export: a value the application never writes is exported as ``{"undecodable": ...}``
    (its text, or its bytes in hex), and an entry whose time cannot be read is exported
    whatever ``since`` says, for the reader to see. ``bots audit verify`` names such entries.
    """
    for entry in _stored_entries(connection):
        at = _stored_time(entry.at)
        if since is not None and at is not None and at < since:
            continue
        if tenant is not None and entry.tenant != tenant:
            continue
        yield {
            "seq": _exported(entry.seq, int),
            "at": timestamp(at) if at is not None else _undecodable(entry.at),
            "tenant": _exported(entry.tenant, str),
            "actor": _exported(entry.actor, str),
            "action": _exported(entry.action, str),
            "run_id": _exported(entry.run_id, int),
            "data": _stored_json(entry.data),
            "prev_hash": _exported(entry.prev_hash, str),
            "hash": _exported(entry.hash, str),
        }


def _stored_time(value: object) -> datetime | None:
    """A stored ``at`` as an aware UTC time, or None if it is none."""
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value)
        return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    except (ValueError, OverflowError):  # no time, or one beyond Python's years in UTC
        return None


def _stored_json(value: object) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except (ValueError, RecursionError):
            pass
    return _undecodable(value)


def _exported(value: object, kind: type) -> Any:
    """``value`` if it is None or of ``kind`` (bool is no int here), else marked undecodable."""
    if value is None or (type(value) is kind):
        return value
    return _undecodable(value)


def _undecodable(value: object) -> dict[str, str]:
    shown = value.hex() if isinstance(value, bytes) else str(value)
    return {"undecodable": shown}
