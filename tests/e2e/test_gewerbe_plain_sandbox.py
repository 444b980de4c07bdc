"""`gewerbe-uebertragung` against the sandbox served without data-* attributes, as a real
Civento and Gewerberegister are: the connector actions find every element by role, label and
visible text, so the bot ends where it ends with the helpers (test_gewerbe_uebertragung.py).

The second run meets a case a broken-off run left behind (in the register, not yet written
back) and one entered on paper meanwhile: the search's hit and the register's "besteht
bereits" answer are read without helpers too. The export reads a Posteingang of two pages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _transfers import assert_transferred_once

from orchestrator.engine import run_bot
from orchestrator.engine.secrets import MappingSecretProvider
from orchestrator.model.loader import resolve_bot
from orchestrator.results import RunRecord, RunStatus
from orchestrator.settings import SandboxSettings, Settings, load_settings
from orchestrator.store import RunStore, open_store
from sandbox.db import connect, transaction
from sandbox.seed import seed
from sandbox.server import RunningSandbox, running_sandbox
from sandbox.state import read_state

pytestmark = [pytest.mark.browser, pytest.mark.slow]
QUEUE = "gewerbeanmeldungen"


def plain(settings: Settings, **update: Any) -> SandboxSettings:
    """The sandbox settings without data-* attributes."""
    return settings.sandbox.model_copy(update={"data_attributes": False, "port": 0, **update})


def run(
    bot: str, settings: Settings, sandbox: RunningSandbox, store: RunStore, **params: Any
) -> RunRecord:
    """Run ``bot`` in-process against the running sandbox."""
    password = settings.sandbox.password
    targets = {"civento": sandbox.civento_url, "gewerberegister": sandbox.gewerberegister_url}
    return run_bot(
        resolve_bot(bot, settings.bot_dirs),
        settings=settings.model_copy(update={"targets": targets}),
        store=store,
        params=params,
        secrets=MappingSecretProvider(
            {"civento_password": password, "gewerberegister_password": password}
        ),
    )


def new_gewerbe(sandbox_dir: Path) -> list[str]:
    return sorted(
        v["nummer"]
        for v in read_state(sandbox_dir)["vorgaenge"]
        if v["status"] == "Neu" and v["leistung"] == "Gewerbeanmeldung"
    )


def test_transfer_without_data_attributes_and_again_without_duplicates(
    isolated_settings: Path,
) -> None:
    settings = load_settings()
    # Six new cases; the first three hold, in turn, an empty "Beginn der Tätigkeit", a legal
    # form the register does not know, and "€ 🥐" in the company name (refused by the register).
    sandbox_settings = plain(settings, cases=6, problem_cases=3)
    seed(settings.sandbox_dir, sandbox_settings, reset=True)
    numbers = new_gewerbe(settings.sandbox_dir)
    problems, good = numbers[:3], set(numbers[3:])
    with (
        running_sandbox(settings.sandbox_dir, sandbox_settings) as sandbox,
        open_store(settings.database) as store,
    ):
        first = run("gewerbe-uebertragung", settings, sandbox, store)
        assert first.status == RunStatus.SUCCEEDED, (first.error_step, first.error)
        state = read_state(settings.sandbox_dir)
        assert_transferred_once(state, good)
        waiting = {
            item.reference: item
            for item in store.queues.list_items(settings.tenant, QUEUE, status="needs_human")
        }
        assert set(waiting) == set(problems)
        assert all(item.last_error_kind == "business" for item in waiting.values())
        refusal = waiting[problems[2]].last_error or ""  # the register's own words
        assert f"Gewerberegister lehnt {problems[2]} ab" in refusal, refusal
        assert "Unzulässige Zeichen „€“" in refusal, refusal

        # As if a run had broken off after entering `found` into the register, and `paper`
        # had been entered on paper meanwhile (no Bezugszeichen): both "Neu" in Civento again,
        # and the queue forgets them (and everything else) to work on them anew.
        found, paper = sorted(good)[:2]
        register = {e["bezugszeichen"]: e["aktenzeichen"] for e in state["register"]}
        with connect(settings.sandbox_dir) as conn, transaction(conn):
            conn.execute(
                "UPDATE vorgaenge SET status = 'Neu', aktenzeichen_fv = '' WHERE nummer IN (?, ?)",
                (found, paper),
            )
            conn.execute("UPDATE register SET bezugszeichen = '' WHERE bezugszeichen = ?", (paper,))
        store.queues.delete_queue(settings.tenant, QUEUE, actor="test")

        second = run("gewerbe-uebertragung", settings, sandbox, store)
    assert second.status == RunStatus.SUCCEEDED, (second.error_step, second.error)
    after = read_state(settings.sandbox_dir)
    assert len(after["register"]) == len(state["register"])
    assert_transferred_once(after, good - {paper})
    vorgang = next(v for v in after["vorgaenge"] if v["nummer"] == paper)
    assert (vorgang["status"], vorgang["aktenzeichen"]) == ("Übertragen", register[paper])
    created = [s for s in second.steps if s.path.endswith("then[1]") and s.status == "ok"]
    assert len(created) == 1, [(s.path, s.status) for s in second.steps]  # `paper` only


def test_export_reads_every_page_without_data_attributes(isolated_settings: Path) -> None:
    settings = load_settings()
    sandbox_settings = plain(settings, cases=8)
    seed(settings.sandbox_dir, sandbox_settings, reset=True)
    expected = [
        v["nummer"] for v in read_state(settings.sandbox_dir)["vorgaenge"] if v["status"] == "Neu"
    ]
    assert len(expected) > 10  # two pages of ten
    with (
        running_sandbox(settings.sandbox_dir, sandbox_settings) as sandbox,
        open_store(settings.database) as store,
    ):
        record = run("posteingang-export", settings, sandbox, store, status="Neu")
    assert record.status == RunStatus.SUCCEEDED, (record.error_step, record.error)
    lines = (settings.runs_dir / str(record.id) / "posteingang.csv").read_text("utf-8-sig")
    assert [line.split(";")[0] for line in lines.splitlines()[1:]] == expected
