"""The Hundesteuer part of the sandbox's story: what citizens applied for in Civento, and
what the register held before (entered on paper).

Each Hundesteuer-Anmeldung in Civento gets its Angaben (dog's name, breed, dates, second dog,
reduction), drawn from a generator of its own per Vorgang, so adding them changed none of
the Gewerbe story's draws. With ``problem_cases``, the first new ones (by number) hold a
problem only a person can solve, in turn: a breed on Hessen's list of dangerous dogs (the
Ordnungsamt decides first), a dog's name the register cannot store (it takes Latin-1 only).

Example::

    angaben(conn, vorgang_id=7, nummer="HST-2026-000123", seed=2026)
"""

from __future__ import annotations

import random
import sqlite3
from datetime import date, timedelta

from sandbox.gewerbe_story import NACHNAMEN, STRASSEN, VORNAMEN, YEAR, add_accounts
from sandbox.hundesteuer import RASSEN, next_steuernummer
from sandbox.rules import CITIES
from sandbox.standins import SeedContext

HUNDENAMEN = (
    "Bruno", "Frieda", "Rex", "Lümmel", "Bella", "Luna", "Balu", "Emma", "Sammy", "Jöschi",
    "Krümel", "Nala", "Oskar", "Paula", "Rocky", "Susi",
)  # fmt: skip
#: The breeds citizens choose in Civento's form (the register's Verzeichnis, most of them).
HAEUFIGE_RASSEN = tuple(name for name, dangerous in RASSEN.items() if not dangerous)
GEFAEHRLICH = "American Staffordshire Terrier"
NICHT_LATIN1 = "Łajka"

ANGABEN_SCHEMA = """
CREATE TABLE IF NOT EXISTS angaben (
    id INTEGER PRIMARY KEY,
    vorgang_id INTEGER NOT NULL REFERENCES vorgaenge(id),
    feld TEXT NOT NULL,
    wert TEXT NOT NULL
);
"""


def angaben(conn: sqlite3.Connection, vorgang_id: int, nummer: str, seed: int) -> str:
    """Write a Hundesteuer-Anmeldung's Angaben; its short description (``Dackel (Frieda)``)."""
    rng = random.Random(f"{seed}:{nummer}")
    name, rasse = rng.choice(HUNDENAMEN), rng.choice(HAEUFIGE_RASSEN)
    born = date(YEAR - 1, 1, 1) - timedelta(days=rng.randint(60, 9 * 365))
    since = date(YEAR, 1, 1) + timedelta(days=rng.randint(0, 200))
    rows = (
        ("Name des Hundes", name),
        ("Rasse", rasse),
        ("Wurfdatum", born.strftime("%d.%m.%Y")),
        ("Haltung seit", since.strftime("%d.%m.%Y")),
        ("Zweithund", "Ja" if rng.random() < 0.2 else "Nein"),
        ("Ermäßigung beantragt", "Ja" if rng.random() < 0.15 else "Nein"),
    )
    conn.executemany(
        "INSERT INTO angaben (vorgang_id, feld, wert) VALUES (?, ?, ?)",
        [(vorgang_id, feld, wert) for feld, wert in rows],
    )
    return f"{rasse} ({name})"


def dog_problems(conn: sqlite3.Connection, count: int) -> None:
    """Give the first ``count`` (at most two) new Hundesteuer-Anmeldungen a problem each."""
    new = conn.execute(
        "SELECT id FROM vorgaenge WHERE leistung = 'Hundesteuer-Anmeldung' AND status = 'Neu'"
        " ORDER BY nummer LIMIT ?",
        (min(count, 2),),
    ).fetchall()
    for (vorgang_id,), (feld, wert) in zip(
        new, (("Rasse", GEFAEHRLICH), ("Name des Hundes", NICHT_LATIN1)), strict=False
    ):
        conn.execute(
            "UPDATE angaben SET wert = ? WHERE vorgang_id = ? AND feld = ?",
            (wert, vorgang_id, feld),
        )


def seed_register(conn: sqlite3.Connection, context: SeedContext) -> int:
    """The register's accounts and the dogs entered on paper before; their number."""
    add_accounts(conn, "hundesteuer", context.settings.password)
    rng = context.rng
    count = 6
    for _ in range(count):
        city = rng.choice(sorted(CITIES))
        plz = rng.choice(CITIES[city][1])
        born = date(YEAR - 2, 1, 1) - timedelta(days=rng.randint(0, 8 * 365))
        conn.execute(
            "INSERT INTO hunde (steuernummer, nachname, vorname, strasse, plz, ort, hundename,"
            " rasse, wurfdatum, haltung_seit, angelegt, angelegt_von)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (next_steuernummer(conn, plz), rng.choice(NACHNAMEN), rng.choice(VORNAMEN),
             f"{rng.choice(STRASSEN[city])} {rng.randint(1, 90)}", plz, city,
             rng.choice(HUNDENAMEN), rng.choice(HAEUFIGE_RASSEN), born.strftime("%d.%m.%Y"),
             (born + timedelta(days=70)).strftime("%d.%m.%Y"), f"{YEAR - 1}-06-01 09:00:00",
             "schulung"),
        )  # fmt: skip
    return count
