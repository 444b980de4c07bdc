"""The Gewerberegister as a stand-in of the sandbox: its pages (:mod:`sandbox.gewerberegister`),
table, seed and state.

Registered as the entry point ``gewerberegister`` of ``kommune_bots.standins`` (pyproject.toml);
it seeds after Civento, whose transferred Vorgänge are its entries.

Example::

    with connect(sandbox_dir) as conn:
        register_state(conn)["duplicates"]   # [] when nothing was entered twice
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from typing import Any

from sandbox import gewerberegister
from sandbox.gewerbe_story import seed_gewerberegister
from sandbox.rules import identity_key
from sandbox.standins import StandIn
from sandbox.web import PACKAGE_DIR

SCHEMA = """
CREATE TABLE IF NOT EXISTS register (
    id INTEGER PRIMARY KEY,
    aktenzeichen TEXT NOT NULL UNIQUE,
    betrieb TEXT NOT NULL,
    rechtsform TEXT NOT NULL,
    inhaber_nachname TEXT NOT NULL,
    inhaber_vorname TEXT NOT NULL,
    strasse TEXT NOT NULL,
    hausnummer TEXT NOT NULL,
    plz TEXT NOT NULL,
    ort TEXT NOT NULL,
    taetigkeit TEXT NOT NULL,
    beginn TEXT NOT NULL,
    bezugszeichen TEXT NOT NULL DEFAULT '',
    angelegt TEXT NOT NULL,
    angelegt_von TEXT NOT NULL
);
"""


def register_state(conn: sqlite3.Connection) -> dict[str, Any]:
    """``register`` (aktenzeichen, betrieb, bezugszeichen, ort, angelegt_von) and
    ``duplicates``: Bezugszeichen or business identities (name + address + Inhaber) entered more
    than once, each ``{"kind": "bezugszeichen" | "betrieb", "value": ..., "aktenzeichen": [...]}``.
    """
    register = conn.execute("SELECT * FROM register ORDER BY id").fetchall()
    by_reference: dict[str, list[str]] = defaultdict(list)
    by_identity: dict[str, list[str]] = defaultdict(list)
    identity_names: dict[str, str] = {}
    for row in register:
        if row["bezugszeichen"]:
            by_reference[row["bezugszeichen"]].append(row["aktenzeichen"])
        key = identity_key(
            row["betrieb"], row["strasse"], row["hausnummer"], row["plz"],
            row["inhaber_nachname"], row["inhaber_vorname"],
        )  # fmt: skip
        by_identity[key].append(row["aktenzeichen"])
        identity_names[key] = f"{row['betrieb']}, {row['strasse']} {row['hausnummer']}"
    duplicates = [
        {"kind": "bezugszeichen", "value": ref, "aktenzeichen": azs}
        for ref, azs in by_reference.items()
        if len(azs) > 1
    ] + [
        {"kind": "betrieb", "value": identity_names[key], "aktenzeichen": azs}
        for key, azs in by_identity.items()
        if len(azs) > 1
    ]
    return {
        "register": [
            {
                "aktenzeichen": row["aktenzeichen"],
                "betrieb": row["betrieb"],
                "bezugszeichen": row["bezugszeichen"] or None,
                "ort": row["ort"],
                "angelegt_von": row["angelegt_von"],
            }
            for row in register
        ],
        "duplicates": duplicates,
    }


def register_lines(state: dict[str, Any]) -> list[str]:
    """The register's part of ``bots sandbox state``."""
    lines = [f"Gewerberegister – {len(state['register'])} Einträge, davon aus Civento:"]
    lines += [
        f"  {e['aktenzeichen']}  {e['bezugszeichen']}  {e['betrieb']}"
        for e in state["register"]
        if e["bezugszeichen"]
    ]
    if state["duplicates"]:
        lines.append("DOPPELTE EINTRÄGE im Gewerberegister:")
        lines += [
            f"  {d['kind']} {d['value']}: {', '.join(d['aktenzeichen'])}"
            for d in state["duplicates"]
        ]
    else:
        lines.append("Keine doppelten Einträge im Gewerberegister.")
    return lines


STANDIN = StandIn(
    name="gewerberegister",
    title="Gewerberegister (Fachverfahren)",
    router=gewerberegister.router,
    static=PACKAGE_DIR / "static",
    schema=SCHEMA,
    tables=("register",),
    seed=seed_gewerberegister,
    seed_unit="Einträge",
    after=("civento",),
    state=register_state,
    state_lines=register_lines,
)
