"""Anchors: the audit trail's head, noted down outside the database.

The hash chain shows an entry altered, inserted or deleted in the middle, but not the newest
entries deleted: what is left is a shorter, intact chain. Nor a trail rewritten from some
entry on with freshly computed hashes. Both show against an anchor, the ``seq`` and ``hash``
of the head at some moment, kept where whoever can change the database cannot: a file on the
orchestrator's machine (by default ``<data_dir>/audit-anchors.jsonl``), copied to WORM
storage or printed into a paper log by those who need that. One JSON line per anchor::

    {"hash": "9f86d0...", "noted_at": "2026-11-23T07:00:00.000000+00:00", "seq": 4711}

The leading orchestrator notes one when it starts leading and then whenever the trail has
grown, at most one every ``orchestrator.anchor_every_s``; ``bots audit anchor`` notes one on
demand. ``bots audit verify`` checks the trail against all of them (:func:`verify_trail`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection

from orchestrator.errors import InputError
from orchestrator.store.audit.chain import AuditCheck, timestamp, walk_chain

# Far more than one anchor's line (about 110 bytes): the end of the file holds the last one.
_TAIL_BYTES = 4096


@dataclass(frozen=True)
class Anchor:
    """The audit trail's head as it was at ``noted_at`` (ISO 8601)."""

    seq: int
    hash: str
    noted_at: str


def note_anchor(path: Path, head: tuple[int, str] | None) -> Anchor | None:
    """Append ``head`` (``seq``, ``hash``) to the anchors file, unless it is the last one
    noted already or the trail is empty; returns the anchor written, or None.

    The line is appended and synced in one write: a crash leaves it whole or absent. Only
    the end of the file is read, so noting stays cheap however many anchors it holds.

    Raises:
        InputError: the file's last line is not an anchor.
    """
    if head is None:
        return None
    last = _last_anchor(path)
    if last is not None and (last.seq, last.hash) == head:
        return None
    anchor = Anchor(seq=head[0], hash=head[1], noted_at=timestamp(datetime.now(UTC)))
    line = json.dumps(
        {"hash": anchor.hash, "noted_at": anchor.noted_at, "seq": anchor.seq}, sort_keys=True
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(descriptor, (line + "\n").encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return anchor


def read_anchors(path: Path) -> list[Anchor]:
    """The anchors noted in ``path``, in file order; none if there is no such file.

    Raises:
        InputError: a line is not an anchor (``path:line: what is wrong``).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise InputError(f"{path}: cannot read the audit anchors: {exc.strerror}") from None
    return [
        _parse(line, f"{path}:{number}")
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip()
    ]


def _last_anchor(path: Path) -> Anchor | None:
    """The last anchor noted in ``path``, reading only the file's end; None if there is none."""
    try:
        with path.open("rb") as file:
            file.seek(max(file.seek(0, os.SEEK_END) - _TAIL_BYTES, 0))
            tail = file.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the audit anchors: {exc.strerror}") from None
    lines = [line for line in tail.splitlines() if line.strip()]
    if not lines:
        return None
    return _parse(lines[-1].decode(errors="replace"), f"{path}: the last line")


def _parse(line: str, where: str) -> Anchor:
    """The anchor that ``line`` notes; ``where`` names the line in the error.

    Raises:
        InputError: ``line`` is not an anchor.
    """
    try:
        data = json.loads(line)
        anchor = Anchor(seq=data["seq"], hash=data["hash"], noted_at=data["noted_at"])
        valid = type(anchor.seq) is int and isinstance(anchor.hash, str)
    except (ValueError, KeyError, TypeError, RecursionError):
        valid = False
    if not valid:
        raise InputError(
            f"{where}: not an audit anchor; expected a JSON object with "
            '"seq" (a number), "hash" and "noted_at"'
        )
    return anchor


def verify_trail(connection: Connection, anchors: Sequence[Anchor]) -> AuditCheck:
    """Verify the hash chain (:func:`~orchestrator.store.audit.chain.verify_chain`) and judge it
    against ``anchors`` (:func:`check_anchors`), in one pass over the trail.

    The anchored entries' hashes are kept on the way, as read for the chain: however many
    anchors there are, no further query, and no value read that could fail to decode.

    Example: ``verify_trail(connection, read_anchors(settings.audit_anchors_file)).ok``.
    """
    check, hashes = walk_chain(connection, {anchor.seq for anchor in anchors})
    return check_anchors(check, anchors, hashes)


def check_anchors(
    check: AuditCheck, anchors: Sequence[Anchor], hashes: Mapping[int, str]
) -> AuditCheck:
    """``check`` of an intact chain, judged against ``anchors`` as well.

    ``hashes`` maps the anchored ``seq`` numbers to the hashes the trail holds for them. The
    first anchor (by ``seq``) the trail falls short of, or disagrees with, makes it broken:
    ``deleted`` when the trail ends before the anchored entry, ``altered`` when the entry
    there is another one (the trail was rewritten from there or before).
    """
    if not check.ok:
        return check
    for anchor in sorted(anchors, key=lambda a: a.seq):
        if anchor.seq > check.checked:
            problem = (
                f"deleted: the trail ends at entry {check.checked}, but entry {anchor.seq} "
                f"was noted down at {anchor.noted_at}"
            )
            return AuditCheck(False, check.checked, check.head_hash, check.checked + 1, problem)
        if hashes.get(anchor.seq) != anchor.hash:
            problem = (
                f"altered: it is not the entry noted down at {anchor.noted_at} (hash "
                f"{anchor.hash[:12]}...); the trail was rewritten from here or before"
            )
            return AuditCheck(False, anchor.seq - 1, None, anchor.seq, problem)
    return check
