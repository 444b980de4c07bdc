"""End to end: Hundesteuer-Anmeldungen from Civento (Chromium) into the desktop register
(the GTK client on a display the run starts), as an admin's `bots run` does it.

What was entered is read from the sandbox's store, not from the client: the register's dogs
with their Bezugszeichen, Civento's status and Steuernummer. A second run enters nothing
twice; a run killed with SIGKILL between the register's save and Civento's write-back is
completed by the next one, once; cases a person must decide go to a person, with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from _commands import bots

from orchestrator.settings import PROJECT_ROOT, load_settings
from sandbox.seed import seed
from sandbox.server import RunningSandbox, running_sandbox
from sandbox.state import read_state

pytestmark = [
    pytest.mark.browser,
    pytest.mark.desktop,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb (make system)"),
]
BOT = "hundesteuer-uebertragung"
QUEUE = "hundesteuer-anmeldungen"


def _new_dogs(sandbox_dir: Path) -> list[str]:
    return sorted(
        v["nummer"]
        for v in read_state(sandbox_dir)["vorgaenge"]
        if v["status"] == "Neu" and v["leistung"] == "Hundesteuer-Anmeldung"
    )


def _env(sandbox: RunningSandbox, password: str) -> dict[str, str]:
    return {
        "BOTS_TARGETS__CIVENTO": sandbox.civento_url,
        "BOTS_TARGETS__HUNDESTEUER": sandbox.urls["hundesteuer"],
        "BOTS_SECRET_CIVENTO_PASSWORD": password,
        "BOTS_SECRET_HUNDESTEUER_PASSWORD": password,
        "BOTS_STEP_TIMEOUT_S": "15",
    }


def assert_entered_once(state: dict[str, Any], numbers: set[str]) -> None:
    """Each case is "Übertragen" with the Steuernummer of its one register entry."""
    assert numbers
    assert state["hundesteuer_duplicates"] == []
    by_reference: dict[str, list[str]] = {}
    for dog in state["hundesteuer_register"]:
        if dog["bezugszeichen"]:
            by_reference.setdefault(dog["bezugszeichen"], []).append(dog["steuernummer"])
    for vorgang in state["vorgaenge"]:
        if vorgang["nummer"] in numbers:
            assert vorgang["status"] == "Übertragen", vorgang
            assert by_reference.get(vorgang["nummer"]) == [vorgang["aktenzeichen"]], vorgang


def test_dogs_go_into_the_desktop_register_once_and_problems_to_a_person(
    isolated_settings: Path,
) -> None:
    settings = load_settings()
    # Four new Anmeldungen; the first two (by number) a breed on the list of dangerous dogs
    # and a dog's name the register cannot store.
    cases = settings.sandbox.model_copy(update={"dog_cases": 4, "problem_cases": 2, "cases": 1})
    seed(settings.sandbox_dir, cases, reset=True)
    numbers = _new_dogs(settings.sandbox_dir)
    gefaehrlich, zeichen, *plain = numbers
    with running_sandbox(settings.sandbox_dir, cases) as sandbox:
        env = _env(sandbox, cases.password)
        first = bots("run", BOT, "--no-retry", "--json", env=env)
        assert first.returncode == 0, first.stdout + first.stderr
        assert json.loads(first.stdout)["status"] == "succeeded"
        state = read_state(settings.sandbox_dir)
        assert_entered_once(state, set(plain))
        entered = {d["bezugszeichen"]: d for d in state["hundesteuer_register"]}
        assert gefaehrlich not in entered and zeichen not in entered
        # What the register holds is what Civento says (read from the store, not the client).
        for vorgang in plain:
            dog = entered[vorgang]
            assert dog["angelegt_von"] == "rpa-gewerbe"
            assert len(dog["plz"]) == 5 and dog["plz"].isdigit()
            assert dog["wurfdatum"].count(".") == 2

        again = bots("run", BOT, "--no-retry", "--json", env=env)
        assert again.returncode == 0, again.stdout + again.stderr
    after = read_state(settings.sandbox_dir)
    assert len(after["hundesteuer_register"]) == len(state["hundesteuer_register"])
    assert_entered_once(after, set(plain))

    listed = bots("queue", "items", QUEUE, "--status", "needs_human", "--json", env={})
    waiting = {item["reference"]: item for item in json.loads(listed.stdout)}
    assert set(waiting) == {gefaehrlich, zeichen}
    assert "Liste gefährlicher Hunde" in waiting[gefaehrlich]["last_error"]
    assert "nicht speichern kann (Ł)" in waiting[zeichen]["last_error"]
    for item in waiting.values():
        assert item["attempts"] == 1 and item["last_error_kind"] == "business", item

    run_dir = Path(json.loads(first.stdout)["run_dir"])
    shots = [p.name for p in (run_dir / "screenshots").glob("*.png")]
    assert {f"{n}-register.png" for n in plain} <= set(shots)  # the display as evidence
    password = cases.password.encode()
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert password not in path.read_bytes(), path


def test_a_run_killed_between_register_and_civento_is_completed_once(
    isolated_settings: Path, tmp_path: Path
) -> None:
    settings = load_settings()
    cases = settings.sandbox.model_copy(update={"dog_cases": 2, "cases": 1})
    seed(settings.sandbox_dir, cases, reset=True)
    numbers = set(_new_dogs(settings.sandbox_dir))
    with running_sandbox(settings.sandbox_dir, cases) as sandbox:
        env = {
            **os.environ,
            "PYTHONPATH": str(PROJECT_ROOT),
            **_env(sandbox, cases.password),
            "BOTS_ORCHESTRATOR__LEASE_S": "2",
        }
        breakpoints = sandbox.app.state.breakpoints
        # The register has saved the first dog; Civento's write-back is held, then the bot dies.
        held = breakpoints.add("POST", "/civento/api/vorgang/.*", "Bearbeitung")
        with (tmp_path / "killed.log").open("wb") as log:
            doomed = subprocess.Popen(
                [sys.executable, "-c", "import cli; cli.main()", "run", BOT, "--no-retry"],
                stdout=log, stderr=subprocess.STDOUT, env=env, cwd="/", start_new_session=True,
            )  # fmt: skip
        try:
            deadline = time.monotonic() + 300
            while held.state != "held" and doomed.poll() is None:
                assert time.monotonic() < deadline, "the breakpoint was never reached"
                time.sleep(0.1)
            assert held.state == "held", (tmp_path / "killed.log").read_text()
        finally:
            os.killpg(doomed.pid, signal.SIGKILL)
            doomed.wait(timeout=30)
            breakpoints.release(held.id, "fail")
        half = read_state(settings.sandbox_dir)
        saved = [d["bezugszeichen"] for d in half["hundesteuer_register"] if d["bezugszeichen"]]
        assert len(saved) == 1 and saved[0] in numbers  # saved in the register, Civento not told
        assert {v["status"] for v in half["vorgaenge"] if v["nummer"] in numbers} == {"Neu"}

        deadline = time.monotonic() + 120
        while True:
            again = bots("run", BOT, "--no-retry", env=env)
            if again.returncode != 75 or time.monotonic() > deadline:  # 75: the lease holds
                break
            time.sleep(1)
    assert again.returncode == 0, again.stdout + again.stderr
    assert_entered_once(read_state(settings.sandbox_dir), numbers)
