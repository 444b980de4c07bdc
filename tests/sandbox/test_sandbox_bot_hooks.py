"""The example bots' hooks fit the sandbox: Civento's data, mapped, is accepted by the register."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path
from types import ModuleType, SimpleNamespace

import httpx
import pytest

from orchestrator.settings import SandboxSettings
from sandbox.db import connect
from sandbox.rules import CIVENTO_RECHTSFORMEN
from sandbox.state import read_state

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PASSWORD = SandboxSettings().password


def _hooks(bot: str) -> ModuleType:
    path = PROJECT_ROOT / "bots" / bot / "hooks.py"
    spec = importlib.util.spec_from_file_location(f"hooks_{bot.replace('-', '_')}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_civento_rechtsform_maps_to_a_register_option() -> None:
    hooks = _hooks("gewerbe-uebertragung")
    for wording, label in CIVENTO_RECHTSFORMEN.items():
        assert hooks.map_rechtsform(None, wording) == label
    with pytest.raises(ValueError, match="nicht zuzuordnen"):
        hooks.map_rechtsform(None, "Genossenschaft (eG)")


@pytest.mark.parametrize(
    ("given", "street", "number"),
    [
        ("Bahnhofstr. 12a", "Bahnhofstraße", "12a"),
        ("Frankfurter Str. 112 a", "Frankfurter Straße", "112a"),
        ("Am Schlag 2", "Am Schlag", "2"),
        ("Karl-Kellner-Ring 6-8", "Karl-Kellner-Ring", "6-8"),
    ],
)
def test_streets_are_split_and_written_out(given: str, street: str, number: str) -> None:
    result = _hooks("gewerbe-uebertragung").split_street(None, given)
    assert result == {"strasse": street, "hausnummer": number}


@pytest.mark.parametrize("sandbox_settings", [SandboxSettings(cases=30)])
def test_mapped_seed_cases_are_accepted_by_the_register(
    register: httpx.Client, register_token: str, sandbox_dir: Path
) -> None:
    hooks = _hooks("gewerbe-uebertragung")
    with connect(sandbox_dir) as conn:
        rows = conn.execute(
            "SELECT * FROM vorgaenge WHERE leistung = 'Gewerbeanmeldung' AND status = 'Neu'"
        ).fetchall()
    assert any(row["plz"].startswith("D-") for row in rows)
    assert any("str." in row["strasse"].lower() for row in rows)
    for row in rows:
        fields = {k: row[k] for k in ("vorname", "nachname", "betrieb", "rechtsform", "strasse")}
        fields |= {k: row[k] for k in ("plz", "ort", "taetigkeit", "beginn")}
        entry = hooks.register_entry(None, row["nummer"], **fields)
        codes = {"GmbH": "GMBH", "e.K.": "EK", "GbR": "GBR", "Einzelunternehmen": "EU",
                 "UG (haftungsbeschränkt)": "UG", "AG": "AG", "OHG": "OHG", "KG": "KG"}  # fmt: skip
        response = register.post(
            "/gewerberegister/neu",
            data={**entry, "rechtsform": codes[entry["rechtsform"]], "csrf_token": register_token},
        )
        assert "Eintrag angelegt" in response.text, (row["nummer"], entry)
    assert read_state(sandbox_dir)["duplicates"] == []


def test_export_hook_writes_semicolon_csv_into_the_run_directory(tmp_path: Path) -> None:
    hooks = _hooks("posteingang-export")
    rows = [{"Nummer": "GA-2026-000123", "Antragsteller": "Weiß, Jürgen", "Status": "Neu"}]
    kept: list[Path] = []
    ctx = SimpleNamespace(run_dir=tmp_path, artifact=kept.append)
    path = Path(hooks.write_csv(ctx, rows, "neu.csv"))
    assert path == tmp_path / "neu.csv"
    assert kept == [path]  # recorded with the run's artifacts
    with path.open(encoding="utf-8-sig", newline="") as handle:
        read = list(csv.DictReader(handle, delimiter=";"))
    assert read[0]["Antragsteller"] == "Weiß, Jürgen" and read[0]["Betrieb"] == ""
    with pytest.raises(ValueError, match="Verzeichnis"):
        hooks.write_csv(ctx, rows, "../x.csv")
