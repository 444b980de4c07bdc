"""The documents' blocks that are neither YAML nor shell: each is checked against the project.

- a **python** block runs in an empty directory and must not raise; one marked
  ``excerpt: PATH`` is instead a part of the repository's file PATH (its lines occur there in
  order), as is a **toml** block, which must be an excerpt (YAML blocks may be excerpts too,
  besides their validation);
- a **json** or **csv** block names its ``format``: the keys of the JSON (the header of the
  CSV) are exactly those of what the project's code writes in that format (:data:`FORMATS`);
- a **cron** line's schedule parses as a crontab, and its ``bots`` command parses as the CLI
  reads it; a command without a ``$(...)`` that runs no bot also runs in the throw-away
  project (its environment prefixes name the server's files and are left out);
- a **diff** block applies to the files of the throw-away project.

The notation of excerpts (``...``) is ``_snippets.missing_lines``'.
"""

from __future__ import annotations

import configparser
import csv
import io
import json
import runpy
import tomllib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import typer
from _doc_session import apply_diff, make_project
from _snippets import (
    PYTHON,
    ROOT,
    YAML,
    Block,
    CronEntry,
    all_blocks,
    cron_entries,
    missing_lines,
    runs_a_bot,
)
from apscheduler.triggers.cron import CronTrigger
from typer.core import TyperGroup
from typer.testing import CliRunner

from cli import app
from orchestrator.notifications.delivery import render
from orchestrator.notifications.run_end import run_events
from orchestrator.reports.kpis import COLUMNS
from orchestrator.results import RunRecord, RunStatus
from orchestrator.settings import NotificationSettings, load_settings
from orchestrator.store import open_store
from orchestrator.store.notifications.records import NotificationRecord, NotificationStatus

BLOCKS = all_blocks()
#: The third-party connector of the tests, as docs/connectors.md shows how to write one.
NOTIZ_DIR = ROOT / "tests" / "fixtures" / "notiz_connector"
#: The third-party stand-ins of the tests, as docs/sandbox.md shows how to write them.
NOTIZBLOCK_DIR = ROOT / "tests" / "fixtures" / "notizblock_standin"


def _of(*langs: str, marked: str | None = None) -> list[Any]:
    return [
        pytest.param(b, id=b.id)
        for b in BLOCKS
        if b.lang in langs and (marked is None or b.marked(marked) is not None)
    ]


# --------------------------------------------------------------------------- excerpts, python


def excerpt_problems(block: Block) -> list[str]:
    """The lines of an excerpt that its file does not have (in this order)."""
    assert block.excerpt is not None
    lines = block.text.splitlines()
    first = lines[0].strip() if lines else ""
    if first.startswith("#") and str(block.excerpt).endswith("/" + first.lstrip("# ")):
        lines = lines[1:]  # names the file
    return missing_lines("\n".join(lines), block.excerpt.read_text(encoding="utf-8"))


@pytest.mark.parametrize("block", _of("python", "py", "toml", *YAML, marked="excerpt"))
def test_excerpt_is_in_its_file(block: Block) -> None:
    assert block.excerpt is not None and block.excerpt.is_file(), f"{block.id}: no such file"
    missing = excerpt_problems(block)
    assert missing == [], (
        f"{block.id}: these lines are not in {block.excerpt.relative_to(ROOT)} (in this order):\n"
        + "\n".join(missing)
    )


@pytest.mark.parametrize("block", _of("toml"))
def test_toml_block_is_an_excerpt(block: Block) -> None:
    assert block.excerpt is not None, (
        f"{block.id}: a toml block shows part of a file: mark it <!-- snippet: excerpt: PATH -->"
    )
    tomllib.loads(block.text)


@pytest.mark.parametrize("block", [p for p in _of(*PYTHON) if p.values[0].excerpt is None])
def test_python_block_runs(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A python block that is no excerpt runs as it stands, in an empty directory (a block
    that only makes sense as part of a file is marked ``excerpt: PATH``)."""
    monkeypatch.chdir(tmp_path)
    script = tmp_path / "snippet.py"
    script.write_text(block.text, encoding="utf-8")
    try:
        runpy.run_path(str(script), run_name="__main__")
    except Exception as exc:
        pytest.fail(
            f"{block.id}: the python block does not run ({exc!r}); if it is part of a file, "
            "mark it <!-- snippet: excerpt: PATH -->"
        )


@pytest.mark.parametrize("fixture", [NOTIZ_DIR, NOTIZBLOCK_DIR], ids=lambda d: d.name)
def test_fixture_connector_registers_what_its_pyproject_says(fixture: Path) -> None:
    """The fixture's installation metadata is what its pyproject.toml (the one
    docs/connectors.md, or docs/sandbox.md, shows) would install."""
    project = tomllib.loads((fixture / "pyproject.toml").read_text(encoding="utf-8"))
    (dist_info,) = fixture.glob("*.dist-info")
    installed = configparser.ConfigParser()
    installed.optionxform = str  # type: ignore[assignment,method-assign]
    installed.read(dist_info / "entry_points.txt", encoding="utf-8")
    assert project["project"]["entry-points"] == {
        group: dict(installed[group]) for group in installed.sections()
    }
    metadata = dict(
        line.split(": ", 1)
        for line in (dist_info / "METADATA").read_text(encoding="utf-8").splitlines()
        if ": " in line
    )
    assert metadata["Name"] == project["project"]["name"]
    assert metadata["Version"] == project["project"]["version"]
    assert metadata["Summary"] == project["project"]["description"]
    assert metadata["Requires-Python"] == project["project"]["requires-python"]
    assert metadata["Requires-Dist"] == ", ".join(project["project"]["dependencies"])
    assert dist_info.name == f"{metadata['Name']}-{metadata['Version']}.dist-info"


# --------------------------------------------------------------------------- formats


def _webhook_payload() -> dict[str, Any]:
    """The JSON a webhook channel posts about a failed run, made by the project's code."""
    config = NotificationSettings.model_validate(
        {
            "report_url": "https://rpa.example/berichte/{tenant}/{run_id}/bericht.html",
            "channels": {"chat": {"kind": "webhook", "url": "https://chat.example/hook"}},
            "rules": [{"channels": ["chat"], "events": ["run_failed"]}],
        }
    )
    ended = datetime(2026, 11, 30, 6, 42, tzinfo=UTC)
    run = RunRecord(
        id=17,
        bot="gewerbe-uebertragung",
        version="1.2.0",
        digest="0" * 64,
        tenant="giessen",
        trigger="cli",
        status=RunStatus.FAILED,
        parameters={},
        started_at=ended,
        finished_at=ended,
        error_step="steps[4]",
        attempt=3,
        max_attempts=3,
    )
    with open_store(load_settings().database) as store:
        (event,) = run_events(store, config, run, final=True)
    record = NotificationRecord(
        id=42,
        tenant=event.tenant,
        event=event.kind,
        subject="",
        channel="chat",
        dedupe_key="",
        lang="de",
        facts=dict(event.facts),
        status=NotificationStatus.PENDING,
        attempts=0,
        not_before=None,
        holder=None,
        lease_expires_at=None,
        last_error=None,
        created_at=ended,
        sent_at=None,
        digest_id=None,
    )
    return render(record, ZoneInfo("Europe/Berlin")).data


def _kpis_header() -> list[str]:
    """The header row of the monthly key figures CSV (``bots report kpis``)."""
    return [column.name for column in COLUMNS]


#: What a ``format: NAME`` mark names: the project's own output in that format.
FORMATS: dict[str, Callable[[], Any]] = {
    "webhook": _webhook_payload,
    "kpis-csv": _kpis_header,
}


def _keys(data: Any, prefix: str = "") -> set[str]:
    """Every key of nested mappings, as dotted paths (``facts.run_id``)."""
    if not isinstance(data, dict):
        return set()
    found = set()
    for key, value in data.items():
        found.add(prefix + key)
        found |= _keys(value, f"{prefix}{key}.")
    return found


@pytest.mark.parametrize("block", _of("json", "csv"))
def test_format_block_has_the_real_keys(block: Block) -> None:
    name = block.marked("format")
    assert name in FORMATS, (
        f"{block.id}: mark the block <!-- snippet: format: NAME --> with one of {sorted(FORMATS)}"
    )
    real = FORMATS[name]()
    if block.lang == "json":
        shown = _keys(json.loads(block.text))
        assert shown == _keys(real), (
            f"{block.id}: keys only shown: {sorted(shown - _keys(real))}, "
            f"keys only sent: {sorted(_keys(real) - shown)}"
        )
    else:
        header = next(csv.reader(io.StringIO(block.text)))
        assert header == real, f"{block.id}: the header is {header}, the project writes {real}"


# --------------------------------------------------------------------------- cron lines


def _entries() -> Iterator[Any]:
    for block in BLOCKS:
        if block.lang == "cron":
            for number, entry in enumerate(cron_entries(block), 1):
                yield pytest.param(block, entry, id=f"{block.id}#{number}")


def cli_problems(args: tuple[str, ...]) -> list[str]:
    """Why ``bots ARGS`` does not parse (unknown command or option, a bad value), if so:
    each group's context is made as the CLI makes it, down to the command, which is not
    invoked."""
    command: Any = typer.main.get_command(app)
    try:
        context = command.make_context("bots", list(args))
        rest = [*context._protected_args, *context.args]
        while isinstance(command, TyperGroup) and rest:
            name, found, rest = command.resolve_command(context, rest)
            if found is None:
                return [f"no command {name!r}"]
            command = found
            context = command.make_context(name or "", rest, parent=context)
            rest = [*context._protected_args, *context.args]
    except Exception as exc:  # the CLI's usage errors (typer's own click)
        return [getattr(exc, "format_message", exc.__str__)()]
    return [f"left over: {rest}"] if rest else []


@pytest.mark.parametrize(("block", "entry"), list(_entries()))
def test_cron_line_is_a_schedule_and_a_command(block: Block, entry: CronEntry, enter: Any) -> None:
    assert entry.problem is None, f"{block.id}: {entry.line}: {entry.problem}"
    CronTrigger.from_crontab(entry.schedule)
    problems = cli_problems(entry.args)
    assert problems == [], f"{block.id}: `bots {' '.join(entry.args)}` does not parse: {problems}"
    if entry.substituted or runs_a_bot(entry.args):
        return
    enter(block)
    result = CliRunner().invoke(app, list(entry.args))
    assert result.exit_code == 0, f"{block.id}: `bots {' '.join(entry.args)}`:\n{result.output}"


# --------------------------------------------------------------------------- diffs


@pytest.mark.parametrize("block", _of("diff"))
def test_diff_applies(block: Block, tmp_path: Path) -> None:
    project = make_project(tmp_path, block.doc)
    for earlier in [b for b in BLOCKS if b.doc == block.doc and b.lang == "diff"]:
        apply_diff(earlier, project)
        if earlier.line == block.line:
            break
