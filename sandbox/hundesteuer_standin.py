"""The Hundesteuer register as a stand-in of the sandbox: its server (:mod:`sandbox.hundesteuer`),
table, seed and state. Its user interface is a desktop application, the GTK client
:mod:`sandbox.hundesteuer_client` (``hundesteuer-client --server URL``), which a bot starts
on its run's desktop as a clerk starts a Fachverfahren's client.

Registered as the entry point ``hundesteuer`` of ``kommune_bots.standins`` (pyproject.toml).

Example::

    with connect(sandbox_dir) as conn:
        hundesteuer_state(conn)["hundesteuer_duplicates"]   # [] when nothing was entered twice
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sandbox import hundesteuer
from sandbox.hunde_story import seed_register
from sandbox.standins import StandIn


class HundesteuerSettings(BaseModel):
    """The register's own settings (``sandbox.standins.hundesteuer``)."""

    model_config = ConfigDict(extra="forbid")

    save_ms: int = Field(
        700, ge=0, description="How long saving a dog takes (the client shows 'Bitte warten')."
    )


def hundesteuer_state(conn: sqlite3.Connection) -> dict[str, Any]:
    """``hundesteuer_register`` (every dog with its Steuernummer, Bezugszeichen, owner,
    breed, dates, flags, who entered it) and ``hundesteuer_duplicates`` (Bezugszeichen
    entered more than once)."""
    rows = conn.execute("SELECT * FROM hunde ORDER BY id").fetchall()
    register = [
        {key: row[key] for key in row.keys() if key != "id"}
        | {"zweithund": bool(row["zweithund"]), "ermaessigung": bool(row["ermaessigung"])}
        for row in rows
    ]
    counts = Counter(row["bezugszeichen"] for row in rows if row["bezugszeichen"])
    return {
        "hundesteuer_register": register,
        "hundesteuer_duplicates": sorted(ref for ref, n in counts.items() if n > 1),
    }


def hundesteuer_lines(state: dict[str, Any]) -> list[str]:
    """The register's part of ``bots sandbox state``."""
    lines = ["Hundesteuer-Register – Hunde aus Civento:"]
    lines += [
        f"  {dog['steuernummer']}  {dog['bezugszeichen']}  {dog['nachname']}, "
        f"{dog['vorname']}: {dog['hundename']} ({dog['rasse']})"
        for dog in state["hundesteuer_register"]
        if dog["bezugszeichen"]
    ] or ["  (keine)"]
    if state["hundesteuer_duplicates"]:
        lines.append("  DOPPELT: " + ", ".join(state["hundesteuer_duplicates"]))
    return lines


STANDIN = StandIn(
    name="hundesteuer",
    title="Hundesteuer-Register (Desktop-Anwendung)",
    router=hundesteuer.router,
    schema=hundesteuer.SCHEMA,
    tables=("hunde",),
    seed=seed_register,
    seed_unit="Hunde",
    after=("civento",),
    state=hundesteuer_state,
    state_lines=hundesteuer_lines,
    settings=HundesteuerSettings,
)
