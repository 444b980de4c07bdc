"""The period report as a Fachamt reads it (``bots report period``): figures that match the
runs, in German and English, accessible (axe-core), safe against markup from target systems,
as PDF, and without any figure about a person.

One real run of the example bot ``gewerbe-uebertragung`` against the sandbox does cases and
hands some to a person; through the store, as a robot would, the same run leaves cases failed
(with markup in the target system's message), being retried, unfinished and late, a second
run of the bot fails, and runs of another Fachamt's bot and of another tenant happen beside.
"""

from __future__ import annotations

import html
import os
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner, Result

from cli import app
from orchestrator.engine import run_bot
from orchestrator.engine.secrets import MappingSecretProvider
from orchestrator.model.loader import resolve_bot
from orchestrator.reports.period import gather_period_report, render_period_report
from orchestrator.results import RunStatus
from orchestrator.settings import Settings, load_settings
from orchestrator.store import RunRequest, RunStore, open_store
from sandbox.seed import seed
from sandbox.server import running_sandbox

BOT = "gewerbe-uebertragung"
QUEUE = "gewerbeanmeldungen"
SCRIPT = "<script>alert(1)</script>"
ONERROR = "<img src=x onerror=alert(1)>"
ROBOT = "robot-1#5be0"


@dataclass(frozen=True)
class Example:
    """The example's settings, the period it covers, its reports and what it should show."""

    settings: Settings
    first: date
    last: date
    german: list[Path]
    english: Path
    expected: dict[str, int]


def bots(*args: str, token: str | None = None) -> Result:
    """``bots report ARGS`` in this process; no exception may escape (no traceback)."""
    env = {"BOTS_TOKEN": token} if token is not None else None
    result = CliRunner().invoke(app, ["report", *args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Example]:
    with pytest.MonkeyPatch.context() as env:
        for name in [name for name in os.environ if name.startswith("BOTS_")]:
            env.delenv(name)
        root = tmp_path_factory.mktemp("period")
        env.setenv("BOTS_DATA_DIR", str(root / "data"))
        settings = load_settings()
        with open_store(settings.database) as store:
            run_id = _run_example_bot(settings, store)
            expected = _more_runs_and_cases(store, settings.tenant, run_id)
        today = datetime.now(ZoneInfo(settings.orchestrator.timezone)).date()
        first, last = today - timedelta(days=6), today
        period = ["--tenant", settings.tenant, "--from", str(first), "--to", str(last)]
        out = root / "out"
        result = bots("period", *period, "--fachamt", "Ordnungsamt", "-o", str(out), "--pdf")
        assert result.exit_code == 0, result.stderr
        german = [Path(line) for line in result.stdout.split()]
        result = bots("period", *period, "--fachamt", "ordnungsamt", "-o", str(out), "--lang", "en")
        assert result.exit_code == 0, result.stderr
        yield Example(settings, first, last, german, Path(result.stdout.strip()), expected)


def _run_example_bot(settings: Settings, store: RunStore) -> int:
    """Four new Gewerbeanmeldungen, two of them with a problem only a person can solve."""
    cases = settings.sandbox.model_copy(update={"cases": 4, "problem_cases": 2})
    seed(settings.sandbox_dir, cases, reset=True)
    with running_sandbox(settings.sandbox_dir, cases) as sandbox:
        targets = {"civento": sandbox.civento_url, "gewerberegister": sandbox.gewerberegister_url}
        record = run_bot(
            resolve_bot(BOT, settings.bot_dirs),
            settings=settings.model_copy(update={"targets": targets, "step_timeout_s": 10.0}),
            store=store,
            secrets=MappingSecretProvider(
                {"civento_password": cases.password, "gewerberegister_password": cases.password}
            ),
            trigger="cli",
            actor="user:anna@rathaus",
        )
    assert str(record.status) == "succeeded", record.error
    return record.id


def _request(tenant: str, bot: str, key: str) -> RunRequest:
    return RunRequest(
        tenant=tenant, bot_id=bot, bot_version="1.2.0", bot_digest="0" * 64, parameters={},
        trigger="schedule", actor="schedule:x", max_parallel=0, dedupe_key=key,
    )  # fmt: skip


def _more_runs_and_cases(store: RunStore, tenant: str, run_id: int) -> dict[str, int]:
    """Cases left failed, being retried, unfinished and late by the example run; a failed
    second run; runs of another bot and tenant. Returns what the report must count."""
    queues = store.queues
    queues.create_queue(tenant, "nachpruefung", max_attempts=1, actor="user:admin")
    queues.create_queue(tenant, "nachfrage", max_attempts=3, retry_delay_s=600, actor="user:admin")
    late = datetime.now(UTC) - timedelta(hours=1)
    queues.add_item(tenant, "nachpruefung", "NP-1", {"betrieb": "Nowak Bau"}, actor="user:admin")
    queues.add_item(tenant, "nachfrage", "NF-1", {"betrieb": "x"}, deadline=late, actor="admin")
    queues.add_item(tenant, "nachfrage", "NF-2", {"betrieb": "y"}, actor="user:admin")
    queues.add_item(tenant, "nachfrage", "NF-3", {"betrieb": "z"}, actor="user:admin")

    def take(queue: str) -> int:
        item = queues.claim_item(tenant, queue, holder=ROBOT, lease_s=60, run_id=run_id)
        assert item is not None
        return item.id

    queues.fail_item(
        take("nachpruefung"), holder=ROBOT, kind="application", run_id=run_id,
        message=f"Fachverfahren meldet: {SCRIPT} {ONERROR}",
    )  # fmt: skip
    queues.fail_item(
        take("nachfrage"), holder=ROBOT, kind="application", message="Zeitüberschreitung",
        run_id=run_id,
    )  # fmt: skip
    take("nachfrage")  # NF-2 stays in progress; NF-3 is never taken
    second = store.start_standalone(
        _request(tenant, BOT, "second"), holder=ROBOT, lease_s=60, pool_limits={}
    )
    store.finish_run(second, RunStatus.FAILED, "Anmeldung am Gewerberegister fehlgeschlagen")
    for other_tenant, bot, key in ((tenant, "posteingang-export", "pe"), ("marburg", BOT, "mr")):
        other = store.start_standalone(
            _request(other_tenant, bot, key), holder=ROBOT, lease_s=60, pool_limits={}
        )
        store.finish_run(other, RunStatus.SUCCEEDED)
    outcomes = [case.outcome for case in store.run_reports.cases(run_id)]
    return {
        "runs_succeeded": 1,
        "runs_failed": 1,
        "done": outcomes.count("done"),
        "needs_human": outcomes.count("needs_human"),
        "failed": 1,
        "retrying": 1,
        "open": 1,
        "waiting": len(queues.list_items(tenant, QUEUE, status="needs_human")),
    }


# --------------------------------------------------------------------------- reading HTML


class _Tables(HTMLParser):
    """The tables of a page by caption: rows of cell texts (header cells included)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._caption = ""
        self._text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("caption", "td", "th"):
            self._text = []
        elif tag == "tr":
            self.tables.setdefault(self._caption, []).append([])

    def handle_endtag(self, tag: str) -> None:
        text = " ".join("".join(self._text or []).split())
        if tag == "caption":
            self._caption, self._text = text, None
        elif tag in ("td", "th") and self._text is not None:
            self.tables[self._caption][-1].append(text)
            self._text = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def tables(path: Path) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.tables


def column_sums(table: list[list[str]]) -> dict[str, int]:
    """Header -> the sum of its column (German numbers: ``1.234``)."""
    header, *rows = table
    return {
        name: sum(int(row[n].replace(".", "")) for row in rows)
        for n, name in enumerate(header)
        if n > 0
    }


def visible_text(path: Path) -> str:
    page = re.sub(r"<style>.*?</style>", " ", path.read_text(encoding="utf-8"), flags=re.S)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


# --------------------------------------------------------------------------- the content


@pytest.mark.browser
@pytest.mark.slow
def test_runs_and_cases_add_up_to_what_the_bot_did(example: Example) -> None:
    html_path = example.german[0]
    expected = example.expected
    runs = column_sums(tables(html_path)["Läufe je Tag nach Ergebnis"])
    cases = column_sums(tables(html_path)["Bearbeitete Vorgänge je Tag nach Ergebnis"])

    assert (runs["erfolgreich"], runs["fehlgeschlagen"], runs["Summe"]) == (1, 1, 2)
    assert cases == {
        "erledigt": expected["done"],
        "an eine Person": expected["needs_human"],
        "fehlgeschlagen": 1,
        "wird wiederholt": 1,
        "noch offen": 1,
        "Summe": expected["done"] + expected["needs_human"] + 3,
    }
    assert expected["done"] >= 1 and expected["needs_human"] >= 1


@pytest.mark.browser
@pytest.mark.slow
def test_overview_people_time_saved_and_payback(example: Example) -> None:
    found = tables(example.german[0])
    people_table = found["Vorgänge, die eine Person brauchen, und überschrittene Fristen"]
    people = {row[0]: row[1] for row in people_table[1:]}
    (bot,) = found["Kennzahlen je Bot"][1:]
    (payback,) = found["Zeitersparnis und Amortisation je Bot"][1:]
    expected = example.expected
    text = visible_text(example.german[0])

    assert people["Vorgänge, die jetzt auf eine Person warten"] == str(expected["waiting"])
    assert people["Frist im Zeitraum, jetzt noch offen"] == "1"
    assert "Erfolgsquote 50 %" in text
    name = "Gewerbeanmeldungen übertragen"
    assert bot == [name, "Ordnungsamt", "2", "50 %", str(expected["done"]),
                   str(expected["needs_human"]), "1"]  # fmt: skip
    hours = f"{expected['done'] * 6 / 60:.1f}".replace(".", ",").removesuffix(",0")
    assert payback[:3] == [name, "6", hours]  # cases done x the bot's manual minutes
    assert payback[4] == "160"  # the catalog's effort_hours
    assert payback[5] != "–"  # months until the effort is paid back
    assert "Posteingang" not in text  # another Fachamt's bot
    assert "Fachverfahren meldet: <script>alert(1)</script>" in text  # a failure reason, as text


@pytest.mark.browser
@pytest.mark.slow
def test_no_figure_about_a_person(example: Example) -> None:
    page = example.german[0].read_text(encoding="utf-8")
    host = socket.gethostname()

    assert "anna" not in page.casefold()
    assert len(host) < 4 or host not in page
    assert "Von der Kommandozeile gestartet" in page  # the example run, without a machine


@pytest.mark.browser
@pytest.mark.slow
def test_charts_are_svg_with_text_alternatives_and_tables(example: Example) -> None:
    page = example.german[0].read_text(encoding="utf-8")
    images = re.findall(r'<img src="data:image/svg\+xml;base64,[^"]+" alt="([^"]+)"', page)

    assert len(images) == 4  # runs, cases, time saved, robots
    assert all(len(alt) > 40 for alt in images)
    assert "Gestapeltes Säulendiagramm der Läufe je Tag" in images[0]
    assert "http" not in re.sub(r'(src|href)="data:[^"]+"', "", page).replace(
        "http-equiv", ""
    )  # nothing to fetch: readable offline


@pytest.mark.browser
@pytest.mark.slow
def test_the_same_figures_give_the_same_page(example: Example) -> None:
    with open_store(example.settings.database) as store:
        report = gather_period_report(
            store, example.settings, example.settings.tenant, example.first, example.last
        )
    assert render_period_report(report) == render_period_report(report)


@pytest.mark.browser
@pytest.mark.slow
def test_english_on_request(example: Example) -> None:
    text = visible_text(example.english)

    assert example.english.name.startswith("period-report-")
    assert '<html lang="en">' in example.english.read_text(encoding="utf-8")
    assert "Period report" in text and "Staff time saved and payback per bot" in text


# --------------------------------------------------------------------------- safe, accessible


@pytest.mark.browser
@pytest.mark.slow
def test_no_serious_accessibility_violation(example: Example, axe_violations: Any) -> None:
    for page in (example.german[0], example.english):
        assert axe_violations(page) == [], page.name


@pytest.mark.browser
@pytest.mark.slow
def test_markup_from_a_target_system_never_runs(example: Example, open_page: Any) -> None:
    def look(page: Any, dialogs: list[str]) -> tuple[list[str], str]:
        return dialogs, page.inner_text("section[aria-labelledby=reasons]")

    dialogs, reasons = open_page(example.german[0], look)

    assert dialogs == []
    assert SCRIPT in reasons and ONERROR in reasons


@pytest.mark.browser
@pytest.mark.slow
def test_the_pdf_holds_the_report(example: Example) -> None:
    html_path, pdf_path = example.german
    text = " ".join(page.extract_text() for page in PdfReader(pdf_path).pages)

    assert pdf_path.suffix == ".pdf" and pdf_path.stem == html_path.stem
    assert "Zeitraumbericht" in text


# --------------------------------------------------------------------------- the command


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-02-30", "--to", "2026-03-31"], "--from '2026-02-30' is no date"),
        (["--from", "1.3.2026", "--to", "2026-03-31"], "write it as YYYY-MM-DD"),
        (["--from", "2026-03-31", "--to", "2026-03-01"], "ends (2026-03-01) before it starts"),
        (
            ["--from", "2026-03-01", "--to", "2026-03-31", "--fachamt", "Standesamt"],
            "no bot works for Fachamt 'Standesamt'",
        ),
        (
            ["--from", "2026-03-01", "--to", "2026-03-31", "--fachamt", "Bürgerbüro", "--bot", BOT],
            f"bot {BOT!r} does not work for Fachamt 'Bürgerbüro'",
        ),
        (
            ["--from", "2026-03-01", "--to", "2026-03-31", "--tenant", "atlantis"],
            "unknown tenant 'atlantis'",
        ),
        (["--from", "2026-03-01", "--to", "2026-03-31", "--lang", "fr"], "'fr' is not one of"),
        (["--from", "2026-03-01", "--to", "2206-03-31"], "longer than ten years"),
        (
            ["--from", "2026-03-01", "--to", "2026-03-31", "--bot", "gewerbe-uebertragen"],
            "no bot 'gewerbe-uebertragen' in the bot directories nor in the runs",
        ),
    ],
)
def test_the_command_refuses_bad_input_with_a_message(args: list[str], message: str) -> None:
    result = bots("period", *args)

    assert result.exit_code == 2, result.stdout
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_user_reads_only_the_reports_of_their_tenant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOTS_TOKEN_FILE", str(tmp_path / "token"))
    root = CliRunner().invoke(app, ["users", "add", "root", "--tenant", "*", "--role", "admin"])
    assert root.exit_code == 0, root.stderr
    added = CliRunner().invoke(
        app,
        ["users", "add", "gerd", "--tenant", "giessen", "--role", "fachamt"],
        env={"BOTS_TOKEN": root.stdout.strip()},
    )
    token = added.stdout.strip()
    with open_store(load_settings().database) as store:  # both tenants have a run
        for tenant in ("giessen", "marburg"):
            run = store.start_standalone(
                _request(tenant, BOT, tenant), holder=ROBOT, lease_s=9, pool_limits={}
            )
            store.finish_run(run, RunStatus.SUCCEEDED)
    period = ["--from", "2026-03-01", "--to", "2026-03-31", "-o", str(tmp_path)]

    refused = bots("period", "--tenant", "marburg", *period, token=token)
    kpis = bots("kpis", "--tenant", "marburg", "--month", "2026-03", token=token)
    own = bots("period", *period, token=token)

    for result in (refused, kpis):
        assert result.exit_code == 2
        assert "belongs to tenant 'giessen' and cannot act on tenant 'marburg'" in result.stderr
    assert own.exit_code == 0, own.stderr
    assert Path(own.stdout.strip()).name.startswith("zeitraumbericht-giessen-2026-03-01")
