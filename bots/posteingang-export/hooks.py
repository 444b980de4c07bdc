"""Hooks of ``posteingang-export``: the extracted table rows as a CSV file.

The file goes into the run directory, so it is kept (and deleted) with the run's other
artifacts. Semicolons and a UTF-8 byte order mark: Excel in German settings opens it directly.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestrator.engine.context import RunContext

#: The Posteingang's columns, in this order; further columns follow after them.
COLUMNS = ("Nummer", "Leistung", "Antragsteller", "Betrieb", "Ort", "Eingang", "Status")


def write_csv(
    ctx: RunContext, rows: list[dict[str, Any]], filename: str = "posteingang.csv"
) -> str:
    """Write rows (column header -> cell text) to ``ctx.run_dir / filename``.

    Args:
        ctx: The run context; ``ctx.run_dir`` is the run's directory.
        rows: Table rows as ``extract ... get: table`` gives them.
        filename: A plain file name (no directories).

    Returns:
        The path of the written file.

    Example: ``write_csv(ctx, [{"Nummer": "GA-2026-000123", "Status": "Neu"}])``.
    """
    if Path(filename).name != filename or not filename:
        raise ValueError(f"Dateiname „{filename}“ darf kein Verzeichnis enthalten.")
    extra = [key for row in rows for key in row if key not in COLUMNS]
    header = list(COLUMNS) + list(dict.fromkeys(extra))
    path = Path(ctx.run_dir) / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, delimiter=";", restval="")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: str(value).strip() for key, value in row.items()})
    ctx.artifact(path)  # hashed and listed by `bots show` with the run's other files
    return str(path)
