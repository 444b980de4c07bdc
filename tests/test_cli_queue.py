"""`bots queue`: what an operator and a clerk do with work queues, through the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import update
from typer.testing import CliRunner, Result

from cli import app
from orchestrator.settings import load_settings
from orchestrator.store import RunStore, open_store
from orchestrator.store.tables import utc_now
from orchestrator.store.work.tables import WORK_ITEMS

TENANT = "default"
SCHEMA = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string", "maxLength": 40}},
}


def bots(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run ``bots ARGS`` in this process; no exception may escape (no traceback)."""
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def ok(*args: str) -> Result:
    result = bots(*args)
    assert result.exit_code == 0, result.output
    return result


def as_json(*args: str) -> Any:
    return json.loads(ok(*args, "--json").stdout)


@pytest.fixture
def store() -> Iterator[RunStore]:
    """The store the commands use (the test's own data directory)."""
    with open_store(load_settings().database) as opened:
        yield opened


@pytest.fixture
def schema_file(tmp_path: Path) -> Path:
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(SCHEMA), encoding="utf-8")
    return path


def take(store: RunStore, queue: str = "gewerbe") -> int:
    """A robot takes the next item; returns its id."""
    item = store.queues.claim_item(TENANT, queue, holder="robot-1", lease_s=60)
    assert item is not None
    return item.id


def test_create_then_show_and_list_give_the_policy_and_counts(schema_file: Path) -> None:
    created = ok(
        "queue", "create", "gewerbe", "--max-attempts", "4", "--retry-delay", "30",
        "--sla", "3d", "--schema", str(schema_file), "--retention-days", "90",
    )  # fmt: skip
    assert "work queue gewerbe created" in created.stdout
    assert "sla:         3d" in created.stdout
    shown = as_json("queue", "show", "gewerbe")
    assert shown["name"] == "gewerbe"
    assert (shown["max_attempts"], shown["retry_delay_s"], shown["sla_s"]) == (4, 30.0, 259200.0)
    assert (shown["retention_days"], shown["schema"]) == (90, SCHEMA)
    assert shown["approval_required"] is False
    ok("queue", "add", "gewerbe", "--reference", "GA-1", "--payload", '{"name": "Müller"}')
    (listed,) = as_json("queue", "list")
    assert listed["counts"]["new"] == 1
    assert set(listed["counts"]) >= {"new", "done", "needs_human", "awaiting_approval"}
    assert "1 item " in ok("queue", "list").stdout


def test_create_twice_is_refused_and_update_keeps_what_was_not_given() -> None:
    ok("queue", "create", "gewerbe", "--max-attempts", "5", "--sla", "2h")
    again = bots("queue", "create", "gewerbe")
    assert again.exit_code == 2
    assert "already" in again.stderr
    ok("queue", "create", "gewerbe", "--update", "--retention-days", "30")
    shown = as_json("queue", "show", "gewerbe")
    assert (shown["max_attempts"], shown["sla_s"], shown["retention_days"]) == (5, 7200.0, 30)
    ok("queue", "create", "gewerbe", "--update", "--sla", "none")
    assert as_json("queue", "show", "gewerbe")["sla_s"] is None


def test_adding_a_known_reference_again_is_a_no_op_that_names_the_item() -> None:
    ok("queue", "create", "gewerbe")
    first = ok("queue", "add", "gewerbe", "--reference", "GA-7", "--payload", '{"name": "A"}')
    assert "created  item 1  GA-7" in first.stdout
    second = ok("queue", "add", "gewerbe", "--reference", "GA-7", "--payload", '{"name": "B"}')
    assert "known    item 1  GA-7" in second.stdout
    assert "not added again" in second.stdout
    (item,) = as_json("queue", "items", "gewerbe")
    assert item["payload"] == {"name": "A"}


def test_a_csv_with_one_bad_row_adds_nothing_and_names_row_and_field(
    tmp_path: Path, schema_file: Path
) -> None:
    ok("queue", "create", "gewerbe", "--schema", str(schema_file))
    cases = tmp_path / "cases.csv"
    # Excel's "CSV UTF-8": a BOM and semicolons; row 3 lacks the name the schema requires.
    cases.write_bytes("Nummer;name;ort\nGA-1;Müller;Gießen\nGA-2;;Wetzlar\n".encode("utf-8-sig"))
    refused = bots("queue", "add", "gewerbe", "--from", str(cases))
    assert refused.exit_code == 2
    assert "nothing was added" in refused.stderr
    assert "row 3" in refused.stderr and "'name'" in refused.stderr
    assert "row 2" not in refused.stderr
    assert as_json("queue", "items", "gewerbe") == []

    cases.write_bytes("Nummer;name;ort\nGA-1;Müller;Gießen\nGA-2;Weber;Wetzlar\n".encode())
    added = ok("queue", "add", "gewerbe", "--from", str(cases))
    assert "2 created, 0 known already" in added.stdout
    items = as_json("queue", "items", "gewerbe")
    assert [item["reference"] for item in items] == ["GA-1", "GA-2"]
    assert items[0]["payload"] == {"Nummer": "GA-1", "name": "Müller", "ort": "Gießen"}


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("name,ort\nMüller,Gießen\n", "no reference column 'reference' or 'Nummer'"),
        ("reference,name\nGA-1,A\n,B\n", "row 3: the reference ('reference') is empty"),
        ("reference,name\nGA-1,A\nGA-1,B\n", "row 3: reference 'GA-1' repeats row 2"),
    ],
)
def test_a_csv_without_usable_references_is_refused(
    tmp_path: Path, content: str, needle: str
) -> None:
    ok("queue", "create", "gewerbe")
    cases = tmp_path / "cases.csv"
    cases.write_text(content, encoding="utf-8")
    refused = bots("queue", "add", "gewerbe", "--from", str(cases))
    assert refused.exit_code == 2
    assert needle in refused.stderr
    assert as_json("queue", "items", "gewerbe") == []


def test_xlsx_and_json_files_become_items(tmp_path: Path) -> None:
    ok("queue", "create", "gewerbe")
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Aktenzeichen", "name", "betrag"])
    sheet.append([4711, "Müller GmbH", 12.5])
    sheet.append(["GA-2", "Weber", None])
    workbook.save(tmp_path / "cases.xlsx")
    added = as_json(
        "queue", "add", "gewerbe", "--from", str(tmp_path / "cases.xlsx"),
        "--reference-column", "Aktenzeichen", "--priority", "5",
    )  # fmt: skip
    assert (added["created"], added["known"]) == (2, 0)
    first, second = added["items"]
    assert (first["row"], first["reference"], first["priority"]) == ("row 2", "4711", 5)
    assert first["payload"] == {"Aktenzeichen": 4711, "name": "Müller GmbH", "betrag": 12.5}
    assert second["payload"] == {"Aktenzeichen": "GA-2", "name": "Weber"}

    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps([{"Aktenzeichen": "GA-2"}, {"Aktenzeichen": "GA-3"}]), "utf-8")
    again = ok(
        "queue", "add", "gewerbe", "--from", str(cases), "--reference-column", "Aktenzeichen"
    )
    assert "known    item 2  GA-2" in again.stdout
    assert "1 created, 1 known already" in again.stdout


def test_items_by_status_and_a_clerk_resolving_them(store: RunStore) -> None:
    ok("queue", "create", "gewerbe")
    for reference in ("GA-1", "GA-2", "GA-3", "GA-4"):
        ok("queue", "add", "gewerbe", "--reference", reference, "--payload", "{}")
    for _ in range(3):
        store.queues.fail_item(
            take(store), holder="robot-1", kind="business", message="Rechtsform unbekannt"
        )
    waiting = as_json("queue", "items", "gewerbe", "--status", "needs_human")
    assert [item["reference"] for item in waiting] == ["GA-1", "GA-2", "GA-3"]
    assert waiting[0]["last_error"] == "Rechtsform unbekannt"
    both = as_json("queue", "items", "gewerbe", "--status", "needs_human", "--status", "new")
    assert len(both) == 4
    assert "[business: Rechtsform unbekannt]" in ok("queue", "items", "gewerbe").stdout

    assert "is new" in ok("queue", "resolve", "1", "--retry", "--comment", "korrigiert").stdout
    assert "is done" in ok("queue", "resolve", "2", "--done", "--comment", "von Hand").stdout
    ok("queue", "resolve", "3", "--abandon", "--comment", "zurückgezogen")
    statuses = {item["reference"]: item["status"] for item in as_json("queue", "items", "gewerbe")}
    assert statuses == {"GA-1": "new", "GA-2": "done", "GA-3": "abandoned", "GA-4": "new"}

    neither = bots("queue", "resolve", "4", "--comment", "x")
    assert neither.exit_code == 2 and "exactly one of" in neither.stderr
    not_allowed = bots("queue", "resolve", "4", "--done", "--comment", "x")
    assert not_allowed.exit_code == 2 and "cannot become done" in not_allowed.stderr
    bad_status = bots("queue", "items", "gewerbe", "--status", "erledigt")
    assert bad_status.exit_code == 2


def test_retry_gives_a_failed_item_its_attempts_again_and_item_shows_its_history(
    store: RunStore,
) -> None:
    ok("queue", "create", "gewerbe", "--max-attempts", "1")
    ok("queue", "add", "gewerbe", "--reference", "GA-1", "--payload", '{"name": "A"}')
    failed = store.queues.fail_item(
        take(store), holder="robot-1", kind="application", message="Zeitüberschreitung",
        evidence=["runs/7/failure.png"],
    )  # fmt: skip
    assert failed.status == "failed"
    item = as_json("queue", "item", str(failed.id))
    assert (item["status"], item["attempts"], item["last_error_kind"]) == (
        "failed",
        1,
        "application",
    )
    shown = ok("queue", "item", str(failed.id)).stdout
    assert "last error: application: Zeitüberschreitung" in shown
    assert "evidence:   runs/7/failure.png" in shown

    retried = ok("queue", "retry", str(failed.id), "--comment", "Register wieder erreichbar")
    assert "is new again" in retried.stdout
    item = as_json("queue", "item", str(failed.id))
    assert (item["status"], item["attempts"], item["last_error"]) == ("new", 0, None)
    again = bots("queue", "retry", str(failed.id))
    assert again.exit_code == 2 and "cannot become new" in again.stderr
    missing = bots("queue", "item", "999")
    assert missing.exit_code == 2 and "999" in missing.stderr


def test_approval_needs_a_second_person(store: RunStore) -> None:
    ok("queue", "create", "eakte", "--approval", "required")
    ok("queue", "add", "eakte", "--reference", "GA-1", "--payload", "{}")
    (mine,) = as_json("queue", "items", "eakte", "--status", "awaiting_approval")
    refused = bots("queue", "approve", str(mine["id"]))
    assert refused.exit_code == 2
    assert "second person" in refused.stderr
    assert as_json("queue", "item", str(mine["id"]))["status"] == "awaiting_approval"

    theirs = store.queues.add_item(TENANT, "eakte", "GA-2", {}, actor="user:clerk@rathaus")
    approved = ok("queue", "approve", str(theirs.item.id), "--comment", "geprüft")
    assert "approved by user:" in approved.stdout
    item = as_json("queue", "item", str(theirs.item.id))
    assert item["status"] == "new"
    assert item["approved_by"] not in (None, "user:clerk@rathaus")


def test_purge_dry_run_names_items_past_retention_and_purge_keeps_the_reference(
    store: RunStore,
) -> None:
    ok("queue", "create", "gewerbe", "--retention-days", "30")
    for reference in ("GA-1", "GA-2"):
        ok("queue", "add", "gewerbe", "--reference", reference, "--payload", '{"name": "A"}')
    done = store.queues.complete_item(take(store), holder="robot-1", output={"eintrag": "GR-1"})
    with store.transactions.write() as connection:  # it ended 40 days ago
        connection.execute(
            update(WORK_ITEMS)
            .where(WORK_ITEMS.c.id == done.id)
            .values(updated_at=utc_now() - timedelta(days=40))
        )
    dry = ok("queue", "purge", "--dry-run")
    assert f"would purge the payloads of 1 items: {done.id}" in dry.stdout
    assert as_json("queue", "item", str(done.id))["payload"] == {"name": "A"}

    assert f"purged the payloads of 1 items: {done.id}" in ok("queue", "purge").stdout
    item = as_json("queue", "item", str(done.id))
    assert (item["payload"], item["output"], item["status"]) == (None, None, "done")
    assert "(purged " in ok("queue", "item", str(done.id)).stdout
    again = ok("queue", "add", "gewerbe", "--reference", "GA-1", "--payload", '{"name": "A"}')
    assert f"known    item {done.id}  GA-1" in again.stdout
    assert "no payloads are past their retention" in ok("queue", "purge", "--dry-run").stdout


def test_sync_creates_and_changes_the_queues_the_configuration_declares(
    tmp_path: Path, schema_file: Path
) -> None:
    config = tmp_path / "bots.yaml"
    declared = """
tenant: giessen
queues:
  gewerbe:
    max_attempts: {attempts}
    sla: 36h
    schema_file: schema.json
    next_on_success: eakte
  eakte:
    approval: required
"""
    config.write_text(declared.format(attempts=3), encoding="utf-8")
    env = {"BOTS_CONFIG": str(config)}
    first = bots("queue", "sync", env=env)
    assert first.exit_code == 0, first.output
    assert "gewerbe                  created" in first.stdout
    listed = json.loads(bots("queue", "list", "--json", env=env).stdout)
    by_name = {queue["name"]: queue for queue in listed}
    assert by_name["gewerbe"]["next_on_success"] == "eakte"
    assert (by_name["gewerbe"]["sla_s"], by_name["gewerbe"]["schema"]) == (129600.0, SCHEMA)
    assert by_name["eakte"]["approval_required"] is True
    assert "unchanged" in bots("queue", "sync", env=env).stdout

    config.write_text(declared.format(attempts=5), encoding="utf-8")
    changed = bots("queue", "sync", env=env)
    assert "gewerbe                  changed (max_attempts)" in changed.stdout
    assert "eakte                    unchanged" in changed.stdout

    config.write_text(declared.format(attempts=5).replace("eakte\n", "nirgends\n", 1), "utf-8")
    refused = bots("queue", "sync", env=env)
    assert refused.exit_code == 2 and "nirgends" in refused.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["queue", "create", "q", "--sla", "drei Tage"], "no duration"),
        (["queue", "create", "q", "--schema", "/nonexistent.json"], "/nonexistent.json"),
        (["queue", "create", "q", "--max-attempts", "0"], "max_attempts"),
        (["queue", "show", "nirgends"], "nirgends"),
        (["queue", "add", "gewerbe", "--reference", "GA-1", "--payload", "{name"], "not JSON"),
        (["queue", "add", "gewerbe", "--reference", "GA-1", "--payload", "[1]"], "JSON object"),
        (["queue", "add", "gewerbe", "--reference", "GA-1"], "--payload"),
        (["queue", "add", "gewerbe", "--from", "cases.txt"], ".csv, .xlsx or .json"),
        (["queue", "add", "nirgends", "--reference", "GA-1", "--payload", "{}"], "nirgends"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_writes_nothing(args: list[str], needle: str) -> None:
    ok("queue", "create", "gewerbe")
    result = bots(*args)
    assert result.exit_code == 2, result.output
    assert needle in result.stderr
    (queue,) = as_json("queue", "list")
    assert sum(queue["counts"].values()) == 0
