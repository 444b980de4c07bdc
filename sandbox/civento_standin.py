"""Civento as a stand-in of the sandbox: its pages (:mod:`sandbox.civento`), tables, seed, state.

Registered as the entry point ``civento`` of ``kommune_bots.standins`` (pyproject.toml).

Example::

    with connect(sandbox_dir) as conn:
        civento_state(conn)["vorgaenge_by_status"]   # {"Neu": 12, "In Bearbeitung": 3, ...}
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sandbox import civento
from sandbox.gewerbe_story import seed_civento
from sandbox.hunde_story import ANGABEN_SCHEMA
from sandbox.rules import STATUSES
from sandbox.standins import StandIn
from sandbox.web import PACKAGE_DIR

SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS vorgaenge (
    id INTEGER PRIMARY KEY,
    nummer TEXT NOT NULL UNIQUE,
    leistung TEXT NOT NULL,
    status TEXT NOT NULL,
    eingang TEXT NOT NULL,
    anrede TEXT NOT NULL,
    vorname TEXT NOT NULL,
    nachname TEXT NOT NULL,
    geburtsdatum TEXT NOT NULL,
    email TEXT NOT NULL,
    telefon TEXT NOT NULL,
    betrieb TEXT NOT NULL DEFAULT '',
    rechtsform TEXT NOT NULL DEFAULT '',
    strasse TEXT NOT NULL,
    plz TEXT NOT NULL,
    ort TEXT NOT NULL,
    taetigkeit TEXT NOT NULL DEFAULT '',
    beginn TEXT NOT NULL DEFAULT '',
    aktenzeichen_fv TEXT NOT NULL DEFAULT '',
    bemerkung TEXT NOT NULL DEFAULT '',
    geaendert TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS verlauf (
    id INTEGER PRIMARY KEY,
    vorgang_id INTEGER NOT NULL REFERENCES vorgaenge(id),
    zeit TEXT NOT NULL,
    benutzer TEXT NOT NULL,
    eintrag TEXT NOT NULL
);
"""
    + ANGABEN_SCHEMA
)


def civento_state(conn: sqlite3.Connection) -> dict[str, Any]:
    """``vorgaenge_by_status`` (status -> count) and ``vorgaenge`` (number, leistung, status,
    the register's aktenzeichen written back)."""
    vorgaenge = conn.execute(
        "SELECT nummer, leistung, status, aktenzeichen_fv FROM vorgaenge ORDER BY eingang"
    ).fetchall()
    by_status = dict.fromkeys(STATUSES, 0)
    for row in vorgaenge:
        by_status[row["status"]] = by_status.get(row["status"], 0) + 1
    return {
        "vorgaenge_by_status": by_status,
        "vorgaenge": [
            {
                "nummer": row["nummer"],
                "leistung": row["leistung"],
                "status": row["status"],
                "aktenzeichen": row["aktenzeichen_fv"] or None,
            }
            for row in vorgaenge
        ],
    }


def civento_lines(state: dict[str, Any]) -> list[str]:
    """Civento's part of ``bots sandbox state``."""
    lines = ["Civento – Vorgänge nach Status:"]
    lines += [
        f"  {status:<15} {count:>4}" for status, count in state["vorgaenge_by_status"].items()
    ]
    lines.append("Civento – Gewerbeanmeldungen mit Aktenzeichen des Fachverfahrens:")
    written = [
        v for v in state["vorgaenge"] if v["leistung"] == "Gewerbeanmeldung" and v["aktenzeichen"]
    ]
    lines += [f"  {v['nummer']}  {v['status']:<15} {v['aktenzeichen']}" for v in written]
    dogs = [v for v in state["vorgaenge"] if v["leistung"] == "Hundesteuer-Anmeldung"]
    if dogs:
        lines.append("Civento – Hundesteuer-Anmeldungen:")
        lines += [
            f"  {v['nummer']}  {v['status']:<15} {v['aktenzeichen'] or ''}".rstrip() for v in dogs
        ]
    return lines


STANDIN = StandIn(
    name="civento",
    title="Civento (Sachbearbeitung)",
    router=civento.router,
    static=PACKAGE_DIR / "static",
    schema=SCHEMA,
    tables=("angaben", "verlauf", "vorgaenge"),
    seed=seed_civento,
    seed_unit="Vorgänge",
    state=civento_state,
    state_lines=civento_lines,
)
