"""The run report of the example bot, as a Fachamt reads it: in German (and English), with
every case state, accessible (axe-core), safe against markup from target systems, as PDF.

One run of ``gewerbe-uebertragung`` against the sandbox gives cases that are done and cases
that need a person; cases that failed, are being retried or wait for approval are added to the
same run through the store, as a robot would leave them.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from cli import app
from orchestrator.engine import run_bot
from orchestrator.engine.secrets import MappingSecretProvider
from orchestrator.model.loader import resolve_bot
from orchestrator.reports.run_report import WrittenReport, write_run_report_files
from orchestrator.results import RunRecord
from orchestrator.settings import Settings, load_settings
from orchestrator.store import RunStore, open_store
from sandbox.seed import seed
from sandbox.server import running_sandbox

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BOT = "gewerbe-uebertragung"
QUEUE = "gewerbeanmeldungen"
SCRIPT = "<script>alert(1)</script>"
ONERROR = "<img src=x onerror=alert(1)>"
HOLDER = "robot-1#5be0"


@dataclass(frozen=True)
class Example:
    """The example run, its store and settings, and its reports."""

    settings: Settings
    run: RunRecord
    german: WrittenReport
    english: WrittenReport
    item_ids: dict[str, int]


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Example]:
    with pytest.MonkeyPatch.context() as env:
        for name in [name for name in os.environ if name.startswith("BOTS_")]:
            env.delenv(name)
        root = tmp_path_factory.mktemp("report")
        settings = load_settings(data_dir=root / "data", reports={"pdf": True})
        with open_store(settings.database) as store:
            run = _run_example_bot(settings, store)
            item_ids = _leave_cases_in_other_states(store, run)
            german = write_run_report_files(store, settings, run.id, root / "out", pdf=True)
            english = write_run_report_files(store, settings, run.id, root / "out", lang="en")
            yield Example(settings, store.get_run(run.id), german, english, item_ids)


def _run_example_bot(settings: Settings, store: RunStore) -> RunRecord:
    """Four new Gewerbeanmeldungen, two of them with a problem only a person can solve."""
    cases = settings.sandbox.model_copy(update={"cases": 4, "problem_cases": 2})
    seed(settings.sandbox_dir, cases, reset=True)
    with running_sandbox(settings.sandbox_dir, cases) as sandbox:
        targets = {"civento": sandbox.civento_url, "gewerberegister": sandbox.gewerberegister_url}
        password = cases.password
        record = run_bot(
            resolve_bot(BOT, settings.bot_dirs),
            settings=settings.model_copy(update={"targets": targets, "step_timeout_s": 10.0}),
            store=store,
            secrets=MappingSecretProvider(
                {"civento_password": password, "gewerberegister_password": password}
            ),
            trigger="cli",
            actor="user:anna@rathaus",
        )
    assert str(record.status) == "succeeded", record.error
    return record


def _leave_cases_in_other_states(store: RunStore, run: RunRecord) -> dict[str, int]:
    """In the same run: one case failed (its text from a target system holds markup), one
    being retried, one done and routed on to a queue where it waits for approval."""
    queues, tenant = store.queues, run.tenant
    queues.create_queue(tenant, "freigabe", approval_required=True, actor="user:admin")
    queues.create_queue(
        tenant, "nachpruefung", max_attempts=1, next_on_success="freigabe", actor="user:admin"
    )
    queues.create_queue(tenant, "nachfrage", max_attempts=3, retry_delay_s=600, actor="user:admin")
    for queue, reference in (
        ("nachpruefung", "NP-1"),
        ("nachpruefung", "NP-2"),
        ("nachfrage", "NF-1"),
    ):
        queues.add_item(tenant, queue, reference, {"betrieb": "x"}, actor="user:admin")

    def take(queue: str) -> Any:
        item = queues.claim_item(tenant, queue, holder=HOLDER, lease_s=60, run_id=run.id)
        assert item is not None
        return item

    failed = take("nachpruefung")
    queues.fail_item(
        failed.id, holder=HOLDER, kind="application", run_id=run.id,
        message=f"Fachverfahren meldet: {SCRIPT} {ONERROR}",
    )  # fmt: skip
    done = take("nachpruefung")
    queues.complete_item(done.id, holder=HOLDER, output={"aktenzeichen": ONERROR}, run_id=run.id)
    retrying = take("nachfrage")
    queues.fail_item(
        retrying.id, holder=HOLDER, kind="application", message="Zeitüberschreitung", run_id=run.id
    )
    return {"NP-1": failed.id, "NP-2": done.id, "NF-1": retrying.id}


# --------------------------------------------------------------------------- reading HTML


class _Tables(HTMLParser):
    """The tables of a page by caption: rows of cell texts (header cells included)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._caption: str | None = None
        self._rows: list[list[str]] = []
        self._text: list[str] | None = None
        self._in_caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._caption, self._rows = None, []
        elif tag == "caption":
            self._in_caption, self._text = True, []
        elif tag == "tr":
            self._rows.append([])
        elif tag in ("td", "th"):
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption" and self._text is not None:
            self._caption, self._in_caption, self._text = _squeeze(self._text), False, None
        elif tag in ("td", "th") and self._text is not None:
            self._rows[-1].append(_squeeze(self._text))
            self._text = None
        elif tag == "table" and self._caption:
            self.tables[self._caption] = self._rows

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def _squeeze(parts: list[str]) -> str:
    return " ".join("".join(parts).split())


def tables(path: Path) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.tables


def rows_by_first_cell(table: list[list[str]]) -> dict[str, list[str]]:
    return {row[0]: row[1:] for row in table[1:]}


def visible_text(path: Path) -> str:
    """The page's text with tags and the style sheet removed, whitespace squeezed."""
    page = path.read_text(encoding="utf-8")
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def _sandbox_items(example: Example) -> list[Any]:
    with open_store(example.settings.database) as store:
        return store.queues.list_items(example.run.tenant, QUEUE, limit=1000)


# --------------------------------------------------------------------------- the content


def test_counts_match_what_the_run_did(example: Example) -> None:
    items = _sandbox_items(example)
    done = sum(1 for item in items if item.status.value == "done")
    counts = rows_by_first_cell(
        tables(example.german.html)["Anzahl der Vorgänge dieses Laufs nach Ergebnis"]
    )
    assert counts == {
        "Eingegangen": [str(len(items))],  # every item of the queue came in with this run
        "Erledigt": [str(done + 1)],  # and NP-2
        "Braucht eine Person": ["2"],
        "Fehlgeschlagen": ["1"],
        "Übersprungen oder wird wiederholt": ["1"],
        "Wartet auf Freigabe": ["1"],
    }
    assert done >= 2


def test_every_case_with_reference_status_and_aktenzeichen(example: Example) -> None:
    cases = rows_by_first_cell(
        tables(example.german.html)["Alle Vorgänge, die dieser Lauf bearbeitet hat"]
    )
    items = {item.reference: item for item in _sandbox_items(example)}
    assert set(cases) == set(items) | {"NP-1", "NP-2", "NF-1"}
    for reference, item in items.items():
        queue, status, target, _reason = cases[reference]
        assert queue == QUEUE
        if item.status.value == "done" and item.output and item.output.get("aktenzeichen"):
            assert status == "erledigt"
            assert target == f"Aktenzeichen: {item.output['aktenzeichen']}"
        if item.status.value == "needs_human":
            assert status == "braucht eine Person"
    assert cases["NP-1"][1] == "fehlgeschlagen"
    assert cases["NF-1"][1] == "wird wiederholt"
    assert cases["NF-1"][3].startswith("Zeitüberschreitung")


def test_what_a_person_must_do_with_reasons_in_german(example: Example) -> None:
    table = tables(example.german.html)[
        "Vorgänge, bei denen eine Person handeln muss, mit Grund und nächstem Schritt"
    ]
    rows = rows_by_first_cell(table)
    waiting = [item for item in _sandbox_items(example) if item.status.value == "needs_human"]
    assert set(rows) == {item.reference for item in waiting} | {"NP-1"}
    reasons = " ".join(row[1] for row in rows.values())
    assert "Angabe fehlt: Beginn der Tätigkeit" in reasons
    assert "Rechtsform „Eingetragener Verein (e.V.)“" in reasons
    for item in waiting:
        status, _reason, action = rows[item.reference]
        assert status == "braucht eine Person"
        assert "von Hand bearbeiten" in action
        assert f"bots queue resolve {item.id} --done" in action
    assert f"bots queue retry {example.item_ids['NP-1']}" in rows["NP-1"][2]


def test_pending_approvals_with_the_command_to_approve(example: Example) -> None:
    rows = rows_by_first_cell(
        tables(example.german.html)["Vorgänge, die auf die Freigabe einer zweiten Person warten"]
    )
    assert list(rows) == ["NP-2"]
    queue, _since, action = rows["NP-2"]
    assert queue == "freigabe"
    assert "bots queue approve" in action


def test_run_facts_data_categories_and_deletion_dates(example: Example) -> None:
    text = visible_text(example.german.html)
    run = example.run
    assert f"Laufbericht: Gewerbeanmeldungen übertragen, Lauf {run.id}" in text
    assert "Fachamt Ordnungsamt (Gießen)" in text
    assert "Auslöser gestartet von anna@rathaus" in text
    assert f"Version 1.2.0 Prüfsumme der Bot-Definition {run.digest}" in text
    assert "Name und Anschrift der Gewerbetreibenden" in text
    assert run.finished_at is not None
    berlin = ZoneInfo("Europe/Berlin")
    evidence_gone = (run.finished_at + timedelta(days=30)).astimezone(berlin)
    report_gone = (run.finished_at + timedelta(days=365)).astimezone(berlin)
    deletions = rows_by_first_cell(tables(example.german.html)["Wann welche Daten gelöscht werden"])
    assert deletions["Bildschirmfotos, Traces und Seitenabzüge dieses Laufs"] == [
        evidence_gone.strftime("%d.%m.%Y")
    ]
    assert deletions["Dieser Bericht"] == [report_gone.strftime("%d.%m.%Y")]
    assert deletions["Falldaten der Warteschlange „gewerbeanmeldungen“"] == [
        "365 Tage nach Abschluss des Vorgangs"
    ]


def test_failure_screenshots_are_embedded_and_linked_from_their_case(example: Example) -> None:
    page = example.german.html.read_text(encoding="utf-8")
    shots = re.findall(r'<figure class="shot" id="(bild-\d+)">', page)
    assert len(shots) == 2  # one per case that needs a person
    assert page.count('src="data:image/png;base64,') == 2
    for anchor in shots:
        assert f'<a href="#{anchor}">Bildschirmfoto 1</a>' in page


def test_the_report_in_english(example: Example) -> None:
    text = visible_text(example.english.html)
    assert example.english.html.name == f"run-report-{example.run.id}.html"
    assert f"Run report: Gewerbeanmeldungen übertragen, run {example.run.id}" in text
    assert "What a person must do" in text and "Needs a person" in text
    assert '<html lang="en">' in example.english.html.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- accessible, safe


@pytest.mark.parametrize("lang", ["german", "english"])
def test_axe_core_finds_no_serious_or_critical_violation(
    example: Example, lang: str, axe_violations: Any
) -> None:
    report: WrittenReport = getattr(example, lang)
    assert axe_violations(report.html) == []


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["with-csp", "csp-bypassed"])
def test_markup_from_a_target_system_is_shown_as_text_and_never_runs(
    example: Example, open_page: Any, bypass_csp: bool
) -> None:
    """Escaped, so it stays text even where the Content-Security-Policy did not hold."""

    def look(page: Any, dialogs: list[str]) -> tuple[str, int, list[str]]:
        page.wait_for_timeout(300)  # give an onerror handler the time it would need
        return page.inner_text("body"), page.locator("img[src=x]").count(), dialogs

    text, injected_images, dialogs = open_page(example.german.html, look, bypass_csp=bypass_csp)
    assert f"Fachverfahren meldet: {SCRIPT} {ONERROR}" in text
    assert f"Aktenzeichen: {ONERROR}" in text
    assert injected_images == 0
    assert dialogs == []


def test_the_page_allows_no_script_and_loads_nothing_from_outside(example: Example) -> None:
    page = example.german.html.read_text(encoding="utf-8")
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy is not None
    assert {"default-src 'none'", "script-src 'none'"} <= {
        part.strip() for part in html.unescape(policy.group(1)).split(";")
    }
    assert "<script" not in page.replace(SCRIPT.replace("<", "&lt;"), "")
    assert not re.search(r'(src|href)="(https?:)?//', page)


def test_a_screenshot_opens_in_full_size_from_the_keyboard(
    example: Example, open_page: Any
) -> None:
    def look(page: Any, _dialogs: list[str]) -> tuple[float, float, str]:
        image = page.locator("figure.shot img").first
        before = image.bounding_box()["width"]
        image.locator("xpath=..").focus()  # its link
        page.keyboard.press("Enter")
        page.wait_for_function("location.hash.startsWith('#bild-')")
        return before, image.bounding_box()["width"], page.evaluate("location.hash")

    small, large, target = open_page(example.german.html, look)
    assert target == "#bild-1"
    assert large > 2 * small


def test_the_pdf_holds_the_report(example: Example) -> None:
    assert example.german.pdf is not None
    text = " ".join(
        " ".join((page.extract_text() or "").split())
        for page in PdfReader(example.german.pdf).pages
    )
    assert f"Laufbericht: Gewerbeanmeldungen übertragen, Lauf {example.run.id}" in text
    assert "Was eine Person tun muss" in text


# --------------------------------------------------------------------------- run end, CLI


def test_the_report_written_at_run_end_is_an_artifact_that_bots_show_lists(
    example: Example, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports = [a for a in example.run.artifacts if str(a.kind) == "report"]
    assert example.run.run_dir is not None
    report_dir = Path(example.run.run_dir) / "report"
    assert sorted(Path(a.path) for a in reports) == [
        (report_dir / "bericht.html").resolve(),
        (report_dir / "bericht.pdf").resolve(),
    ]
    for artifact in reports:
        assert hashlib.sha256(Path(artifact.path).read_bytes()).hexdigest() == artifact.sha256
    monkeypatch.setenv("BOTS_DATA_DIR", str(example.settings.data_dir))
    shown = CliRunner().invoke(app, ["show", str(example.run.id)])
    assert shown.exit_code == 0, shown.output
    assert f"report:     {(report_dir / 'bericht.html').resolve()}" in shown.output


def test_bots_report_run_writes_and_prints_the_files(
    example: Example, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BOTS_DATA_DIR", str(example.settings.data_dir))
    result = CliRunner().invoke(
        app, ["report", "run", str(example.run.id), "-o", str(tmp_path), "--lang", "en"]
    )
    assert result.exit_code == 0, result.output
    written = tmp_path / f"run-report-{example.run.id}.html"
    assert result.output.splitlines() == [str(written)]
    assert "What a person must do" in visible_text(written)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "run", "4711"], "there is no run with id 4711"),
        (["report", "run", "elf"], "Invalid value for 'run_id'"),
        (["report", "run", "1", "--lang", "fr"], "'fr' is not one of"),
    ],
)
def test_bad_input_gets_a_clear_message_and_exit_code_2(
    example: Example, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.setenv("BOTS_DATA_DIR", str(example.settings.data_dir))
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
