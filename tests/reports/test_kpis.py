"""The key figures as Open Data (``bots report kpis``): counts per bot and month, in CSV and
JSON with licence metadata, and nothing of any case: no reference, no payload value, no
output, no error text, no person.

Cases of the example bot ``gewerbe-uebertragung`` (6 manual minutes per case) are worked on
through the store, as its robot would, by runs at the end of March and the start of April
2026 (local time), with names, addresses and bank data in their payloads.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from typer.testing import CliRunner, Result

from cli import app
from orchestrator.reports.kpis import (
    COLUMNS,
    LICENCE,
    KpiTable,
    gather_kpis,
    kpis_csv,
    kpis_json,
    parse_month,
)
from orchestrator.results import RunStatus
from orchestrator.settings import Settings, load_settings
from orchestrator.store import RunRequest, RunStore, open_store
from orchestrator.store.runs.tables import RUNS

BOT = "gewerbe-uebertragung"
TENANT = "giessen"
QUEUE = "gewerbeanmeldungen"
HOLDER = "rpa-giessen-01#5be0"
PAYLOADS = {
    "GA-2026-0815": {"name": "Erika Mustermann", "strasse": "Marktplatz 1", "plz": "35390"},
    "GA-2026-0816": {"name": "Kemal Yılmaz", "iban": "DE02120300000000202051"},
    "GA-2026-0817": {"name": "Zofia Nowak", "betrieb": {"firma": "Nowak Bau GmbH"}},
    "GA-2026-0818": {"name": "Hans Becker", "geburtsdatum": "1970-01-01"},
    "GA-2026-0901": {"name": "Lena Schäfer", "ort": "Gießen-Wieseck"},
}


@pytest.fixture
def settings() -> Settings:
    return load_settings()


@pytest.fixture
def store(settings: Settings) -> Iterator[RunStore]:
    with open_store(settings.database) as opened:
        yield opened


def _run(store: RunStore, started: datetime) -> int:
    request = RunRequest(
        tenant=TENANT, bot_id=BOT, bot_version="1.2.0", bot_digest="0" * 64, parameters={},
        trigger="cli", actor="user:anna@rathaus", max_parallel=0,
    )  # fmt: skip
    run_id = store.start_standalone(request, holder=HOLDER, lease_s=60, pool_limits={})
    with store.transactions.write() as connection:
        connection.execute(update(RUNS).where(RUNS.c.id == run_id).values(started_at=started))
    return run_id


def _finish(store: RunStore, run_id: int, status: RunStatus, error: str | None = None) -> None:
    store.finish_run(run_id, status, error, holder=HOLDER)


@pytest.fixture
def march(store: RunStore) -> None:
    """Two runs in March (one at 23:30 on the 31st, local time), one just after midnight."""
    queues = store.queues
    queues.create_queue(TENANT, QUEUE, max_attempts=1, actor="user:anna@rathaus")
    for reference, payload in PAYLOADS.items():
        queues.add_item(TENANT, QUEUE, reference, payload, actor="user:anna@rathaus")
    first = _run(store, datetime(2026, 3, 30, 8, tzinfo=UTC))
    last_of_march = _run(store, datetime(2026, 3, 31, 21, 30, tzinfo=UTC))
    april = _run(store, datetime(2026, 3, 31, 22, 30, tzinfo=UTC))

    def take(run_id: int) -> int:
        item = queues.claim_item(TENANT, QUEUE, holder=HOLDER, lease_s=60, run_id=run_id)
        assert item is not None
        return item.id

    for _ in range(2):
        done = take(first)
        queues.complete_item(
            done, holder=HOLDER, output={"aktenzeichen": f"GR-{done}"}, run_id=first
        )
    person = take(first)
    queues.fail_item(
        person, holder=HOLDER, kind="business", run_id=first,
        message="Name „Zofia Nowak“ im Gewerberegister nicht eindeutig",
    )  # fmt: skip
    failed = take(last_of_march)
    queues.fail_item(
        failed, holder=HOLDER, kind="application", run_id=last_of_march,
        message="GA-2026-0818: Gewerberegister antwortet nicht",
    )  # fmt: skip
    in_april = take(april)
    queues.complete_item(in_april, holder=HOLDER, output={"aktenzeichen": "GR-9"}, run_id=april)
    _finish(store, first, RunStatus.SUCCEEDED)
    _finish(store, last_of_march, RunStatus.FAILED, "Anmeldung als Erika Mustermann gescheitert")
    _finish(store, april, RunStatus.SUCCEEDED)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _kpis(store: RunStore, settings: Settings, month: str = "2026-03") -> KpiTable:
    return gather_kpis(store, settings, TENANT, parse_month(month), now=datetime.now(UTC))


@pytest.mark.usefixtures("march")
def test_the_figures_of_a_month_per_bot(store: RunStore, settings: Settings) -> None:
    (row,) = _rows(kpis_csv(_kpis(store, settings)))

    assert row == {
        "monat": "2026-03",
        "kommune": TENANT,
        "fachamt": "Ordnungsamt",
        "bot": BOT,
        "bot_name": "Gewerbeanmeldungen übertragen",
        "laeufe": "2",
        "laeufe_erfolgreich": "1",
        "erfolgsquote_prozent": "50.0",
        "faelle_bearbeitet": "4",
        "faelle_erledigt": "2",
        "faelle_an_person": "1",
        "faelle_fehlgeschlagen": "1",
        "minuten_je_fall_manuell": "6.0",
        "eingesparte_arbeitsstunden": "0.2",  # 2 cases x 6 minutes
    }
    (april,) = _rows(kpis_csv(_kpis(store, settings, "2026-04")))
    assert (april["laeufe"], april["faelle_erledigt"]) == ("1", "1")
    assert _rows(kpis_csv(_kpis(store, settings, "2026-02"))) == []


def _values(data: Any) -> Iterator[str]:
    """Every scalar in a payload or output, nested ones too, as text."""
    if isinstance(data, dict):
        for value in data.values():
            yield from _values(value)
    elif isinstance(data, list):
        for value in data:
            yield from _values(value)
    elif data is not None:
        yield str(data)


def _cells(table: KpiTable) -> list[str]:
    from_csv = [cell for row in csv.reader(io.StringIO(kpis_csv(table))) for cell in row]
    document = json.loads(kpis_json(table))
    return [*from_csv, *_values(document["rows"])]


def test_no_reference_or_case_data_in_any_cell(
    store: RunStore, settings: Settings, march: None
) -> None:
    items = store.queues.list_items(TENANT, QUEUE, limit=1000)
    secrets = {item.reference for item in items}
    for item in items:
        secrets |= set(_values(item.payload)) | set(_values(item.output))
        secrets |= {item.last_error} if item.last_error else set()
    secrets |= {"anna", "Erika Mustermann", HOLDER, "rpa-giessen-01"}
    assert len(secrets) > 20

    for month in ("2026-03", "2026-04"):
        cells = _cells(_kpis(store, settings, month))
        leaked = {secret for secret in secrets for cell in cells if secret in cell}
        assert not leaked, f"{month}: {leaked}"


@pytest.mark.usefixtures("march")
def test_json_carries_licence_period_and_described_columns(
    store: RunStore, settings: Settings
) -> None:
    table = _kpis(store, settings)
    document = json.loads(kpis_json(table))

    assert document["license"]["uri"] == "http://dcat-ap.de/def/licenses/dl-zero-de/2.0"
    assert document["temporal"] == {"start_date": "2026-03-01", "end_date": "2026-03-31"}
    assert [c["name"] for c in document["columns"]] == [c.name for c in COLUMNS]
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", c["name"]) for c in document["columns"])
    assert all(c["description"] for c in document["columns"])
    assert document["rows"][0]["erfolgsquote_prozent"] == 50.0
    assert set(document["rows"][0]) == {c.name for c in COLUMNS}


# --------------------------------------------------------------------------- the command


def bots(*args: str) -> Result:
    result = CliRunner().invoke(app, ["report", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.mark.usefixtures("march")
def test_the_command_writes_csv_with_its_csvw_metadata(tmp_path: Path) -> None:
    target = tmp_path / "offene-daten" / "kpis.csv"

    result = bots("kpis", "--tenant", TENANT, "--month", "2026-03", "-o", str(target))

    assert result.exit_code == 0, result.stderr
    metadata = target.with_name("kpis.csv-metadata.json")
    assert result.stdout.split() == [str(target), str(metadata)]
    assert _rows(target.read_text(encoding="utf-8"))[0]["laeufe"] == "2"
    csvw = json.loads(metadata.read_text(encoding="utf-8"))
    assert (csvw["url"], csvw["dc:license"]["@id"]) == ("kpis.csv", LICENCE["uri"])
    assert csvw["tableSchema"]["columns"][0] == {
        "name": "monat",
        "titles": "monat",
        "datatype": "gYearMonth",
        "dc:description": "Berichtsmonat (ISO 8601, JJJJ-MM)",
    }


@pytest.mark.usefixtures("march")
def test_the_command_prints_json() -> None:
    result = bots("kpis", "--tenant", TENANT, "--month", "2026-03", "--format", "json")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["rows"][0]["bot"] == BOT


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2026-13"], "'2026-13' is no month: write it as YYYY-MM"),
        (["--month", "März"], "is no month"),
        (["--month", "2026-03", "--tenant", "atlantis"], "unknown tenant 'atlantis'"),
        (["--month", "2026-03", "--format", "xml"], "'xml' is not one of"),
    ],
)
def test_the_command_refuses_bad_input_with_a_message(args: list[str], message: str) -> None:
    result = bots("kpis", *args)

    assert result.exit_code == 2, result.stdout
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_month_is_checked_strictly() -> None:
    assert parse_month("2026-03").isoformat() == "2026-03-01"
    assert (parse_month("2026-12") + timedelta(days=31)).isoformat() == "2027-01-01"
