"""Stand-ins installed beside the project appear in ``bots sandbox`` with no project change.

``tests/fixtures/notizblock_standin`` holds the package ``kb_notizblock`` with two stand-ins,
``notizblock`` (a web app with a table, a seed, a state section and a setting of its own) and
``uhr`` (a process), and its ``kb_notizblock-0.1.0.dist-info`` with their entry points; putting
the folder on ``PYTHONPATH`` installs it as far as ``importlib.metadata`` is concerned. Every
test runs ``bots`` in a separate process with that path, as an admin would after
``pip install kb-notizblock``; this process's registry never sees it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from orchestrator.settings import PROJECT_ROOT
from sandbox.standins import installed_standins

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "notizblock_standin"
#: How long `bots sandbox serve` may take to say where its stand-ins are.
STARTUP_S = 60


@pytest.fixture(autouse=True)
def _fixture_is_not_installed_here() -> None:
    """The package must come from the subprocess's path only, or the tests prove nothing."""
    assert {"notizblock", "uhr"}.isdisjoint(s.name for s in installed_standins())


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), str(FIXTURE)]),
        "BOTS_DATA_DIR": str(data_dir),
        "BOTS_SANDBOX__CASES": "3",
        **extra,
    }


def _bots(*args: str, data_dir: Path, **extra: str) -> str:
    """``bots ARGS`` in a separate process with the fixture on the path; its stdout."""
    result = subprocess.run(
        [sys.executable, "-c", "import cli; cli.main()", *args],
        capture_output=True,
        text=True,
        cwd=data_dir,
        env=_env(data_dir, **extra),
        timeout=300,
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result.stdout


def test_seed_and_state_include_it_with_its_own_setting(tmp_path: Path) -> None:
    anzahl = {"BOTS_SANDBOX__STANDINS__NOTIZBLOCK__ANZAHL": "5"}
    seeded = _bots("sandbox", "seed", data_dir=tmp_path, **anzahl)
    assert re.match(r"seeded 19 Vorgänge \(civento\), 10 Einträge \(gewerberegister\), ", seeded)
    assert "5 Notizen (notizblock)" in seeded

    state = json.loads(_bots("sandbox", "state", "--json", data_dir=tmp_path))
    assert len(state["notizen"]) == 5 and state["notizen"][0].startswith("Notiz 1 um 9:")
    assert state["vorgaenge_by_status"]["Neu"] >= 3  # the built-in stand-ins' keys are kept
    assert state["duplicates"] == []

    lines = _bots("sandbox", "state", data_dir=tmp_path).splitlines()
    assert "Notizblock – 5 Notizen" in lines
    assert "Keine doppelten Einträge im Gewerberegister." in lines


def test_serve_serves_it_starts_its_process_and_prints_each_address(tmp_path: Path) -> None:
    server = subprocess.Popen(
        [sys.executable, "-c", "import cli; cli.main()", "sandbox", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path),
    )
    try:
        assert server.stdout is not None
        addresses: dict[str, str] = {}
        deadline = time.monotonic() + STARTUP_S
        while len(addresses) < 5 and time.monotonic() < deadline:
            line = server.stdout.readline()
            assert line, f"bots sandbox serve ended ({server.wait()}) before naming them all"
            title, _, where = line.strip().partition(": ")
            if where:
                addresses[title] = where
        base = addresses["Civento (Sachbearbeitung)"].removesuffix("/civento")
        assert addresses["Gewerberegister (Fachverfahren)"] == f"{base}/gewerberegister"
        assert addresses["Hundesteuer-Register (Desktop-Anwendung)"] == f"{base}/hundesteuer"
        assert addresses["Notizblock"] == f"{base}/notizblock"

        page = httpx.get(f"{base}/notizblock/", timeout=30)
        assert page.status_code == 200
        assert page.text.count("<li>Notiz ") == 3  # seeded by serve: the sandbox was empty
        assert "Notizblock" in httpx.get(f"{base}/", timeout=30).text  # on the start page

        pid = int(re.fullmatch(r"pid (\d+), .*", addresses["Uhr (ein Prozess)"])[1])  # type: ignore[index]
        assert (tmp_path / "sandbox" / "uhr.txt").exists()
        os.kill(pid, 0)  # the process runs while the sandbox serves
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl-C
        server.wait(timeout=60)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # ... and is stopped with it
