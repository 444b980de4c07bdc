"""What the e2e tests of gewerbe-uebertragung check in the sandbox's state after a run."""

from __future__ import annotations

from typing import Any


def assert_transferred_once(state: dict[str, Any], numbers: set[str]) -> None:
    """Each case of ``numbers`` is "Übertragen" with the Aktenzeichen of its one register
    entry, and the register holds no duplicates."""
    assert numbers
    assert state["duplicates"] == []
    by_reference: dict[str, list[str]] = {}
    for entry in state["register"]:
        if entry["bezugszeichen"]:
            by_reference.setdefault(entry["bezugszeichen"], []).append(entry["aktenzeichen"])
    for vorgang in state["vorgaenge"]:
        if vorgang["nummer"] in numbers:
            assert vorgang["status"] == "Übertragen", vorgang
            assert by_reference.get(vorgang["nummer"]) == [vorgang["aktenzeichen"]], vorgang


def assert_done_once_or_waiting(
    state: dict[str, Any], numbers: set[str], item_status: dict[str, str]
) -> None:
    """Each case of ``numbers`` whose work item is ``done`` was transferred once; one whose
    item waits for its retry (the target system's faults outlasted the connector's tries) is
    still "Neu" with no register entry: done once or waiting, never half or twice."""
    done = {number for number in numbers if item_status[number] == "done"}
    waiting = numbers - done
    assert done
    assert {item_status[number] for number in waiting} <= {"retrying"}, item_status
    assert_transferred_once(state, done)
    entered = {entry["bezugszeichen"] for entry in state["register"]}
    for vorgang in state["vorgaenge"]:
        if vorgang["nummer"] in waiting:
            assert vorgang["status"] in ("Neu", "In Bearbeitung"), vorgang
            assert vorgang["nummer"] not in entered or vorgang["status"] == "In Bearbeitung"
