"""Seed data and read_state: deterministic, realistic, Latin-1 safe; duplicates reported."""

from __future__ import annotations

from pathlib import Path

from orchestrator.settings import SandboxSettings
from sandbox.db import connect
from sandbox.rules import CITIES, non_latin1
from sandbox.seed import seed
from sandbox.state import format_state, read_state


def _dump(sandbox_dir: Path) -> list[tuple[object, ...]]:
    with connect(sandbox_dir) as conn:
        rows = conn.execute("SELECT * FROM vorgaenge ORDER BY id").fetchall()
        rows += conn.execute("SELECT * FROM register ORDER BY id").fetchall()
    return [tuple(row) for row in rows]


def test_same_seed_same_data_other_seed_other_data(tmp_path: Path) -> None:
    settings = SandboxSettings(cases=7)
    assert seed(tmp_path / "a", settings) == seed(tmp_path / "b", settings)
    assert _dump(tmp_path / "a") == _dump(tmp_path / "b")
    seed(tmp_path / "c", settings.model_copy(update={"seed": 1}))
    assert _dump(tmp_path / "a") != _dump(tmp_path / "c")


def test_reseed_replaces_and_keep_existing_without_reset(tmp_path: Path) -> None:
    count = seed(tmp_path, SandboxSettings(cases=2))
    assert seed(tmp_path, SandboxSettings(cases=9), reset=False) == count
    assert seed(tmp_path, SandboxSettings(cases=9)) == count + 7


def test_seed_data_is_realistic_and_latin1_safe(tmp_path: Path) -> None:
    seed(tmp_path, SandboxSettings(cases=12))
    with connect(tmp_path) as conn:
        rows = [dict(row) for row in conn.execute("SELECT * FROM vorgaenge")]
    new = [r for r in rows if r["leistung"] == "Gewerbeanmeldung" and r["status"] == "Neu"]
    assert len(new) == 12
    assert {r["leistung"] for r in rows} >= {"Gewerbeabmeldung", "Hundesteuer-Anmeldung"}
    assert {r["ort"] for r in rows} <= set(CITIES)
    assert any(ch in "äöüßÄÖÜ" for r in rows for ch in r["nachname"])
    assert all(not non_latin1(str(value)) for r in rows for value in r.values())
    assert all(r["nummer"].split("-")[1] == "2026" for r in rows)


def test_read_state_without_sandbox_and_after_seed(tmp_path: Path) -> None:
    assert read_state(tmp_path / "none")["seeded"] is False
    assert "leer" in format_state(read_state(tmp_path / "none"))
    seed(tmp_path, SandboxSettings(cases=4))
    state = read_state(tmp_path)
    assert state["vorgaenge_by_status"]["Neu"] >= 4
    assert state["duplicates"] == []
    written = [v for v in state["vorgaenge"] if v["aktenzeichen"]]
    referenced = {e["bezugszeichen"]: e["aktenzeichen"] for e in state["register"]}
    assert written and all(referenced[v["nummer"]] == v["aktenzeichen"] for v in written)
    assert "Keine doppelten Einträge" in format_state(state)
