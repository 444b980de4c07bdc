"""A third-party connector, installed beside the project, used from YAML with no project change.

``tests/fixtures/notiz_connector`` holds the package ``kb_notiz`` (connector ``notiz``: a
journal file in the run directory, the step kind ``notiz`` and the action ``notiz.zaehlen``)
and its ``kb_notiz-0.1.0.dist-info`` with the entry point; putting the folder on
``PYTHONPATH`` installs it as far as ``importlib.metadata`` is concerned. Every test runs
``bots`` (or pytest) in a separate process with that path, as an admin would after
``pip install kb-notiz``; this process's registry never sees it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from orchestrator.model.registry import installed
from orchestrator.settings import PROJECT_ROOT

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "notiz_connector"
BUILT_IN = {"flow", "browser", "civento", "desktop", "gewerberegister", "queue"}
HEADER = "id: {id}\nname: Notizen\nversion: 1.0.0\nowner: {{city: Gießen, fachamt: IT}}\n"
#: Two notes, then the action counts them (line 5 is `steps:`).
NOTES = """\
steps:
  - notiz: "Erste Notiz: {{ 40 + 2 }}"
  - notiz: Zweite Notiz
  - use: notiz.zaehlen
    into: anzahl
  - assert: "anzahl == 2"
    message: "{{ anzahl }} Notizen statt 2"
"""


@pytest.fixture(autouse=True)
def _fixture_is_not_installed_here() -> None:
    """The package must come from the subprocess's path only, or the tests prove nothing."""
    assert "notiz" not in installed().connectors


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``args`` in a separate process with the fixture package on the path."""
    path = os.pathsep.join([str(PROJECT_ROOT), str(FIXTURE)])
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": path},
        timeout=300,
    )


def _bots(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return _run(["-c", "import cli; cli.main()", *args], cwd)


def _write_bot(directory: Path, body: str) -> Path:
    directory.mkdir(parents=True)
    text = HEADER.format(id=directory.name) + textwrap.dedent(body)
    (directory / "bot.yaml").write_text(text, encoding="utf-8")
    return directory


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


def _run_record(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The run as ``bots run --json`` printed it."""
    try:
        record: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"bots run printed no run:\n{_output(result)}")
    return record


def test_connectors_list_shows_it_beside_the_built_in_ones(tmp_path: Path) -> None:
    result = _bots("connectors", "list", "--json", cwd=tmp_path)
    assert result.returncode == 0, _output(result)
    listed = json.loads(result.stdout)
    by_name = {item["name"]: item for item in listed["connectors"]}
    assert set(by_name) == {*BUILT_IN, "notiz"}
    assert listed["problems"] == []
    # its `click` is known by its qualified name: the browser, registered first, keeps `click`
    assert [step["kind"] for step in by_name["notiz"]["steps"]] == ["notiz", "notiz.click"]
    assert "click" in [step["kind"] for step in by_name["browser"]["steps"]]
    assert [action["use"] for action in by_name["notiz"]["actions"]] == ["notiz.zaehlen"]
    assert by_name["notiz"]["labels"] == ["notizbuch"]


def test_bots_schema_knows_its_step_kind(tmp_path: Path) -> None:
    result = _bots("schema", cwd=tmp_path)
    assert result.returncode == 0, _output(result)
    schema = json.loads(result.stdout)
    choices = schema["properties"]["steps"]["items"]["oneOf"]
    definitions = [schema["$defs"][ref["$ref"].rpartition("/")[2]] for ref in choices]
    notiz = [d for d in definitions if "notiz" in d.get("required", ())]
    assert len(notiz) == 1
    assert notiz[0]["description"] == "Write a note into the run's journal (one line)."


def test_bots_validate_accepts_its_step_and_action(tmp_path: Path) -> None:
    _write_bot(tmp_path / "notizen", NOTES)
    result = _bots("validate", "notizen", cwd=tmp_path)
    assert result.returncode == 0, _output(result)


def test_bots_validate_points_at_typos_in_its_step_and_action(tmp_path: Path) -> None:
    _write_bot(
        tmp_path / "notizen",
        """\
        steps:
          - notizz: Erste Notiz
          - use: notiz.zahlen
            into: anzahl
          - notiz: Zweite Notiz
            into: anzahl
        """,
    )
    result = _bots("validate", "notizen", cwd=tmp_path)
    assert result.returncode != 0, _output(result)
    lines = result.stdout.splitlines() + result.stderr.splitlines()
    for expected in (
        "notizen/bot.yaml:6:5: unknown step kind 'notizz'",
        "notizen/bot.yaml:7:10: connector 'notiz' has no action 'zahlen' (it has: zaehlen) "
        "(did you mean 'zaehlen'?)",
        "notizen/bot.yaml:10:5: unknown key 'into' in notiz step",
    ):
        assert any(line.startswith(expected) for line in lines), _output(result)


def test_bots_run_writes_the_journal_in_the_run_directory(tmp_path: Path) -> None:
    _write_bot(tmp_path / "notizen", NOTES)
    result = _bots("run", "notizen", "--json", cwd=tmp_path)
    assert result.returncode == 0, _output(result)
    run = _run_record(result)
    assert run["status"] == "succeeded"
    assert [step["kind"] for step in run["steps"]] == ["notiz", "notiz", "use", "assert"]
    journal = Path(run["run_dir"]) / "notizen.txt"
    assert journal.read_text(encoding="utf-8") == "Erste Notiz: 42\nZweite Notiz\n"


def test_a_failed_run_keeps_the_journal_as_evidence(tmp_path: Path) -> None:
    _write_bot(
        tmp_path / "notizen",
        """\
        steps:
          - notiz: Vorgang gelesen
          - fail: Register antwortet nicht
        """,
    )
    result = _bots("run", "notizen", "--json", cwd=tmp_path)
    assert result.returncode != 0, _output(result)
    run = _run_record(result)
    assert run["status"] == "failed"
    assert run["error"] == "Register antwortet nicht"
    evidence = Path(run["run_dir"]) / "failure-notiz-journal.txt"
    assert evidence.read_text(encoding="utf-8") == "Vorgang gelesen\n", _output(result)


def test_its_evidence_is_taken_at_the_first_failure_before_finally_runs(tmp_path: Path) -> None:
    _write_bot(
        tmp_path / "notizen",
        """\
        steps:
          - notiz: Vorgang gelesen
          - fail: Register antwortet nicht
        finally:
          - notiz: Aufgeräumt
        """,
    )
    result = _bots("run", "notizen", "--json", cwd=tmp_path)
    assert result.returncode != 0, _output(result)
    run = _run_record(result)
    run_dir = Path(run["run_dir"])
    assert (run_dir / "notizen.txt").read_text(encoding="utf-8") == (
        "Vorgang gelesen\nAufgeräumt\n"
    )
    # the journal as it was when the failure happened, not after `finally`
    evidence = run_dir / "failure-notiz-journal.txt"
    assert evidence.read_text(encoding="utf-8") == "Vorgang gelesen\n", _output(result)
    kept = {artifact["path"]: artifact for artifact in run["artifacts"]}
    assert any(path.endswith("failure-notiz-journal.txt") for path in kept), kept


def test_its_session_works_in_parallel_workers_each_with_evidence(tmp_path: Path) -> None:
    created = _bots("queue", "create", "eingang", "--max-attempts", "1", cwd=tmp_path)
    assert created.returncode == 0, _output(created)
    _write_bot(
        tmp_path / "notizen",
        """\
        steps:
          - add_items: eingang
            items: "{{ range(1, 7) | list }}"
            reference: "A-{{ item }}"
          - for_each_item: eingang
            as: fall
            parallel: 2
            do:
              - notiz: "Fall {{ work_item.reference }}"
              - fail: "Register lehnt {{ work_item.reference }} ab"
                kind: business
                when: "work_item.reference == 'A-3'"
        """,
    )
    result = _bots("run", "notizen", "--json", cwd=tmp_path)
    assert result.returncode == 0, _output(result)
    run = _run_record(result)
    run_dir = Path(run["run_dir"])
    lines = (run_dir / "notizen.txt").read_text(encoding="utf-8").splitlines()
    assert sorted(lines) == [f"Fall A-{n}" for n in range(1, 7)]
    log = [json.loads(line) for line in (run_dir / "run.log.jsonl").read_text().splitlines()]
    # every note went through a worker's own session (a fork), none through the run's
    workers = {entry.get("worker") for entry in log if entry.get("event") == "worker notiz started"}
    assert workers and workers <= {1, 2}, log
    opened = [
        entry.get("connector") for entry in log if entry["event"] == "connector session opened"
    ]
    assert "notiz" not in opened, log
    # the failed item's evidence is its worker's journal, kept with the item
    [evidence] = list((run_dir / "items").glob("*/failure-notiz-journal.txt"))
    assert "Fall A-3" in evidence.read_text(encoding="utf-8").splitlines()
    item = _bots("queue", "items", "eingang", "--status", "needs_human", "--json", cwd=tmp_path)
    assert item.returncode == 0, _output(item)
    assert "A-3" in item.stdout and "Register lehnt A-3 ab" in item.stdout, _output(item)


#: A page with a button that says it was pressed (line 6 is `steps:` in bots using it).
PAGE = """<!doctype html><html lang="de"><meta charset="utf-8"><title>Posteingang</title>
<button onclick="this.textContent='Bestätigt'">Bestätigen</button></html>"""


@pytest.mark.browser
def test_a_bot_uses_the_browsers_click_and_its_click_side_by_side(tmp_path: Path) -> None:
    page = tmp_path / "posteingang.html"
    page.write_text(PAGE, encoding="utf-8")
    _write_bot(
        tmp_path / "beide",
        f"""\
        steps:
          - goto: "{page.as_uri()}"
          - click: {{role: button, name: Bestätigen}}
          - notiz.click: "Vorgang {{{{ 40 + 2 }}}}"
          - browser.wait_for: {{element: {{role: button, name: Bestätigt}}}}
          - notiz: fertig
        """,
    )
    assert _bots("validate", "beide", cwd=tmp_path).returncode == 0
    result = _bots("run", "beide", "--json", cwd=tmp_path)
    assert result.returncode == 0, _output(result)
    run = _run_record(result)
    assert run["status"] == "succeeded", _output(result)
    kinds = [step["kind"] for step in run["steps"]]
    assert kinds == ["goto", "click", "notiz.click", "wait_for", "notiz"]
    journal = Path(run["run_dir"]) / "notizen.txt"
    assert journal.read_text(encoding="utf-8") == "erledigt: Vorgang 42\nfertig\n"


def test_a_bare_click_stays_the_browsers(tmp_path: Path) -> None:
    _write_bot(
        tmp_path / "notizen",
        """\
        steps:
          - click: Vorgang gelesen
          - notiz.klick: Vorgang gelesen
        """,
    )
    result = _bots("validate", "notizen", cwd=tmp_path)
    assert result.returncode != 0, _output(result)
    lines = result.stdout.splitlines() + result.stderr.splitlines()
    for expected in (
        "notizen/bot.yaml:6:12: steps[0].click: expected a locator",
        "notizen/bot.yaml:7:5: connector 'notiz' has no step kind 'klick' (it has: notiz, "
        "click) (did you mean 'click'?)",
    ):
        assert any(line.startswith(expected) for line in lines), _output(result)


def test_a_run_needs_the_labels_of_the_connectors_its_steps_use(tmp_path: Path) -> None:
    _write_bot(tmp_path / "notizen", NOTES)
    result = _bots("run", "notizen", "--enqueue", "--json", cwd=tmp_path)
    assert result.returncode == 0, _output(result)
    run_id = json.loads(result.stdout)["id"]
    shown = _bots("show", str(run_id), "--json", cwd=tmp_path)
    assert json.loads(shown.stdout)["labels"] == ["notizbuch"], _output(shown)
    listed = _bots("history", cwd=tmp_path)
    assert "for a robot with notizbuch" in listed.stdout, _output(listed)


def test_a_declared_label_its_steps_contradict_is_an_error(tmp_path: Path) -> None:
    _write_bot(
        tmp_path / "notizen",
        """\
        execution:
          labels: [giessen, notizbuch]
        steps:
          - set: {anzahl: 0}
        """,
    )
    result = _bots("validate", "notizen", cwd=tmp_path)
    assert result.returncode != 0, _output(result)
    assert (
        "notizen/bot.yaml:6:21: execution.labels[1]: 'notizbuch' is the robot label of the "
        "connector 'notiz', whose steps and actions this bot does not use"
    ) in result.stdout + result.stderr, _output(result)


def test_lint_knows_its_raw_interaction_from_the_registry(tmp_path: Path) -> None:
    _write_bot(
        tmp_path / "notizen",
        """\
        targets: [notiz]
        manual_minutes_per_case: 1
        steps:
          - use: notiz.zaehlen
            into: anzahl
          - notiz.click: Vorgang gelesen
          - notiz: Vorgang gelesen
        """,
    )
    result = _bots("lint", "notizen", "--format", "json", cwd=tmp_path)
    findings = json.loads(result.stdout)["findings"]
    raw = [f for f in findings if f["rule"] == "raw-step-with-action"]
    # its `click` is a raw interaction, its `notiz` step is not
    assert [(f["line"], f["message"].split(":")[0]) for f in raw] == [
        (10, "a raw notiz.click on notiz's pages")
    ], _output(result)


def test_it_passes_the_connector_contract(tmp_path: Path) -> None:
    contract = Path(__file__).with_name("test_contract.py")
    result = _run(
        ["-m", "pytest", "-q", "-p", "no:cacheprovider", f"--basetemp={tmp_path / 'inner'}",
         str(contract), "-k", "notiz"],
        PROJECT_ROOT,
    )  # fmt: skip
    assert result.returncode == 0, _output(result)
    summary = result.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary, summary
    assert "error" not in summary, summary
