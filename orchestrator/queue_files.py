"""Work items and queue schemas read from files: the input side of ``bots queue``.

:func:`read_rows` turns a CSV, Excel (.xlsx) or JSON file into the items to add, each with
where it came from (``row 3``), its reference and its payload; the whole file is checked
first, and an :class:`~orchestrator.errors.InputError` names every row that is wrong.
:func:`declared_policy` turns a queue of the configuration (``queues:``) into its policy as
the store keeps it, reading its schema file. Example::

    rows = read_rows(Path("cases.csv"))               # reference column: reference or Nummer
    store.queues.add_items("giessen", "gewerbe", rows, actor="user:alice")
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.errors import InputError

if TYPE_CHECKING:
    from orchestrator.settings import QueueSettings

#: Reference columns looked for when no reference column is named, in this order.
REFERENCE_COLUMNS = ("reference", "Nummer")
#: Row problems of a file shown at most; the rest are counted.
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class Row:
    """One item to add: where it came from (``row 3``), its reference and its payload."""

    where: str
    reference: str
    payload: dict[str, Any]


def read_rows(path: Path, reference_column: str | None = None) -> list[Row]:
    """The items a file holds: a CSV (header row, ``;`` or ``,``, UTF-8 with or without BOM),
    an Excel workbook (.xlsx, its first sheet, header row) or JSON (a list of objects).

    Empty cells are left out of the payload, so a schema's ``required`` names them. Each
    row's reference is its ``reference_column`` (default: ``reference``, else ``Nummer``).
    Example: ``read_rows(Path("cases.csv"))[0]`` is ``Row("row 2", "GA-1", {...})``.

    Raises:
        InputError: the file cannot be read, has no reference column, or rows lack a
            reference or repeat one; the message names every such row.
    """
    kind = path.suffix.lower()
    if kind not in (".csv", ".xlsx", ".json"):
        raise InputError(f"{path}: give a .csv, .xlsx or .json file")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if kind == ".csv":
        records = _csv_records(path)
    elif kind == ".xlsx":
        records = _xlsx_records(path)
    else:
        records = _json_records(path)
    if not records:
        raise InputError(f"{path}: no rows to add")
    columns = {key for _, record in records for key in record}
    wanted = [reference_column] if reference_column else list(REFERENCE_COLUMNS)
    column = next((name for name in wanted if name in columns), None)
    if column is None:
        raise InputError(
            f"{path}: no reference column {' or '.join(map(repr, wanted))}; the columns are "
            f"{', '.join(sorted(columns))} (choose one with --reference-column)"
        )
    rows: list[Row] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for where, record in records:
        reference = _text(record.get(column))
        if not reference:
            problems.append(f"{where}: the reference ({column!r}) is empty")
        elif reference in seen:
            problems.append(f"{where}: reference {reference!r} repeats {seen[reference]}")
        else:
            seen[reference] = where
            rows.append(Row(where, reference, record))
    if problems:
        raise InputError(f"{path}: " + refusal(problems))
    return rows


def refusal(problems: list[str]) -> str:
    """``nothing was added:`` with the first :data:`MAX_PROBLEMS` problems, one a line."""
    shown = problems[:MAX_PROBLEMS]
    more = len(problems) - len(shown)
    tail = [f"... and {more} more"] if more else []
    return "nothing was added:\n  " + "\n  ".join(shown + tail)


def json_object(text: str, what: str) -> dict[str, Any]:
    """``text`` as a JSON object; ``what`` (an option or a file) names it in the error.

    Raises:
        InputError: it is not JSON, or not an object.
    """
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{what} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InputError(f'{what} must be a JSON object, e.g. \'{{"name": "Muster"}}\'')
    return value


def read_schema(path: Path) -> dict[str, Any]:
    """The JSON object (a payload schema) in the file ``path``.

    Raises:
        InputError: the file cannot be read or holds no JSON object.
    """
    try:
        return json_object(path.read_text(encoding="utf-8-sig"), str(path))
    except OSError as exc:
        raise InputError(f"cannot read the schema file {path}: {exc.strerror}") from None


def declared_policy(queue: QueueSettings) -> dict[str, Any]:
    """A declared queue's policy in the stored form (the keys of the store's
    ``POLICY_DEFAULTS``); a relative ``schema_file`` is read beside the configuration file
    that names it (``BOTS_CONFIG``).

    Raises:
        InputError: the schema file cannot be read or holds no JSON object.
    """
    schema = queue.payload_schema
    if queue.schema_file is not None:
        path = queue.schema_file
        config = os.environ.get("BOTS_CONFIG")
        if not path.is_absolute() and config:
            path = Path(config).parent / path
        schema = read_schema(path)
    return {
        "max_attempts": queue.max_attempts,
        "retry_delay_s": queue.retry_delay_s,
        "backoff": queue.backoff,
        "payload_schema": schema,
        "sla_s": queue.sla_s,
        "retention_days": queue.retention_days,
        "next_on_success": queue.next_on_success,
        "next_on_failure": queue.next_on_failure,
        "approval_required": queue.approval == "required",
    }


def _csv_records(path: Path) -> list[tuple[str, dict[str, Any]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 (byte {exc.start}); save it as 'CSV UTF-8' and try again"
        ) from None
    header = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    records = []
    for number, record in enumerate(reader, start=2):
        if None in record:
            raise InputError(f"{path}: row {number} has more cells than the header row")
        payload = {key.strip(): value for key, value in record.items() if value not in ("", None)}
        if payload:
            records.append((f"row {number}", payload))
    return records


def _xlsx_records(path: Path) -> list[tuple[str, dict[str, Any]]]:
    from openpyxl import load_workbook  # imported late: only a workbook needs it

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a broken file
        raise InputError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    try:
        lines = list(workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()
    if not lines:
        return []
    header = [_text(cell) for cell in lines[0]]
    records = []
    for number, line in enumerate(lines[1:], start=2):
        payload = {
            name: _cell(cell)
            for name, cell in zip(header, line, strict=False)
            if name and cell not in (None, "")
        }
        if payload:
            records.append((f"row {number}", payload))
    return records


def _json_records(path: Path) -> list[tuple[str, dict[str, Any]]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, list):
        raise InputError(f"{path}: must hold a list of objects, one per item")
    wrong = [f"entry {n}" for n, entry in enumerate(data, start=1) if not isinstance(entry, dict)]
    if wrong:
        raise InputError(f"{path}: {', '.join(wrong[:MAX_PROBLEMS])} not an object")
    return [(f"entry {number}", entry) for number, entry in enumerate(data, start=1)]


def _cell(value: Any) -> Any:
    """An Excel cell as JSON: dates as ISO text, whole floats as integers."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _text(value: Any) -> str:
    return "" if value is None else str(_cell(value)).strip()
