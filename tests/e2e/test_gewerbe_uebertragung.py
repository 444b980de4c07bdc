"""End to end, as an admin would do it: `bots demo`, a second `bots run`, faults, failures."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from _commands import bots

from orchestrator.settings import load_settings
from sandbox.seed import seed
from sandbox.server import running_sandbox
from sandbox.state import read_state

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CASES = 4


def new_gewerbe(state: dict[str, Any], numbers: set[str]) -> list[dict[str, Any]]:
    return [v for v in state["vorgaenge"] if v["nummer"] in numbers]


def assert_transferred_once(state: dict[str, Any], numbers: set[str]) -> None:
    assert numbers
    assert state["duplicates"] == []
    by_reference: dict[str, list[str]] = {}
    for entry in state["register"]:
        if entry["bezugszeichen"]:
            by_reference.setdefault(entry["bezugszeichen"], []).append(entry["aktenzeichen"])
    for vorgang in new_gewerbe(state, numbers):
        assert vorgang["status"] == "Übertragen", vorgang
        assert by_reference.get(vorgang["nummer"]) == [vorgang["aktenzeichen"]], vorgang


def seeded_new_numbers(sandbox_dir: Path, settings: Any) -> set[str]:
    seed(sandbox_dir, settings, reset=True)
    state = read_state(sandbox_dir)
    return {
        v["nummer"]
        for v in state["vorgaenge"]
        if v["status"] == "Neu" and v["leistung"] == "Gewerbeanmeldung"
    }


def test_demo_then_second_run_creates_no_duplicate(isolated_settings: Path) -> None:
    env = {"BOTS_SANDBOX__PORT": "0", "BOTS_SANDBOX__CASES": str(CASES)}
    settings = load_settings()
    numbers = seeded_new_numbers(settings.sandbox_dir, settings.sandbox)

    demo = bots("demo", env=env)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    state = read_state(settings.sandbox_dir)
    assert_transferred_once(state, numbers)
    register_before = len(state["register"])

    with running_sandbox(settings.sandbox_dir, settings.sandbox) as sandbox:
        password = settings.sandbox.password
        again = bots(
            "run",
            "gewerbe-uebertragung",
            "--json",
            env={
                "BOTS_TARGETS__CIVENTO": sandbox.civento_url,
                "BOTS_TARGETS__GEWERBEREGISTER": sandbox.gewerberegister_url,
                "BOTS_SECRET_CIVENTO_PASSWORD": password,
                "BOTS_SECRET_GEWERBEREGISTER_PASSWORD": password,
            },
        )
    assert again.returncode == 0, again.stdout + again.stderr
    assert json.loads(again.stdout)["status"] == "succeeded"
    state = read_state(settings.sandbox_dir)
    assert len(state["register"]) == register_before
    assert_transferred_once(state, numbers)

    history = json.loads(bots("history", "--json", env={}).stdout)
    assert [r["status"] for r in history] == ["succeeded", "succeeded"]
    # Each run ended its sessions with a logout: none of the bot's logins is still valid.
    import sqlite3

    from sandbox.db import db_path

    with sqlite3.connect(db_path(settings.sandbox_dir)) as conn:
        assert conn.execute("SELECT system, benutzer FROM sitzungen").fetchall() == []
    assert {"id", "bot", "version", "status", "started_at", "finished_at"} <= set(history[0])


def test_bot_completes_with_faults_injected(isolated_settings: Path) -> None:
    from orchestrator.engine import run_bot
    from orchestrator.engine.secrets import MappingSecretProvider
    from orchestrator.model.loader import resolve_bot
    from orchestrator.store import open_store

    settings = load_settings()
    faulty = settings.sandbox.model_copy(
        update={
            "cases": CASES,
            "fault_rate": 0.15,
            "latency_ms": 400,
            "late_elements_ms": 300,
            "expire_sessions_every": 15,
        }
    )
    numbers = seeded_new_numbers(settings.sandbox_dir, faulty)
    password = faulty.password
    with (
        running_sandbox(settings.sandbox_dir, faulty) as sandbox,
        open_store(settings.database) as store,
    ):
        run_settings = settings.model_copy(
            update={
                # Loopback answers in milliseconds: a failed request should not cost 30 s.
                "step_timeout_s": 5.0,
                "targets": {
                    "civento": sandbox.civento_url,
                    "gewerberegister": sandbox.gewerberegister_url,
                },
            }
        )
        record = run_bot(
            resolve_bot("gewerbe-uebertragung", settings.bot_dirs),
            settings=run_settings,
            store=store,
            secrets=MappingSecretProvider(
                {"civento_password": password, "gewerberegister_password": password}
            ),
        )
    assert str(record.status) == "succeeded", record.error
    assert_transferred_once(read_state(settings.sandbox_dir), numbers)


def test_unrecoverable_failure_is_stored_with_evidence(isolated_settings: Path) -> None:
    settings = load_settings()
    broken = settings.sandbox.model_copy(update={"cases": 1, "fault_rate": 1.0})
    seed(settings.sandbox_dir, broken, reset=True)
    password = broken.password
    with running_sandbox(settings.sandbox_dir, broken) as sandbox:
        result = bots(
            "run",
            "gewerbe-uebertragung",
            "--no-retry",  # the bot retries after 5 minutes
            env={
                "BOTS_STEP_TIMEOUT_S": "5",
                "BOTS_TARGETS__CIVENTO": sandbox.civento_url,
                "BOTS_TARGETS__GEWERBEREGISTER": sandbox.gewerberegister_url,
                "BOTS_SECRET_CIVENTO_PASSWORD": password,
                "BOTS_SECRET_GEWERBEREGISTER_PASSWORD": password,
            },
        )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    history = json.loads(bots("history", "--json", env={}).stdout)
    run_id = history[0]["id"]
    assert history[0]["status"] == "failed"

    shown = bots("show", str(run_id), "--json", env={})
    detail = json.loads(shown.stdout)
    kinds = {a["kind"] for a in detail["artifacts"]}
    assert {"screenshot", "trace", "html"} <= kinds
    for artifact in detail["artifacts"]:
        path = Path(artifact["path"])
        path = path if path.is_absolute() else settings.data_dir / path
        assert path.is_file(), artifact
    text = bots("show", str(run_id), env={}).stdout
    assert "screenshot" in text and "trace" in text


def test_a_refused_entry_is_the_runs_error_and_its_evidence(isolated_settings: Path) -> None:
    import sqlite3

    from sandbox.db import db_path

    settings = load_settings()
    cases = settings.sandbox.model_copy(update={"cases": 2})
    refused = sorted(seeded_new_numbers(settings.sandbox_dir, cases))[0]
    with sqlite3.connect(db_path(settings.sandbox_dir)) as conn:  # as the citizen typed it
        conn.execute(
            "UPDATE vorgaenge SET betrieb = betrieb || ' € Bar' WHERE nummer = ?", (refused,)
        )
    password = cases.password
    with running_sandbox(settings.sandbox_dir, cases) as sandbox:
        result = bots(
            "run",
            "gewerbe-uebertragung",
            "--no-retry",
            env={
                "BOTS_TARGETS__CIVENTO": sandbox.civento_url,
                "BOTS_TARGETS__GEWERBEREGISTER": sandbox.gewerberegister_url,
                "BOTS_SECRET_CIVENTO_PASSWORD": password,
                "BOTS_SECRET_GEWERBEREGISTER_PASSWORD": password,
            },
        )
    assert result.returncode == 1, result.stdout + result.stderr
    run_id = json.loads(bots("history", "--json", env={}).stdout)[0]["id"]
    detail = json.loads(bots("show", str(run_id), "--json", env={}).stdout)
    # The register's own words, at once: no waiting for elements that never come.
    assert f"Gewerberegister lehnt {refused} ab" in detail["error"]
    assert "Unzulässige Zeichen „€“" in detail["error"]
    # Which case: the loop iteration and its value, in the error and in `bots show`.
    iteration = re.search(r"\[(steps\[3\]\[\d+\]): vorgang = " + re.escape(refused) + r"\]",
                          detail["error"])  # fmt: skip
    assert iteration, detail["error"]
    assert detail["error_step"].startswith(iteration.group(1) + ".do[")
    shown_text = bots("show", str(run_id), env={}).stdout
    assert f"{iteration.group(1)}: vorgang = {refused}" in shown_text
    kept = {Path(a["path"]).name: (a["kind"], Path(a["path"])) for a in detail["artifacts"]}
    assert kept["failure.png"][0] == "screenshot" and kept["failure.png"][1].stat().st_size
    page = kept["failure.html"][1].read_text(encoding="utf-8")
    assert "Unzulässige Zeichen" in page and "Eingaben unvollständig" in page
    assert "/gewerberegister/" in kept["failure-url.txt"][1].read_text(encoding="utf-8")
    recovering = [s["path"] for s in detail["steps"] if ".on_error" in s["path"]]
    assert recovering == [], "the refusal was answered with a new login and another try"
