"""What the two target systems hold, read straight from SQLite (serving or not).

Example::

    state = read_state(settings.sandbox_dir)
    state["vorgaenge_by_status"]   # {"Neu": 12, "In Bearbeitung": 3, ...}
    state["duplicates"]            # [] when nothing was entered twice
    print(format_state(state))
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from sandbox.db import connect, db_path
from sandbox.rules import STATUSES, identity_key


def read_state(sandbox_dir: Path) -> dict[str, Any]:
    """The sandbox's data as a JSON-able dict.

    Keys: ``seeded`` (bool), ``vorgaenge_by_status`` (status -> count),
    ``vorgaenge`` (number, leistung, status, aktenzeichen written back),
    ``register`` (aktenzeichen, betrieb, bezugszeichen, ort, angelegt_von) and ``duplicates``:
    Bezugszeichen or business identities (name + address + Inhaber) entered more than once, each
    ``{"kind": "bezugszeichen" | "betrieb", "value": ..., "aktenzeichen": [...]}``.
    """
    empty: dict[str, Any] = {
        "seeded": False,
        "vorgaenge_by_status": {},
        "vorgaenge": [],
        "register": [],
        "duplicates": [],
    }
    if not db_path(sandbox_dir).exists():
        return empty
    with connect(sandbox_dir) as conn:
        vorgaenge = conn.execute(
            "SELECT nummer, leistung, status, aktenzeichen_fv FROM vorgaenge ORDER BY eingang"
        ).fetchall()
        register = conn.execute("SELECT * FROM register ORDER BY id").fetchall()
    by_status = dict.fromkeys(STATUSES, 0)
    for row in vorgaenge:
        by_status[row["status"]] = by_status.get(row["status"], 0) + 1
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
        "seeded": bool(vorgaenge),
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


def format_state(state: dict[str, Any]) -> str:
    """The state as a few readable lines (German, as the sandbox's UI)."""
    if not state["seeded"]:
        return "Sandbox ist leer: `bots sandbox seed` legt Beispieldaten an."
    lines = ["Civento – Vorgänge nach Status:"]
    lines += [
        f"  {status:<15} {count:>4}" for status, count in state["vorgaenge_by_status"].items()
    ]
    lines.append("Civento – Gewerbeanmeldungen mit Aktenzeichen des Fachverfahrens:")
    written = [
        v for v in state["vorgaenge"] if v["leistung"] == "Gewerbeanmeldung" and v["aktenzeichen"]
    ]
    lines += [f"  {v['nummer']}  {v['status']:<15} {v['aktenzeichen']}" for v in written]
    lines.append(f"Gewerberegister – {len(state['register'])} Einträge, davon aus Civento:")
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
    return "\n".join(lines)
