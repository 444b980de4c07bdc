"""Key figures per bot and month as Open Data: CSV or JSON a city can publish unchanged.

The library twin of ``bots report kpis``. One row per bot that ran in the month: runs,
success rate, cases worked on and how they ended, staff hours saved. Only counts and the
bots' own names: no case reference, no case data, no person (no user, no robot host).

The form follows what German municipal portals (GovData, DCAT-AP.de) expect: UTF-8, comma,
one header row of lowercase ASCII ``snake_case`` column names with the unit in the name,
ISO 8601 months and dates, numbers with a decimal point and no thousands separator, an empty
cell where a value is unknown; the licence is *Datenlizenz Deutschland – Zero – Version 2.0*
(:data:`LICENCE`), named by its DCAT-AP.de URI. JSON carries the metadata (title, licence,
period, columns with descriptions) beside the rows; a CSV file gets it as a W3C CSVW
``<file>-metadata.json`` beside it. Example::

    table = gather_kpis(store, settings, "giessen", parse_month("2026-03"))
    Path("kpis.csv").write_text(kpis_csv(table), encoding="utf-8")
    Path("kpis.csv-metadata.json").write_text(csvw_metadata(table, "kpis.csv"))
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from orchestrator.errors import InputError
from orchestrator.reports.catalog import CATALOG
from orchestrator.reports.period_facts import BotLine, gather_period_report
from orchestrator.settings import Settings
from orchestrator.store import RunStore

LICENCE = {
    "id": "dl-zero-de/2.0",
    "title": "Datenlizenz Deutschland – Zero – Version 2.0",
    "uri": "http://dcat-ap.de/def/licenses/dl-zero-de/2.0",
    "url": "https://www.govdata.de/dl-de/zero-2-0",
}
#: EU vocabularies DCAT-AP.de uses: data theme "government and public sector", language.
THEME = "http://publications.europa.eu/resource/authority/data-theme/GOVE"
LANGUAGE = "http://publications.europa.eu/resource/authority/language/DEU"
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Column:
    """A column: its name, CSVW datatype, German description and unit (if any)."""

    name: str
    datatype: str
    description: str
    unit: str | None = None


COLUMNS = (
    Column("monat", "gYearMonth", "Berichtsmonat (ISO 8601, JJJJ-MM)"),
    Column("kommune", "string", "Mandant (Kommune) der Installation"),
    Column("fachamt", "string", "Fachamt, für das der Bot arbeitet (laut Bot-Definition)"),
    Column("bot", "string", "Kennung des Bots"),
    Column("bot_name", "string", "Name des Bots"),
    Column("laeufe", "integer", "Läufe des Bots, die im Monat begonnen haben"),
    Column("laeufe_erfolgreich", "integer", "Davon erfolgreich beendete Läufe"),
    Column(
        "erfolgsquote_prozent",
        "decimal",
        "Erfolgreiche Läufe unter den von selbst beendeten Läufen (ohne abgebrochene), in %",
        "%",
    ),
    Column(
        "faelle_bearbeitet",
        "integer",
        "Bearbeitungen von Vorgängen durch diese Läufe (ein wiederholter Vorgang zählt je Lauf)",
    ),
    Column("faelle_erledigt", "integer", "Davon vom Bot erledigt"),
    Column("faelle_an_person", "integer", "Davon an eine Person übergeben (fachliche Prüfung)"),
    Column("faelle_fehlgeschlagen", "integer", "Davon nach allen Versuchen fehlgeschlagen"),
    Column(
        "minuten_je_fall_manuell",
        "decimal",
        "Minuten, die ein Vorgang von Hand dauert (laut Bot-Definition)",
        "min",
    ),
    Column(
        "eingesparte_arbeitsstunden",
        "decimal",
        "Geschätzte eingesparte Arbeitszeit: erledigte Vorgänge × Minuten je Vorgang / 60",
        "h",
    ),
)


@dataclass(frozen=True)
class KpiTable:
    """The key figures of one tenant and month: ``rows`` map the :data:`COLUMNS` names to
    values (None: unknown)."""

    tenant: str
    month: date
    issued: date
    rows: tuple[dict[str, Any], ...]

    @property
    def last_day(self) -> date:
        return _next_month(self.month) - timedelta(days=1)

    @property
    def title(self) -> str:
        return f"Kennzahlen der Software-Roboter (RPA), {self.tenant}, {self.month:%Y-%m}"

    @property
    def description(self) -> str:
        return (
            "Läufe, bearbeitete Vorgänge und geschätzte eingesparte Arbeitszeit je Bot und "
            "Monat. Nur Zählwerte: keine Vorgangsdaten, keine Aktenzeichen, keine Angaben "
            "zu Personen."
        )


def parse_month(value: str) -> date:
    """``2026-03`` -> the month's first day.

    Raises:
        InputError: not a month in ISO 8601 form.
    """
    match = _MONTH.match(value.strip())
    if match is None:
        raise InputError(f"--month {value!r} is no month: write it as YYYY-MM, e.g. 2026-03")
    return date(int(match.group(1)), int(match.group(2)), 1)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def gather_kpis(
    store: RunStore,
    settings: Settings,
    tenant: str,
    month: date,
    *,
    now: datetime | None = None,
    catalog: Path = CATALOG,
) -> KpiTable:
    """The key figures of ``tenant``'s bots in ``month`` (its first day)."""
    last = _next_month(month) - timedelta(days=1)
    report = gather_period_report(store, settings, tenant, month, last, now=now, catalog=catalog)
    rows = tuple(_row(month, tenant, line) for line in report.bots)
    issued = (now or datetime.now(UTC)).date()
    return KpiTable(tenant, month, issued, rows)


def _row(month: date, tenant: str, line: BotLine) -> dict[str, Any]:
    profile = line.profile
    rate = None if line.success_rate is None else round(line.success_rate * 100, 1)
    hours = None if line.hours_saved is None else round(line.hours_saved, 1)
    return {
        "monat": f"{month:%Y-%m}",
        "kommune": tenant,
        "fachamt": profile.fachamt,
        "bot": profile.id,
        "bot_name": profile.name,
        "laeufe": line.runs,
        "laeufe_erfolgreich": line.runs_succeeded,
        "erfolgsquote_prozent": rate,
        "faelle_bearbeitet": sum(line.cases.values()),
        "faelle_erledigt": line.cases["done"],
        "faelle_an_person": line.cases["needs_human"],
        "faelle_fehlgeschlagen": line.cases["failed"],
        "minuten_je_fall_manuell": profile.manual_minutes_per_case,
        "eingesparte_arbeitsstunden": hours,
    }


def kpis_csv(table: KpiTable) -> str:
    """The rows as CSV: UTF-8 text, comma, a header row, ``\\r\\n`` line ends (RFC 4180)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.name for column in COLUMNS])
    for row in table.rows:
        writer.writerow(["" if row[c.name] is None else row[c.name] for c in COLUMNS])
    return buffer.getvalue()


def kpis_json(table: KpiTable) -> str:
    """Metadata (DCAT-AP.de terms) and rows as one JSON document."""
    document = {
        **_metadata(table),
        "columns": [_column_json(column) for column in COLUMNS],
        "rows": list(table.rows),
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def csvw_metadata(table: KpiTable, csv_name: str) -> str:
    """The W3C CSVW metadata of the CSV file ``csv_name`` (to store as
    ``<csv_name>-metadata.json`` beside it, where CSVW tools look for it)."""
    meta = _metadata(table)
    document = {
        "@context": "http://www.w3.org/ns/csvw",
        "url": csv_name,
        "dc:title": meta["title"],
        "dc:description": meta["description"],
        "dc:publisher": meta["publisher"],
        "dc:issued": meta["issued"],
        "dc:temporal": f"{meta['temporal']['start_date']}/{meta['temporal']['end_date']}",
        "dc:license": {"@id": LICENCE["uri"]},
        "dcat:theme": {"@id": THEME},
        "dc:language": {"@id": LANGUAGE},
        "dialect": {"delimiter": ",", "encoding": "utf-8", "header": True},
        "tableSchema": {
            "columns": [
                {
                    "name": column.name,
                    "titles": column.name,
                    "datatype": column.datatype,
                    "dc:description": column.description,
                    **({"schema:unitText": column.unit} if column.unit else {}),
                }
                for column in COLUMNS
            ],
            "primaryKey": ["monat", "kommune", "bot"],
        },
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _metadata(table: KpiTable) -> dict[str, Any]:
    return {
        "title": table.title,
        "description": table.description,
        "publisher": table.tenant,
        "issued": table.issued.isoformat(),
        "temporal": {"start_date": table.month.isoformat(), "end_date": table.last_day.isoformat()},
        "license": LICENCE,
        "theme": [THEME],
        "language": [LANGUAGE],
    }


def _column_json(column: Column) -> dict[str, Any]:
    described = {"name": column.name, "datatype": column.datatype}
    described["description"] = column.description
    if column.unit:
        described["unit"] = column.unit
    return described
