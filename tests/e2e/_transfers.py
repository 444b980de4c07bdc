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
