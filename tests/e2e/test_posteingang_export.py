"""End to end: `bots run posteingang-export` against the sandbox, the CSV checked against it."""

from __future__ import annotations

import codecs
import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from _commands import bots

from orchestrator.settings import SandboxSettings, load_settings
from sandbox.db import connect
from sandbox.seed import seed
from sandbox.server import running_sandbox
from sandbox.state import read_state

pytestmark = [pytest.mark.browser, pytest.mark.slow]
BOT = "posteingang-export"
#: 25 new Gewerbeanmeldungen, 30 new Vorgänge in all: three Posteingang pages of ten either way.
CASES = 25
HEADER = ["Nummer", "Leistung", "Antragsteller", "Betrieb", "Ort", "Eingang", "Status"]


def expected_numbers(sandbox_dir: Path, status: str, leistung: str) -> list[str]:
    """The sandbox's own answer, in the Posteingang's order (Eingang)."""
    return [
        v["nummer"]
        for v in read_state(sandbox_dir)["vorgaenge"]
        if v["status"] == status and leistung in ("Alle", v["leistung"])
    ]


def export(sandbox: SandboxSettings, *params: str, env: dict[str, str] | None = None) -> Path:
    """Run the bot with ``-p`` params against a running sandbox; the path of its CSV file."""
    settings = load_settings()
    args = [arg for param in params for arg in ("-p", param)]
    with running_sandbox(settings.sandbox_dir, sandbox) as running:
        result = bots(
            "run",
            BOT,
            *args,
            "--no-retry",
            "--json",
            env={
                "BOTS_TARGETS__CIVENTO": running.civento_url,
                "BOTS_SECRET_CIVENTO_PASSWORD": sandbox.password,
                **(env or {}),
            },
        )
    assert result.returncode == 0, result.stdout + result.stderr
    run = json.loads(result.stdout)
    assert run["status"] == "succeeded", run["error"]
    detail = json.loads(bots("show", str(run["id"]), "--json", env={}).stdout)
    assert detail["status"] == "succeeded"
    assert [s["status"] for s in detail["steps"]] == ["ok"] * 4  # 3 steps and the logout
    # The session ended with the logout: no login of the bot is still valid.
    with connect(settings.sandbox_dir) as conn:
        assert conn.execute("SELECT benutzer FROM sitzungen").fetchall() == []
    path = Path(detail["run_dir"]) / "posteingang.csv"
    assert path.is_file(), detail
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a semicolon-separated UTF-8 file (with byte order mark) and its header."""
    raw = path.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8), raw[:20]
    text = raw.decode("utf-8-sig")  # strict: anything but UTF-8 fails here
    header, *rows = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    assert header == HEADER
    return [dict(zip(header, row, strict=True)) for row in rows]


def assert_rows_match_sandbox(sandbox_dir: Path, rows: list[dict[str, str]]) -> None:
    """Each row's cells are the Vorgang's data, umlauts and all."""
    with connect(sandbox_dir) as conn:
        stored: dict[str, Any] = {
            row["nummer"]: row for row in conn.execute("SELECT * FROM vorgaenge").fetchall()
        }
    for row in rows:
        vorgang = stored[row["Nummer"]]
        assert row["Leistung"] == vorgang["leistung"], row
        assert row["Status"] == vorgang["status"], row
        assert row["Antragsteller"] == f"{vorgang['nachname']}, {vorgang['vorname']}", row
        assert row["Betrieb"] == vorgang["betrieb"], row
        assert row["Ort"] == vorgang["ort"], row
        assert row["Eingang"], row
    assert any(not cell.isascii() for row in rows for cell in row.values()), "no umlaut read"


def test_exports_new_gewerbeanmeldungen_of_all_pages(isolated_settings: Path) -> None:
    settings = load_settings()
    sandbox = settings.sandbox.model_copy(update={"cases": CASES, "port": 0})
    seed(settings.sandbox_dir, sandbox, reset=True)
    expected = expected_numbers(settings.sandbox_dir, "Neu", "Gewerbeanmeldung")
    assert len(expected) == CASES > 20  # more than two pages

    rows = read_csv(export(sandbox, "status=Neu", "leistung=Gewerbeanmeldung"))

    assert [row["Nummer"] for row in rows] == expected
    assert {row["Leistung"] for row in rows} == {"Gewerbeanmeldung"}
    assert {row["Status"] for row in rows} == {"Neu"}
    assert_rows_match_sandbox(settings.sandbox_dir, rows)


def test_exports_new_vorgaenge_of_every_leistung(isolated_settings: Path) -> None:
    settings = load_settings()
    sandbox = settings.sandbox.model_copy(update={"cases": CASES, "port": 0})
    seed(settings.sandbox_dir, sandbox, reset=True)
    expected = expected_numbers(settings.sandbox_dir, "Neu", "Alle")
    assert len(expected) > 20

    rows = read_csv(export(sandbox, "status=Neu", "leistung=Alle"))

    assert [row["Nummer"] for row in rows] == expected
    assert {row["Leistung"] for row in rows} == {
        "Gewerbeanmeldung",
        "Gewerbeabmeldung",
        "Hundesteuer-Anmeldung",
    }
    assert {row["Status"] for row in rows} == {"Neu"}
    assert_rows_match_sandbox(settings.sandbox_dir, rows)


def test_export_is_complete_with_faults_injected(isolated_settings: Path) -> None:
    settings = load_settings()
    faulty = settings.sandbox.model_copy(
        update={
            "cases": CASES,
            "port": 0,
            "fault_rate": 0.15,
            "latency_ms": 400,
            "late_elements_ms": 300,
            # A login and three pages fit into one session: a read started after a 503
            # runs into the expiry and has to log in again.
            "expire_sessions_every": 4,
        }
    )
    seed(settings.sandbox_dir, faulty, reset=True)
    expected = expected_numbers(settings.sandbox_dir, "Neu", "Gewerbeanmeldung")

    # Loopback answers in milliseconds: a failed request should not cost 30 s.
    path = export(
        faulty, "status=Neu", "leistung=Gewerbeanmeldung", env={"BOTS_STEP_TIMEOUT_S": "5"}
    )

    rows = read_csv(path)
    assert [row["Nummer"] for row in rows] == expected
    assert_rows_match_sandbox(settings.sandbox_dir, rows)
    # The faults did hit the run: it tried again, and logged in again, and still got it all.
    events = [
        json.loads(line)["event"]
        for line in (path.parent / "run.log.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert "action attempt failed; trying again" in events
    assert "session expired; logging in again" in events
