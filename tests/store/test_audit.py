"""The audit trail cannot be changed unnoticed, and exports what the auditors ask for."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from _tamper import drop_guards

from orchestrator.errors import InputError
from orchestrator.results import RunStatus
from orchestrator.store import RunRequest, RunStore, note_anchor, open_store, read_anchors
from orchestrator.store.audit.chain import (
    GENESIS,
    canonical_json,
    entry_hash,
    hash_parts,
    timestamp,
)

MakeRequest = Callable[..., RunRequest]
Sql = Callable[..., list[Any]]


@pytest.fixture
def history(store: RunStore, new_request: MakeRequest) -> RunStore:
    """A store whose audit trail holds 9 entries: 2 runs of Gießen, 1 of Marburg."""
    for tenant in ("giessen", "giessen", "marburg"):
        run_id = store.enqueue(new_request(tenant=tenant, parameters={"ort": "Gießen", "x": 0.1}))
        store.claim(
            holder="robot-1", tenants=[tenant], labels=(), limit=1, lease_s=30, pool_limits={}
        )
        store.mark_running(run_id, holder="robot-1")
    return store


def test_a_clean_trail_verifies_with_its_count_and_head(history: RunStore) -> None:
    entries = list(history.export_audit())

    check = history.verify_audit()

    assert (check.ok, check.checked, check.first_bad_seq, check.problem) == (True, 9, None, None)
    assert check.head_hash == entries[-1]["hash"]
    assert [e["seq"] for e in entries] == list(range(1, 10))
    assert all(e["prev_hash"] == before["hash"] for before, e in pairwise(entries))


def test_an_empty_trail_verifies(store: RunStore) -> None:
    assert store.verify_audit() == type(store.verify_audit())(True, 0, None)


def test_the_trail_verifies_after_reopening(history: RunStore, database_url: str) -> None:
    # What was hashed reads back identically: times, umlauts, floats in the parameters.
    head = history.verify_audit().head_hash
    with open_store(database_url) as again:
        assert again.verify_audit().ok
        assert again.verify_audit().head_hash == head


@pytest.mark.parametrize(
    ("tenant", "run_id", "data"),
    [
        ("giessen", 17, {"ort": "Gießen", "x": 0.1, "q": 'a "b" \\ c', "n": None}),
        (None, None, {}),
        ("wetzlar", 3, {"liste": [1, 2.5, "€"], "nul": "a\x00b", "tief": {"z": 1, "a": [{}]}}),
    ],
)
def test_the_parts_postgresql_chains_from_hash_like_the_entry(
    tenant: str | None, run_id: int | None, data: dict[str, Any]
) -> None:
    at = datetime(2026, 11, 2, 7, 0, 0, 123, tzinfo=UTC)
    fields = {"at": at, "tenant": tenant, "actor": "robot-1", "action": "queued"}
    before, middle, after = hash_parts(**fields, run_id=run_id, data=data)

    text = before + GENESIS + middle + "42" + after

    whole = {**fields, "at": timestamp(at), "run_id": run_id, "data": data}
    assert text == canonical_json({**whole, "seq": 42, "prev_hash": GENESIS})
    expected = entry_hash(**fields, run_id=run_id, data=data, seq=42, prev_hash=GENESIS)
    assert hashlib.sha256(text.encode()).hexdigest() == expected


def test_odd_texts_chain_and_verify(store: RunStore, new_request: MakeRequest) -> None:
    # Quotes, backslashes, control characters and non-Latin-1 text reach the audit entry.
    odd = {"name": 'Müller "Ö" \\ GmbH', "nul": "a\x00b", "zeilen": "1\n2", "euro": "€ ✓"}
    for _ in range(2):
        store.enqueue(new_request(parameters=odd))

    assert store.verify_audit() == type(store.verify_audit())(
        True, 2, list(store.export_audit())[-1]["hash"]
    )
    assert list(store.export_audit())[-1]["data"]["parameters"] == odd


def test_the_database_refuses_to_update_or_delete_audit_entries(
    history: RunStore, sql: Sql
) -> None:
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        sql("UPDATE audit_log SET actor = 'user:niemand' WHERE seq = 2")
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        sql("DELETE FROM audit_log WHERE seq = 9")
    assert history.verify_audit().ok


def test_verify_names_an_entry_whose_data_was_altered(
    history: RunStore, sql: Sql, database_url: str
) -> None:
    drop_guards(sql, database_url)
    forged = json.dumps({"bot": "gewerbe-abgleich", "parameters": {}, "from": "claimed"})
    sql("UPDATE audit_log SET data = :data WHERE seq = 5", data=forged)

    check = history.verify_audit()

    assert (check.ok, check.first_bad_seq, check.checked) == (False, 5, 4)
    assert check.problem is not None and check.problem.startswith("altered")


def test_verify_names_an_entry_that_was_deleted(
    history: RunStore, sql: Sql, database_url: str
) -> None:
    drop_guards(sql, database_url)
    sql("DELETE FROM audit_log WHERE seq = 4")

    check = history.verify_audit()

    assert (check.ok, check.first_bad_seq, check.checked) == (False, 4, 3)
    assert check.problem is not None and check.problem.startswith("deleted")


def test_verify_names_a_forged_entry_inserted_in_the_middle(
    history: RunStore, sql: Sql, database_url: str
) -> None:
    # The attacker knows the hashing, links the forged entry to its predecessor correctly and
    # renumbers the later ones; the entry after it still links to the one before.
    drop_guards(sql, database_url)
    sql("UPDATE audit_log SET seq = -seq - 1 WHERE seq >= 6")
    sql("UPDATE audit_log SET seq = -seq WHERE seq < 0")
    (prev_hash,) = sql("SELECT hash FROM audit_log WHERE seq = 5")[0]
    at = datetime.now(UTC)
    fields: dict[str, Any] = {
        "seq": 6,
        "at": at,
        "tenant": "giessen",
        "actor": "user:alice@rpa-01",
        "action": "cancelled",
        "run_id": 1,
        "data": {"bot": "gewerbe-abgleich"},
        "prev_hash": prev_hash,
    }
    stored_at = at.replace(tzinfo=None) if database_url.startswith("sqlite") else at
    sql(
        "INSERT INTO audit_log (seq, at, tenant, actor, action, run_id, data, prev_hash, hash) "
        "VALUES (:seq, :at, :tenant, :actor, :action, :run_id, :data, :prev_hash, :hash)",
        **{**fields, "at": stored_at, "data": json.dumps(fields["data"])},
        hash=entry_hash(**fields),
    )

    check = history.verify_audit()

    assert (check.ok, check.first_bad_seq, check.checked) == (False, 6, 5)
    assert check.problem is not None and check.problem.startswith("inserted")


def test_verify_names_a_made_up_entry_appended_at_the_end(history: RunStore, sql: Sql) -> None:
    sql(
        "INSERT INTO audit_log (seq, at, tenant, actor, action, run_id, data, prev_hash, hash) "
        "VALUES (10, '2026-01-01 00:00:00', 'giessen', 'user:x', 'cancelled', 1, '{}', "
        "'00', 'ff')"
    )

    check = history.verify_audit()

    assert (check.ok, check.first_bad_seq, check.checked) == (False, 10, 9)
    assert check.problem is not None and check.problem.startswith("inserted")


def test_export_filters_by_tenant_and_time(history: RunStore) -> None:
    time.sleep(0.01)
    since = datetime.now(UTC)
    history.audit("schedule paused", tenant="giessen", actor="user:bob", data={"schedule": "m"})
    history.audit("robot note", tenant=None, actor="robot-1", data={})

    everything = list(history.export_audit())
    marburg = list(history.export_audit(tenant="marburg"))
    recent = list(history.export_audit(since=since))
    recent_giessen = list(history.export_audit(since=since, tenant="giessen"))

    assert len(everything) == 11
    assert [e["seq"] for e in marburg] == [7, 8, 9]
    assert {e["tenant"] for e in marburg} == {"marburg"}
    assert [e["action"] for e in recent] == ["schedule paused", "robot note"]
    assert [e["seq"] for e in recent_giessen] == [10]
    assert json.loads(json.dumps(everything)) == everything  # JSON-ready as it is
    assert datetime.fromisoformat(recent[0]["at"]) >= since
    assert history.verify_audit().checked == 11


def test_export_refuses_a_naive_since(history: RunStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        list(history.export_audit(since=datetime(2026, 1, 1)))


def test_status_changes_by_users_name_the_user(store: RunStore, new_request: MakeRequest) -> None:
    run_id = store.enqueue(new_request())

    store.cancel(run_id, tenant="giessen", actor="user:bob@rpa-01")

    last = list(store.export_audit())[-1]
    assert (last["action"], last["actor"], last["run_id"]) == (
        RunStatus.CANCELLED.value,
        "user:bob@rpa-01",
        run_id,
    )


# ----------------------------------------------------------------- anchors


def forge_next(sql: Sql, seq: int, prev_hash: str) -> None:
    """Append entry ``seq`` with a correct hash, as an attacker who knows the hashing can."""
    fields: dict[str, Any] = {
        "seq": seq,
        "at": datetime.now(UTC),
        "tenant": "giessen",
        "actor": "user:niemand",
        "action": "succeeded",
        "run_id": 1,
        "data": {"bot": "gewerbe-abgleich"},
        "prev_hash": prev_hash,
    }
    sql(
        "INSERT INTO audit_log (seq, at, tenant, actor, action, run_id, data, prev_hash, hash) "
        "VALUES (:seq, :at, :tenant, :actor, :action, :run_id, :data, :prev_hash, :hash)",
        **{**fields, "data": json.dumps(fields["data"]), "hash": entry_hash(**fields)},
    )


def test_deleting_the_newest_entries_shows_against_an_anchor(
    history: RunStore, sql: Sql, database_url: str, tmp_path: Path
) -> None:
    anchors = tmp_path / "anchors.jsonl"
    noted = note_anchor(anchors, history.audit_head())
    drop_guards(sql, database_url)
    sql("DELETE FROM audit_log WHERE seq >= 8")

    assert history.verify_audit().ok  # the chain alone cannot tell
    check = history.verify_audit(read_anchors(anchors))

    assert noted is not None and noted.seq == 9
    assert (check.ok, check.first_bad_seq, check.checked) == (False, 8, 7)
    assert check.problem is not None and check.problem.startswith("deleted")
    assert "entry 9 was noted down" in check.problem


def test_a_trail_rewritten_with_fresh_hashes_shows_against_an_anchor(
    history: RunStore, sql: Sql, database_url: str, tmp_path: Path
) -> None:
    anchors = tmp_path / "anchors.jsonl"
    note_anchor(anchors, history.audit_head())
    drop_guards(sql, database_url)
    sql("DELETE FROM audit_log WHERE seq = 9")
    (prev_hash,) = sql("SELECT hash FROM audit_log WHERE seq = 8")[0]
    forge_next(sql, 9, prev_hash)

    assert history.verify_audit().ok
    check = history.verify_audit(read_anchors(anchors))

    assert (check.ok, check.first_bad_seq) == (False, 9)
    assert check.problem is not None and check.problem.startswith("altered")


def test_anchors_agree_with_an_intact_trail_as_it_grows(
    history: RunStore, new_request: MakeRequest, tmp_path: Path
) -> None:
    anchors = tmp_path / "anchors.jsonl"
    first = note_anchor(anchors, history.audit_head())
    assert note_anchor(anchors, history.audit_head()) is None  # the same head: noted already
    history.enqueue(new_request())
    second = note_anchor(anchors, history.audit_head())

    assert [a.seq for a in read_anchors(anchors)] == [9, 10]
    assert first is not None and second is not None
    assert history.verify_audit(read_anchors(anchors)) == history.verify_audit()


def test_noting_reads_the_end_of_a_long_anchors_file(tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.jsonl"
    head = (100, "ab" * 32)
    older = "".join(
        json.dumps({"hash": f"{n:064x}", "noted_at": "2026-01-01", "seq": n}) + "\n"
        for n in range(1, 100)
    )
    anchors.write_text(older)  # far longer than the end that noting reads
    assert note_anchor(anchors, (99, f"{99:064x}")) is None  # the last line, already

    noted = note_anchor(anchors, head)

    assert noted is not None and read_anchors(anchors)[-1] == noted
    assert len(read_anchors(anchors)) == 100
    assert note_anchor(anchors, head) is None


def test_an_empty_trail_notes_no_anchor(store: RunStore, tmp_path: Path) -> None:
    assert note_anchor(tmp_path / "anchors.jsonl", store.audit_head()) is None
    assert not (tmp_path / "anchors.jsonl").exists()


def test_a_malformed_anchors_file_is_named_with_its_line(tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.jsonl"
    anchors.write_text('{"seq": 3, "hash": "ab", "noted_at": "x"}\n{"seq": "drei"}\n')

    with pytest.raises(InputError, match=r"anchors\.jsonl:2: not an audit anchor"):
        read_anchors(anchors)
