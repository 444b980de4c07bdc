"""Items and queue schemas read from files (``orchestrator.queue_files``): every row that
is wrong is named, a readable file becomes the items a clerk sees in it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook

from orchestrator.errors import InputError
from orchestrator.queue_files import (
    MAX_PROBLEMS,
    Row,
    declared_policy,
    json_object,
    read_rows,
    read_schema,
)
from orchestrator.settings import QueueSettings


def test_an_excel_csv_with_bom_and_semicolons_becomes_rows_without_empty_cells(
    tmp_path: Path,
) -> None:
    path = tmp_path / "cases.csv"
    path.write_bytes("Nummer;name;ort\nGA-1;Müller;Gießen\nGA-2;Weber;\n".encode("utf-8-sig"))

    assert read_rows(path) == [
        Row("row 2", "GA-1", {"Nummer": "GA-1", "name": "Müller", "ort": "Gießen"}),
        Row("row 3", "GA-2", {"Nummer": "GA-2", "name": "Weber"}),
    ]


def test_a_csv_that_is_not_utf8_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_bytes("reference,name\nGA-1,Müller\n".encode("cp1252"))

    with pytest.raises(InputError, match=r"not UTF-8.*CSV UTF-8"):
        read_rows(path)


def test_a_csv_row_with_more_cells_than_the_header_is_named(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("reference,name\nGA-1,A\nGA-2,B,extra\n", encoding="utf-8")

    with pytest.raises(InputError, match="row 3 has more cells than the header row"):
        read_rows(path)


def test_every_row_without_a_usable_reference_is_named_and_the_rest_counted(
    tmp_path: Path,
) -> None:
    lines = ["reference,name", "GA-1,A", "GA-1,B"] + [f",X{n}" for n in range(MAX_PROBLEMS + 2)]
    path = tmp_path / "cases.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with pytest.raises(InputError) as refused:
        read_rows(path)

    message = str(refused.value)
    assert "nothing was added" in message
    assert "row 3: reference 'GA-1' repeats row 2" in message
    assert "row 4: the reference ('reference') is empty" in message
    assert "... and 3 more" in message


def test_an_xlsx_sheet_gives_json_values_and_a_chosen_reference_column(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Aktenzeichen", "name", "betrag", "seit"])
    sheet.append([4711.0, "Müller GmbH", 12.5, date(2026, 3, 1)])
    sheet.append(["GA-2", "Weber", None, None])
    path = tmp_path / "cases.xlsx"
    workbook.save(path)

    first, second = read_rows(path, reference_column="Aktenzeichen")

    assert first == Row(
        "row 2",
        "4711",
        {
            "Aktenzeichen": 4711,
            "name": "Müller GmbH",
            "betrag": 12.5,
            "seit": "2026-03-01T00:00:00",
        },
    )
    assert second == Row("row 3", "GA-2", {"Aktenzeichen": "GA-2", "name": "Weber"})


def test_a_broken_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cases.xlsx"
    path.write_bytes(b"not a zip file")

    with pytest.raises(InputError, match=r"not a readable \.xlsx workbook"):
        read_rows(path)


def test_json_must_be_a_list_of_objects_and_names_entries(tmp_path: Path) -> None:
    path = tmp_path / "cases.json"
    path.write_text(json.dumps([{"reference": "GA-1"}, {"reference": "GA-2", "n": 2}]), "utf-8")
    assert [(row.where, row.reference) for row in read_rows(path)] == [
        ("entry 1", "GA-1"),
        ("entry 2", "GA-2"),
    ]

    path.write_text(json.dumps([{"reference": "GA-1"}, 7, "x"]), "utf-8")
    with pytest.raises(InputError, match="entry 2, entry 3 not an object"):
        read_rows(path)
    path.write_text(json.dumps({"reference": "GA-1"}), "utf-8")
    with pytest.raises(InputError, match="must hold a list of objects"):
        read_rows(path)


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("cases.txt", "reference\nGA-1\n", "give a .csv, .xlsx or .json file"),
        ("missing.csv", None, "no such file"),
        ("cases.csv", "reference,name\n", "no rows to add"),
        ("cases.csv", "name,ort\nA,B\n", "no reference column 'reference' or 'Nummer'"),
        ("cases.json", "[{", "not JSON"),
    ],
)
def test_files_that_hold_no_items_are_refused(
    tmp_path: Path, name: str, content: str | None, needle: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")

    with pytest.raises(InputError, match=needle):
        read_rows(path)


def test_json_object_names_the_option_it_came_from() -> None:
    assert json_object('{"name": "A"}', "--payload") == {"name": "A"}
    with pytest.raises(InputError, match="--payload is not JSON"):
        json_object("{name", "--payload")
    with pytest.raises(InputError, match="--payload must be a JSON object"):
        json_object("[1]", "--payload")


def test_a_declared_queue_reads_its_schema_beside_the_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = {"type": "object", "required": ["name"]}
    (tmp_path / "schema.json").write_text(json.dumps(schema), encoding="utf-8")
    monkeypatch.setenv("BOTS_CONFIG", str(tmp_path / "bots.yaml"))
    queue = QueueSettings.model_validate(
        {"schema_file": "schema.json", "approval": "required", "next_on_success": "eakte"}
    )

    policy = declared_policy(queue)

    assert policy["payload_schema"] == schema
    assert policy["approval_required"] is True
    assert policy["next_on_success"] == "eakte"
    with pytest.raises(InputError, match="cannot read the schema file"):
        read_schema(tmp_path / "nirgends.json")
