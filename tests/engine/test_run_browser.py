"""Whole runs in a real Chromium against the test site: steps, evidence, timeouts."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connectors.browser import BrowserSession
from orchestrator.engine import run_bot
from orchestrator.engine.secrets import MappingSecretProvider
from orchestrator.model import step_kinds
from orchestrator.model.registry import installed
from orchestrator.results import ArtifactKind, RunRecord, RunStatus, StepStatus
from orchestrator.settings import Settings
from orchestrator.store import RunStore

MakeBot = Callable[..., Any]  # the make_bot fixture (tests/engine/conftest.py)

pytestmark = pytest.mark.browser

HOOKS = """
def count_rows(ctx, rows):
    return len(rows)
"""


def _assert_hashes_match(record: RunRecord) -> None:
    for artifact in record.artifacts:
        data = Path(artifact.path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == artifact.sha256, artifact.path
        assert len(data) == artifact.size


Process = tuple[int, str, str]  # pid, start time (tells a reused pid apart), name


def _living_processes() -> dict[int, tuple[int, Process]]:
    """Every process that has not exited, by pid: its parent and who it is (from /proc)."""
    living = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # exited meanwhile
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        state, ppid, *rest = stat[stat.rindex(")") + 2 :].split()
        if state not in ("Z", "X"):  # a zombie has exited; only its parent's wait() is due
            pid = int(entry.name)
            living[pid] = (int(ppid), (pid, rest[17], name))  # rest[17]: field 22, starttime
    return living


def _descendants() -> set[Process]:
    """The living processes this test process started, directly or through others."""
    living = _living_processes()
    found: set[Process] = set()
    parents = {os.getpid()}
    while parents:
        children = {pid for pid, (ppid, _) in living.items() if ppid in parents}
        found |= {living[pid][1] for pid in children}
        parents = children
    return found


def _assert_gone(processes: set[Process], within: float = 30.0) -> None:
    """Every one of ``processes`` exits (the bound only keeps a leak from hanging the test)."""
    deadline = time.monotonic() + within
    while True:
        living = {process for _, process in _living_processes().values()}
        left = processes & living
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not left, f"still running after the run: {sorted(left)}"


def test_login_extract_and_screenshot(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot(
        [
            {"goto": "{{ targets.site }}/login"},
            {"fill": {"label": "Benutzername"}, "value": "rpa-gewerbe"},
            {"fill": {"label": "Passwort"}, "value": "{{ secrets.pw }}"},
            {"click": {"role": "button", "name": "Anmelden"}},
            {"extract": {"css": "#who"}, "into": "who"},
            {"assert": "who == 'Angemeldet als rpa-gewerbe'", "message": "got {{ who }}"},
            {"screenshot": "start-{{ run.id }}"},
        ],
        secrets=["pw"],
    )
    record = run_bot(bot, settings=settings, store=store,
                     secrets=MappingSecretProvider({"pw": "x-geheim"}))  # fmt: skip
    assert record.status == RunStatus.SUCCEEDED, record.error
    assert [s.status for s in record.steps] == [StepStatus.OK] * 7
    kinds = sorted(str(a.kind) for a in record.artifacts)
    assert kinds == ["log", "report", "screenshot"]  # trace only on failure
    shot = next(a for a in record.artifacts if a.kind == ArtifactKind.SCREENSHOT)
    assert shot.path.endswith(f"start-{record.id}.png") and shot.step_path == "steps[6]"
    _assert_hashes_match(record)


def test_every_step_kind_once(
    settings: Settings, store: RunStore, make_bot: MakeBot, tmp_path: Path
) -> None:
    upload = tmp_path / "anlage.txt"
    upload.write_text("Anlage")
    steps: list[dict[str, Any]] = [
        {"include": "flows/open.yaml", "with": {"page": "locators"}},
        {"click": {"css": "#late-btn"}},
        {"fill": {"label": "Tasten"}, "value": "abc"},
        {"press": {"label": "Tasten"}, "key": "Enter"},
        {"select": {"label": "Rechtsform"}, "option": "Einzelunternehmen"},
        {"check": {"role": "checkbox", "name": "Eilig"}},
        {"uncheck": {"role": "checkbox", "name": "Eilig"}},
        {"extract": {"role": "table", "name": "Posteingang"}, "get": "table", "into": "rows"},
        {"call": "hooks:count_rows", "with": {"rows": "{{ rows }}"}, "into": "n"},
        {"for_each": "{{ rows }}", "as": "row", "do": [
            {"if": "row.Status == 'Neu'", "then": [{"set": {"neu": "{{ row.Nummer }}"}}],
             "else": [{"set": {"alt": "{{ row.Nummer }}"}}]},
        ]},
        {"assert": "n == 2 and neu == 'GA-1' and alt == 'GA-2'"},
        {"download": {"role": "link", "name": "Bericht herunterladen"}, "into": "report"},
        {"upload": {"label": "Datei"}, "files": [str(upload)]},
        {"wait_for": {"element": {"css": "#files"}, "state": "visible"}},
        {"pause": 0.01},
        {"retry": [{"try": [{"click": {"css": "#missing"}, "timeout": 0.2}],
                    "on_error": [{"set": {"handled": "{{ error.step }}"}}]}]},
        {"screenshot": "fertig", "full_page": False},
        {"click": {"role": "link", "name": "Weiter"}},
        {"wait_for": {"url": "**/second"}},
        {"wait_for": {"text": "Zweite Seite"}},
        {"try": [{"fail": "absichtlich", "kind": "business"}], "on_error": []},
        {"within": {"element": {"css": "html"}}, "do": [
            {"extract": {"css": "body"}, "get": "count", "into": "bodies"}]},
        {"assert": "bodies == 1"},
        {"use": "civento.abmelden"},  # no civento target: logging out is no error
        {"add_items": "eingang", "items": "{{ rows }}", "reference": "{{ item.Nummer }}"},
        {"for_each_item": "eingang", "as": "fall", "do": [{"set": {"z": "{{ fall.Nummer }}"}}]},
    ]  # fmt: skip
    bot = make_bot(
        steps,
        hooks=HOOKS,
        subflows={"flows/open.yaml": {"steps": [{"goto": "{{ targets.site }}/{{ page }}"}]}},
    )
    record = run_bot(bot, settings=settings, store=store)
    assert record.status == RunStatus.SUCCEEDED, record.error
    # The desktop's kinds need a desktop: tests/connectors/test_desktop_bot.py runs them.
    desktop = {
        name for name, kind in installed().step_kinds().items() if kind.connector == "desktop"
    }
    assert {s.kind for s in record.steps} == (set(step_kinds()) - desktop) | {"work_item"}
    download = next(a for a in record.artifacts if a.kind == ArtifactKind.DOWNLOAD)
    assert Path(download.path).read_text().startswith("Nummer;Status")
    assert download.path.startswith(str(settings.runs_dir / str(record.id)))
    recovered = [s.path for s in record.steps if s.status == StepStatus.RECOVERED]
    assert recovered == ["steps[15].retry[0].try[0]", "steps[20].try[0]"]
    _assert_hashes_match(record)


def test_retry_around_a_page_that_is_not_ready_yet(
    settings: Settings, store: RunStore, make_bot: MakeBot, site: Any
) -> None:
    # The first attempt waits the click's timeout in vain; the second must click within it,
    # so the timeout is generous for a loaded machine rather than short.
    bot = make_bot(
        [{"retry": [{"goto": "{{ targets.site }}/flaky?key=retry-{{ run.id }}"},
                    {"click": {"role": "button", "name": "Bereit"}, "timeout": 2}],
          "attempts": 3, "backoff": 0.05}],
    )  # fmt: skip
    record = run_bot(bot, settings=settings, store=store)
    assert record.status == RunStatus.SUCCEEDED, record.error
    statuses = [(s.path, str(s.status)) for s in record.steps]
    assert statuses == [
        ("steps[0].retry[0]", "ok"),
        ("steps[0].retry[1]", "recovered"),
        ("steps[0].retry[0]", "ok"),
        ("steps[0].retry[1]", "ok"),
        ("steps[0]", "ok"),
    ]
    assert site.flaky_hits[f"retry-{record.id}"] == 2


def test_failed_run_keeps_screenshot_trace_html_and_url(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot(
        [
            {"goto": "{{ targets.site }}/locators"},
            {"click": {"role": "button", "name": "Speichern"}},  # two match
        ]
    )
    record = run_bot(bot, settings=settings, store=store)
    assert record.status == RunStatus.FAILED
    assert record.error_step == "steps[1]"
    assert record.error is not None and "matches 2 elements" in record.error
    assert '<button id="save2"> button "Speichern und weiter"' in record.error
    kinds = sorted(str(a.kind) for a in record.artifacts)
    assert kinds == ["html", "log", "report", "screenshot", "trace", "url"]
    _assert_hashes_match(record)
    by_kind = {a.kind: Path(a.path) for a in record.artifacts}
    assert by_kind[ArtifactKind.URL].read_text().strip().endswith("/locators")
    assert "<h1>Locators</h1>" in by_kind[ArtifactKind.HTML].read_text()
    assert by_kind[ArtifactKind.SCREENSHOT].read_bytes().startswith(b"\x89PNG")
    assert by_kind[ArtifactKind.TRACE].read_bytes().startswith(b"PK")


def test_step_timeout_fails_the_step_not_the_whole_budget(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    # Without its own 0.5 s, the click would wait for the default step timeout, which is
    # longer than the run's budget: the run would end timed out, not failed at the click.
    settings = settings.model_copy(update={"step_timeout_s": 600.0})
    bot = make_bot(
        [{"goto": "{{ targets.site }}/locators"}, {"click": {"text": "Nirgends"}, "timeout": 0.5}],
        trace="never",
        timeout=60,
    )
    record = run_bot(bot, settings=settings, store=store)
    assert record.status == RunStatus.FAILED
    assert record.error_step == "steps[1]"
    assert "no element matches text='Nirgends'" in (record.error or "")
    assert "trace" not in {str(a.kind) for a in record.artifacts}


def test_run_timeout_closes_the_browser(
    settings: Settings, store: RunStore, make_bot: MakeBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The page never finishes loading, so the run's budget ends the run however long Chromium
    # takes to start: no step has to finish within the 1.5 s.
    bot = make_bot([{"goto": "{{ targets.site }}/hang", "timeout": 600}], timeout=1.5)
    before = _descendants()
    browser_processes: set[Process] = set()  # Playwright's driver, Chromium and its helpers
    original_open = BrowserSession.open

    def open_and_note(session: BrowserSession) -> None:
        original_open(session)
        browser_processes.update(_descendants() - before)

    monkeypatch.setattr(BrowserSession, "open", open_and_note)
    record = run_bot(bot, settings=settings, store=store)
    # Only the run's budget can end the 600 s step: the run timed out at it, with the budget's
    # message.
    assert record.status == RunStatus.TIMED_OUT
    assert record.error_step == "steps[0]"
    assert "did not finish within 1.5 s" in (record.error or "")
    assert {"screenshot", "trace"} <= {str(a.kind) for a in record.artifacts}
    _assert_hashes_match(record)
    assert any("chrom" in name for _, _, name in browser_processes), browser_processes
    _assert_gone(browser_processes)


def test_headed_run_starts_a_virtual_display_when_needed(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot(
        [
            {"goto": "{{ targets.site }}/login"},
            {"fill": {"label": "Benutzername"}, "value": "sichtbar"},
            {"press": {"label": "Benutzername"}, "key": "Enter"},
            {"extract": {"css": "#who"}, "into": "who"},
            {"assert": "who == 'Angemeldet als sichtbar'"},
        ]
    )
    record = run_bot(bot, settings=settings, store=store, headed=True)
    assert record.status == RunStatus.SUCCEEDED, record.error
