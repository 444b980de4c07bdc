"""Work queues loaded in bulk (``store.queues.add_items`` and ``sync``): all or nothing.

Each test runs on SQLite and on PostgreSQL (``store`` of ``conftest.py``).
"""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.errors import PayloadInvalid, QueueNotFound
from orchestrator.queue_files import Row
from orchestrator.store import POLICY_DEFAULTS, RunStore

ALICE = "user:alice"
SCHEMA = {"type": "object", "required": ["name"]}


def _policy(**changes: Any) -> dict[str, Any]:
    return {**POLICY_DEFAULTS, **changes}


def test_add_items_adds_nothing_when_a_new_row_does_not_fit_and_names_it(
    store: RunStore,
) -> None:
    queues = store.queues
    queues.create_queue("giessen", "gewerbe", schema=SCHEMA, actor=ALICE)
    queues.add_item("giessen", "gewerbe", "GA-1", {"name": "A"}, actor=ALICE)
    rows = [
        Row("row 2", "GA-1", {}),  # known: left alone, not checked
        Row("row 3", "GA-2", {"name": "B"}),
        Row("row 4", "GA-3", {}),
    ]

    with pytest.raises(PayloadInvalid, match=r"nothing was added:\n  row 4: .*'name'"):
        queues.add_items("giessen", "gewerbe", rows, actor=ALICE)
    assert [item.reference for item in queues.list_items("giessen", "gewerbe")] == ["GA-1"]

    added = queues.add_items("giessen", "gewerbe", rows[:2], priority=5, actor=ALICE)
    assert [(result.created, result.item.reference) for result in added] == [
        (False, "GA-1"),
        (True, "GA-2"),
    ]
    assert added[1].item.priority == 5


def test_sync_creates_routes_in_any_order_then_reports_changes(store: RunStore) -> None:
    declared = {"gewerbe": _policy(next_on_success="eakte"), "eakte": _policy()}

    first = store.queues.sync("giessen", declared, actor=ALICE)

    assert [(result.name, str(result)) for result in first] == [
        ("gewerbe", "created"),
        ("eakte", "created"),
    ]
    assert store.queues.get_queue("giessen", "gewerbe").next_on_success == "eakte"
    declared["gewerbe"] = _policy(next_on_success="eakte", max_attempts=5)
    again = store.queues.sync("giessen", declared, actor=ALICE)
    assert [(result.name, str(result)) for result in again] == [
        ("gewerbe", "changed (max_attempts)"),
        ("eakte", "unchanged"),
    ]


def test_sync_of_a_route_to_no_queue_changes_nothing(store: RunStore) -> None:
    declared = {"gewerbe": _policy(), "eakte": _policy(next_on_failure="nirgends")}

    with pytest.raises(QueueNotFound, match="nirgends"):
        store.queues.sync("giessen", declared, actor=ALICE)

    assert store.queues.list_queues("giessen") == []
