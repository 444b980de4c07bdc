"""The run report: one self-contained HTML file (and, if wanted, the same as PDF).

The library twin of ``bots report run``; the engine calls :mod:`.run_end` after each run.
Example::

    paths = write_run_report_files(store, settings, 17, Path("berichte"), lang="de", pdf=True)
    # [Path("berichte/bericht-lauf-17.html"), Path("berichte/bericht-lauf-17.pdf")]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import EnvironmentProblem
from orchestrator.reports.render import DEFAULT_TIMEZONE, data_uri, render
from orchestrator.reports.run_facts import RunFacts, gather_run_facts
from orchestrator.settings import Settings
from orchestrator.store import RunStore

TEMPLATE = "run_report.html.j2"


@dataclass(frozen=True)
class WrittenReport:
    """The files of one report: its HTML, and its PDF where asked for."""

    html: Path
    pdf: Path | None = None

    @property
    def paths(self) -> list[Path]:
        return [self.html] if self.pdf is None else [self.html, self.pdf]


def render_run_report(
    facts: RunFacts, *, lang: str = "de", timezone: str = DEFAULT_TIMEZONE
) -> str:
    """The report of ``facts`` as one HTML page in ``lang`` (screenshots embedded)."""
    images = {
        shot.anchor: data_uri(shot.path) if shot.path is not None else None
        for shot in facts.screenshots
    }
    context: dict[str, object] = {
        "facts": facts,
        "images": images,
        "generated_at": facts.generated_at,
    }
    return render(TEMPLATE, context, lang=lang, timezone=timezone)


def report_name(run_id: int, lang: str) -> str:
    """The file name (without suffix) ``bots report run`` gives a run's report."""
    return f"bericht-lauf-{run_id}" if lang == "de" else f"run-report-{run_id}"


def write_run_report_files(
    store: RunStore,
    settings: Settings,
    run_id: int,
    directory: Path,
    *,
    lang: str = "de",
    pdf: bool = False,
    tenant: str | None = None,
    name: str | None = None,
) -> WrittenReport:
    """Write run ``run_id``'s report into ``directory`` as ``<name>.html`` (and ``.pdf``).

    ``name`` defaults to :func:`report_name`. With ``tenant``, a run of another tenant counts
    as not found.

    Raises:
        RunNotFound: there is no such run (for ``tenant``).
        EnvironmentProblem: the directory cannot be written, or Chromium cannot print.
    """
    facts = gather_run_facts(store, settings, run_id, tenant=tenant)
    html = render_run_report(facts, lang=lang, timezone=settings.orchestrator.timezone)
    stem = name or report_name(run_id, lang)
    html_path = directory / f"{stem}.html"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        html_path.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise EnvironmentProblem(f"cannot write the report to {html_path}: {exc}") from None
    if not pdf:
        return WrittenReport(html_path)
    return WrittenReport(html_path, print_pdf(html_path, settings))


def print_pdf(html_path: Path, settings: Settings) -> Path:
    """Print the report at ``html_path`` to the PDF beside it, through Chromium.

    Raises:
        EnvironmentProblem: Chromium is missing or cannot print.
    """
    from connectors.base import ConnectorError  # Playwright loads only for a PDF
    from connectors.browser.chromium import render_pdf

    pdf_path = html_path.with_suffix(".pdf")
    try:
        return render_pdf(html_path, pdf_path, chromium=settings.chromium)
    except ConnectorError as exc:
        raise EnvironmentProblem(f"cannot write the PDF report: {exc}") from None
