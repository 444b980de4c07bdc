"""`bots audit verify` judges any content of any audit row, and never fails on one.

Garbage is written into each column of a copy of a real trail, as an attacker with database
rights could: on SQLite anything at all (blobs, text that is not UTF-8, numbers in text columns,
JSON that does not parse), on PostgreSQL whatever the column's type admits (odd but valid JSON,
infinite times, years Python has not). Each time the verdict names the entry written to.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from _tamper import drop_guards
from typer.testing import CliRunner

from cli import app
from orchestrator.results import RunStatus
from orchestrator.store import Anchor, RunRequest, RunStore, note_anchor

MakeRequest = Callable[..., RunRequest]
Sql = Callable[..., list[Any]]

COLUMNS = ("seq", "at", "tenant", "actor", "action", "run_id", "data", "prev_hash", "hash")
ENTRIES = 15  # in the trail the fixture builds


@dataclass(frozen=True)
class Garbage:
    """A value written into a column: ``expression`` is its SQL, in which ``:v`` is ``value``."""

    expression: str
    value: Any

    def __str__(self) -> str:
        return f"{self.expression} with v = {self.value!r:.80}"


@dataclass(frozen=True)
class Trail:
    """A real audit trail with its guards switched off, and a pristine copy to restore."""

    store: RunStore
    sql: Sql
    entries: list[dict[str, Any]]  # as exported before any tampering
    anchors: list[Anchor]  # the head, noted down before any tampering

    def tamper(self, seq: int, column: str, garbage: Garbage) -> None:
        """Restore the pristine trail, then write ``garbage`` into ``column`` of entry ``seq``."""
        self.sql("DELETE FROM audit_log")
        self.sql("INSERT INTO audit_log SELECT * FROM audit_pristine")
        self.sql(
            f"UPDATE audit_log SET {column} = {garbage.expression} WHERE seq = :seq",
            v=garbage.value,
            seq=seq,
        )


@pytest.fixture
def trail(
    store: RunStore, new_request: MakeRequest, sql: Sql, database_url: str, tmp_path: Path
) -> Trail:
    """Runs queued, claimed, started and ended (one failed), one cancelled, a robot's note."""
    outcomes = [("giessen", RunStatus.SUCCEEDED), ("giessen", RunStatus.FAILED)]
    for tenant, outcome in [*outcomes, ("marburg", RunStatus.SUCCEEDED)]:
        request = new_request(tenant=tenant, parameters={"ort": "Gießen", "x": 0.1, "l": [1]})
        run_id = store.enqueue(request)
        store.claim(
            holder="robot-1", tenants=[tenant], labels=(), limit=1, lease_s=30, pool_limits={}
        )
        store.mark_running(run_id, holder="robot-1")
        error = "Element „Aktenzeichen“ fehlt" if outcome is RunStatus.FAILED else None
        store.finish_run(run_id, outcome, error, "steps[2]" if error else None, holder="robot-1")
        if tenant == "giessen" and outcome is RunStatus.SUCCEEDED:
            store.audit("robot note", tenant=None, actor="robot-1", data={"labels": []})
    store.cancel(store.enqueue(new_request()), tenant="giessen", actor="user:bob@rpa-01")
    anchor = note_anchor(tmp_path / "anchors.jsonl", store.audit_head())
    entries = list(store.export_audit())
    assert anchor is not None and len(entries) == ENTRIES
    drop_guards(sql, database_url)
    sql("CREATE TABLE audit_pristine AS SELECT * FROM audit_log")
    return Trail(store, sql, entries, [anchor])


# ----------------------------------------------------------------- garbage, by column


def random_text(rng: random.Random, longest: int) -> str:
    """Up to ``longest`` characters of any kind PostgreSQL stores: no NUL, no surrogates."""
    length = rng.randint(0, longest)
    code_points = (
        rng.choice([rng.randint(1, 0x7F), rng.randint(0x80, 0xD7FF), rng.randint(0xE000, 0x10FFFF)])
        for _ in range(length)
    )
    return "".join(map(chr, code_points))


def numbers_outside_the_trail(rng: random.Random, bits: int) -> list[int]:
    """Entry numbers no entry of the trail has, down to and up to the column's limits."""
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return [0, -1, ENTRIES + 1, low, high, rng.randint(low, -2), rng.randint(ENTRIES + 2, high)]


# JSON PostgreSQL's json type takes, but Python's parser does not (nesting and digits beyond its
# limits, a lone surrogate that has no UTF-8), or takes as something else than written.
ODD_JSON = [
    "[" * 5000 + "]" * 5000,
    "1" + "0" * 5000,
    '"\\ud800"',
    '{"bot": 1, "bot": 2}',
    "1e400",
    "null",
    "[]",
]
ODD_TIMES = ["0001-01-01 00:00:00+00", "9999-12-31 23:59:59.999999+00"]
HASHES = ["", "0" * 64, "f" * 64]
INFINITE_OR_BEYOND_PYTHON = [
    "infinity",
    "-infinity",
    "10000-01-01 00:00:00+00",
    "294276-12-31 00:00:00+00",
    "4713-01-01 00:00:00+00 BC",
]


def sqlite_garbage(column: str, rng: random.Random) -> list[Garbage]:
    """Anything SQLite stores, which is anything in any column, but ``seq``: it is the rowid."""
    if column == "seq":
        return [Garbage(":v", number) for number in numbers_outside_the_trail(rng, 64)]
    anything = [
        Garbage(":v", rng.randbytes(rng.randint(0, 64))),  # a blob
        Garbage("CAST(:v AS TEXT)", b"\xff" + rng.randbytes(rng.randint(0, 63))),  # not UTF-8
        Garbage(":v", random_text(rng, 64)),
        Garbage(":v", rng.randint(-(2**63), 2**63 - 1)),
        Garbage(":v", rng.uniform(-1e300, 1e300)),
        Garbage(":v", ""),
    ]
    by_column: dict[str, list[Any]] = {
        "at": [*ODD_TIMES, "2026-02-30 07:00:00.000000", "0001-01-01T00:00:00+01:00", "infinity"],
        "data": ['{"bot": "gewerbe-abgl', "NaN", "{", *ODD_JSON],
        "run_id": ["17x", None],
        "tenant": [None],
        "prev_hash": HASHES,
        "hash": HASHES,
    }
    return anything + [Garbage(":v", text) for text in by_column.get(column, [])]


def postgresql_garbage(column: str, rng: random.Random) -> list[Garbage]:
    """What each column's PostgreSQL type admits (random bytes are no ``varchar``)."""
    at = datetime(1900, 1, 1, tzinfo=UTC) + timedelta(microseconds=rng.randint(0, 2**52))
    by_column: dict[str, list[Any]] = {
        "seq": numbers_outside_the_trail(rng, 32),
        "at": [*ODD_TIMES, *INFINITE_OR_BEYOND_PYTHON, at],
        "tenant": [None, "", random_text(rng, 64), random_text(rng, 64)],
        # The zero-width space: a forgery that looks like the real thing.
        "actor": ["", "robot-1\u200b", random_text(rng, 255), random_text(rng, 255)],
        "action": ["", "queued\u200b", random_text(rng, 64), random_text(rng, 64)],
        "run_id": [None, 0, -1, rng.randint(-(2**31), 2**31 - 1)],
        "data": [*ODD_JSON, json.dumps(random_text(rng, 40)), json.dumps({"bot": None})],
        "prev_hash": [*HASHES, random_text(rng, 64), random_text(rng, 64)],
        "hash": [*HASHES, random_text(rng, 64), random_text(rng, 64)],
    }
    return [Garbage(":v", value) for value in by_column[column]]


def expected_verdict(column: str, seq: int, garbage: Garbage) -> str:
    """What is true of entry ``seq`` with ``garbage`` in ``column``, as far as it can show.

    A renumbered entry is found under its new number (``altered``) when that is before the
    trail or it was the last entry; moved behind the trail from the middle, it is missing from
    its place (``deleted``). The last entry's link altered looks like one ``inserted``: no
    entry after it links to it.
    """
    if column == "seq":
        return "altered" if garbage.value < 1 or seq == ENTRIES else "deleted"
    if column == "prev_hash" and seq == ENTRIES:
        return "inserted"
    return "altered"


# ----------------------------------------------------------------- the verdicts


def test_garbage_in_any_column_names_the_entry(trail: Trail, database_url: str) -> None:
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    written = dict.fromkeys(COLUMNS, 0)
    for column in COLUMNS:
        rng = random.Random(f"{backend}/{column}")  # the same cases on every run
        garbage = (sqlite_garbage if backend == "sqlite" else postgresql_garbage)(column, rng)
        # The first and the last entry every time, the others at random.
        targets = [1, ENTRIES, *(rng.randint(2, ENTRIES - 1) for _ in garbage)]
        for seq, value in zip(targets, garbage, strict=False):
            if value.value == trail.entries[seq - 1][column]:
                continue  # e.g. NULL where there was none, GENESIS as the first entry's link
            trail.tamper(seq, column, value)

            check = trail.store.verify_audit()

            case = f"{column} of entry {seq} := {value}: {check}"
            assert (check.ok, check.first_bad_seq, check.checked) == (False, seq, seq - 1), case
            assert check.problem is not None, case
            assert check.problem.startswith(expected_verdict(column, seq, value)), case
            # An export shows the altered entry for what it is, and never stops at it.
            exported = list(trail.store.export_audit())
            assert len(exported) == ENTRIES, case
            changed = [entry for entry in exported if entry not in trail.entries]
            assert len(changed) <= 1, case
            written[column] += 1
    assert min(written.values()) >= 4, written


def test_verify_names_an_entry_whose_data_no_longer_parses_and_exits_1(
    trail: Trail, database_url: str, isolated_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The case reported in issue 8 (exit 70, "internal error (JSONDecodeError)"). PostgreSQL's
    # json type refuses JSON that does not parse, so there: JSON that Python cannot parse.
    monkeypatch.setenv("BOTS_DATABASE_URL", database_url)
    note_anchor(isolated_settings / "audit-anchors.jsonl", trail.store.audit_head())
    unparsable = '{"bot": "gewerbe-abgl' if database_url.startswith("sqlite") else ODD_JSON[0]
    trail.tamper(7, "data", Garbage(":v", unparsable))

    result = CliRunner().invoke(app, ["audit", "verify"])

    assert isinstance(result.exception, SystemExit), result.exception  # no error escaped
    assert result.exit_code == 1
    assert "audit trail broken at entry 7: altered" in result.stderr
    assert "(6 entries before it are intact)" in result.stderr


def test_garbage_in_an_anchored_entry_is_named_too(
    trail: Trail, database_url: str, isolated_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The anchored entry's hash is compared with the anchor only once the chain is intact;
    # text in it that is not UTF-8 (SQLite) must not be read as such before.
    monkeypatch.setenv("BOTS_DATABASE_URL", database_url)
    note_anchor(isolated_settings / "audit-anchors.jsonl", trail.store.audit_head())
    if database_url.startswith("sqlite"):
        trail.tamper(ENTRIES, "hash", Garbage("CAST(:v AS TEXT)", b"\xff\xfe"))
    else:
        trail.tamper(ENTRIES, "hash", Garbage(":v", "ä" * 64))

    result = CliRunner().invoke(app, ["audit", "verify"])

    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1
    assert f"audit trail broken at entry {ENTRIES}: altered" in result.stderr
    assert not trail.store.verify_audit(trail.anchors).ok
