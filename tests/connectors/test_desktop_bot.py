"""A bot with desktop steps, run by `bots run` as cron runs it: headless, no DISPLAY set.

The run starts a display of its own (Xvfb + openbox) and a bus for it, drives zenity (a GTK
application from Debian's packages) by role and name, and stops them afterwards. A failed
run keeps the desktop's evidence (display, window, tree), with no secret in any file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.desktop,
    pytest.mark.skipif(
        shutil.which("zenity") is None or shutil.which("Xvfb") is None,
        reason="needs zenity and Xvfb (make system installs them)",
    ),
]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HEADER = """\
id: {id}
name: Desktop-Probe
version: 1.0.0
owner: {{city: Gießen, fachamt: IT}}
secrets:
  kennwort: Kennwort für die Probe
execution:
  labels: [desktop]
steps:
  - start_app: zenity
    args: ["--entry", "--title", "Anmeldung", "--text", "Name des Hundes?"]
    env: {{LANG: C.UTF-8, LC_ALL: C.UTF-8, LANGUAGE: C}}
  - window: {{title: Anmeldung}}
    timeout: 20
"""
SECRET = "Geh31m-Kennw0rt"


def _bots(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "DISPLAY"}
    env["BOTS_SECRET_KENNWORT"] = SECRET
    return subprocess.run(
        [sys.executable, "-c", "import cli; cli.main()", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=240,
    )


def _bot(tmp_path: Path, name: str, steps: str) -> Path:
    directory = tmp_path / name
    directory.mkdir()
    text = HEADER.format(id=name) + textwrap.indent(textwrap.dedent(steps), "  ")
    (directory / "bot.yaml").write_text(text, encoding="utf-8")
    return directory


def _run(tmp_path: Path, bot: Path) -> tuple[dict, subprocess.CompletedProcess[str]]:
    result = _bots(tmp_path, "run", str(bot), "--json")
    try:
        return json.loads(result.stdout), result
    except json.JSONDecodeError:
        pytest.fail(f"no run record: exit {result.returncode}\n{result.stdout}\n{result.stderr}")


def test_a_headless_run_gets_a_display_and_drives_the_application(tmp_path: Path) -> None:
    bot = _bot(
        tmp_path,
        "desktop-probe",
        """\
        - desktop.fill: {role: textbox}
          value: "Größe Bär"
        - desktop.extract: {role: textbox}
          into: gelesen
        - assert: "gelesen == 'Größe Bär'"
        - desktop.extract: {role: button, name: Gibt es nicht}
          get: exists
          into: gibt_es
        - assert: "not gibt_es"
        - desktop.click: {role: button, name: Speichern, fallbacks: [{role: button, name: OK}]}
        - desktop.wait_for: {window: {title: Anmeldung}, state: gone}
          timeout: 10
        """,
    )
    record, result = _run(tmp_path, bot)
    assert record["status"] == "succeeded", result.stderr
    run_dir = Path(record["run_dir"])
    assert (
        (run_dir / "desktop" / "zenity.log")
        .read_text(encoding="utf-8")
        .strip()
        .endswith("Größe Bär")
    )
    assert "desktop fallback matched" in result.stderr  # the log names the fallback used
    assert "name='OK'" in result.stderr


def test_a_failed_run_keeps_the_desktop_evidence_and_no_secret(tmp_path: Path) -> None:
    bot = _bot(
        tmp_path,
        "desktop-fehler",
        """\
        - desktop.fill: {role: textbox}
          value: "{{ secrets.kennwort }}"
        - desktop.click: {role: button, name: Gibt es nicht}
          timeout: 2
        """,
    )
    record, result = _run(tmp_path, bot)
    assert record["status"] == "failed"
    assert record["error_step"] == "steps[3]"
    assert "Gibt es nicht" in record["error"] and "near:" in record["error"]
    run_dir = Path(record["run_dir"])
    names = {path.name for path in run_dir.rglob("*") if path.is_file()}
    evidence = {"failure-desktop.png", "failure-desktop-window.png", "failure-desktop-tree.txt"}
    assert evidence <= names
    assert "button 'OK'" in (run_dir / "failure-desktop-tree.txt").read_text("utf-8")
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET not in result.stdout + result.stderr
