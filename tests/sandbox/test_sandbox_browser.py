"""Real Chromium against the served sandbox: the traps are real, and they can be passed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from orchestrator.settings import SandboxSettings
from sandbox.server import RunningSandbox

USER = "rpa-gewerbe"
PASSWORD = SandboxSettings().password


pytestmark = pytest.mark.browser


@pytest.fixture
def browse(
    chromium_path: Path, handwritten: ModuleType, in_own_thread: Callable[..., Any]
) -> Callable[[Callable[[Page], None]], None]:
    """Run ``scenario(page)`` in a fresh Chromium, in a thread of its own (see conftest)."""

    def run_scenario(scenario: Callable[[Page], None]) -> None:
        def in_browser() -> None:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(chromium_path),
                    headless=True,
                    args=handwritten.CHROMIUM_ARGS,
                )
                try:
                    context = browser.new_context(locale="de-DE")
                    context.set_default_timeout(10_000)
                    scenario(context.new_page())
                finally:
                    browser.close()

        in_own_thread(in_browser)

    return run_scenario


@pytest.mark.parametrize(
    "sandbox_settings", [SandboxSettings(cases=3, latency_ms=400, late_elements_ms=300)]
)
def test_case_worker_ui_with_overlay_select2_and_latin1(
    browse: Callable[[Callable[[Page], None]], None], sandbox: RunningSandbox
) -> None:
    browse(lambda page: _case_worker_scenario(page, sandbox))


def _case_worker_scenario(page: Page, sandbox: RunningSandbox) -> None:
    page.goto(f"{sandbox.civento_url}/login")
    page.get_by_label("Benutzername").fill(USER)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.get_by_label("Status").select_option("Neu")
    page.get_by_label("Leistung").select_option("Gewerbeanmeldung")
    page.get_by_role("button", name="Filtern").click()
    table = page.get_by_role("table", name="Posteingang")
    expect(table.get_by_role("row")).to_have_count(4)  # header + 3 cases
    table.get_by_role("link").first.click()

    overlay = page.get_by_test_id("bitte-warten")
    expect(overlay).to_be_visible()  # the data is still loading (latency_ms)
    page.get_by_role("tab", name="Schritt 2 Gewerbedaten").click()  # waits for the overlay
    expect(overlay).to_be_hidden()
    assert page.get_by_label("Name des Betriebs").input_value()
    assert page.get_by_label("Rechtsform").input_value().endswith(")")

    page.get_by_label("Bemerkung").fill("übertragen – per RPA")
    page.get_by_role("button", name="Speichern").click()  # arrives late (late_elements_ms)
    alert = page.get_by_test_id("fehlermeldung")
    expect(alert).to_contain_text("U+2013")

    page.get_by_label("Bemerkung").fill("übertragen - per RPA")
    page.get_by_role("combobox", name="Neuer Status").click()
    page.get_by_role("searchbox", name="Suchen").fill("über")
    page.get_by_role("option", name="Übertragen").click()
    page.get_by_role("button", name="Speichern").click()
    expect(alert).to_contain_text("nicht zulässig")

    # The save sends the page's CSRF token: a wrong one is refused, with a visible message.
    meta = page.locator('meta[name="csrf-token"]')
    token = meta.get_attribute("content")
    meta.evaluate("(el) => el.setAttribute('content', 'falsch')")
    page.get_by_role("combobox", name="Neuer Status").click()
    page.get_by_role("option", name="In Bearbeitung").click()
    page.get_by_role("button", name="Speichern").click()
    expect(alert).to_contain_text("Sicherheitstoken (CSRF) fehlt oder ist ungültig")
    expect(page.get_by_test_id("vorgang-status")).to_have_text("Neu")
    meta.evaluate("(el, token) => el.setAttribute('content', token)", token)

    page.get_by_role("combobox", name="Neuer Status").click()
    page.get_by_role("option", name="In Bearbeitung").click()
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_test_id("meldung")).to_have_text("Gespeichert. Status: In Bearbeitung")
    expect(page.get_by_test_id("vorgang-status")).to_have_text("In Bearbeitung")

    with page.expect_download() as download:
        page.get_by_role("tab", name="Schritt 3 Anlagen").click()
        page.get_by_test_id("anlage-link").click()
    assert download.value.suggested_filename.endswith(".pdf")


@pytest.mark.parametrize("sandbox_settings", [SandboxSettings(cases=1, expire_sessions_every=2)])
def test_register_in_frame_after_expired_session(
    browse: Callable[[Callable[[Page], None]], None], sandbox: RunningSandbox
) -> None:
    browse(lambda page: _register_scenario(page, sandbox))


def _register_scenario(page: Page, sandbox: RunningSandbox) -> None:
    page.goto(f"{sandbox.gewerberegister_url}/")
    page.get_by_label("Kennung").fill(USER)
    page.get_by_label("Kennwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()  # page views 1 and 2: frames + search
    page.get_by_role("link", name="Neuanmeldung").click()  # view 3: expired, login leaves frame
    expect(page.get_by_test_id("sitzung-abgelaufen")).to_be_visible()
    page.get_by_label("Kennung").fill(USER)
    page.get_by_label("Kennwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    work_area = page.frame_locator("iframe[name=arbeitsbereich]")
    work_area.get_by_label("PLZ").fill("3539")
    work_area.get_by_role("button", name="Eintragen").click()
    expect(work_area.get_by_test_id("fehler-plz")).to_contain_text("fünf Ziffern")
    expect(work_area.get_by_test_id("fehler-betrieb")).to_have_text("Pflichtfeld.")
