"""Chromium itself, without a session: the flags it starts with, its version, PDF printing.

Used by ``bots doctor`` (:func:`chromium_version`) and the run reports (:func:`render_pdf`);
a bot's browser is :class:`~connectors.browser.session.BrowserSession`.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

from connectors.base import ConnectorError
from connectors.browser.errors import first_line

__all__ = ["CHROMIUM_ARGS", "chromium_version", "render_pdf"]

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)


def chromium_version(executable: Path | str) -> str:
    """Start Chromium headless once and return its version, e.g. ``"138.0.7204.92"``."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            return browser.version
        finally:
            browser.close()


def render_pdf(html_path: Path, pdf_path: Path, *, chromium: Path | str) -> Path:
    """Print the HTML file at ``html_path`` to ``pdf_path`` (A4) with headless Chromium.

    The page is loaded offline with JavaScript off: a report needs neither, and whatever came
    from a target system stays inert. Example::

        render_pdf(Path("bericht.html"), Path("bericht.pdf"), chromium=settings.chromium)

    Raises:
        ConnectorError: Chromium is missing, does not start, or cannot print the page.
    """
    if not Path(chromium).exists():
        raise ConnectorError(f"Chromium not found at {chromium}")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(chromium), headless=True, args=list(CHROMIUM_ARGS)
            )
            try:
                context = browser.new_context(java_script_enabled=False, offline=True)
                page = context.new_page()
                page.goto(Path(html_path).resolve().as_uri(), wait_until="load")
                page.pdf(
                    path=str(pdf_path),
                    format="A4",
                    print_background=True,
                    margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"},
                )
            finally:
                browser.close()
    except PlaywrightError as exc:
        raise ConnectorError(f"cannot print {html_path} to PDF: {first_line(exc)}") from None
    return Path(pdf_path)
