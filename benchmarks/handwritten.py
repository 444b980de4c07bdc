"""The transfer done by hand with Playwright: the baseline the engine is measured against.

What a competent developer writes without the framework: semantic locators, Playwright's
auto-waiting, no sleeps. It does the job of the bot ``gewerbe-uebertragung``:

1. log into Civento, list the Gewerbeanmeldungen with status "Neu" (all pages);
2. for each: open it, read Antragsteller and Gewerbedaten;
3. in the Gewerberegister, search by Bezugszeichen (the Civento number) and create the entry
   only when none exists (so a second run, or a run after a crash, creates no duplicate);
4. write the Aktenzeichen back into Civento and move the status Neu -> In Bearbeitung ->
   Übertragen.

Example::

    transferred = transfer_cases(
        "http://127.0.0.1:8765/civento", "http://127.0.0.1:8765/gewerberegister",
        "Sandbox-Training-1", "/usr/lib/chromium/chromium",
    )
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from playwright.sync_api import FrameLocator, Page, expect, sync_playwright

from connectors.register_form import FIELDS, RECHTSFORMEN

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
USER = "rpa-gewerbe"


def transfer_cases(
    base_url_civento: str,
    base_url_gewerberegister: str,
    password: str,
    chromium_path: str | Path,
    headless: bool = True,
) -> int:
    """Transfer every new Gewerbeanmeldung from Civento into the Gewerberegister.

    Args:
        base_url_civento: e.g. ``http://127.0.0.1:8765/civento``.
        base_url_gewerberegister: e.g. ``http://127.0.0.1:8765/gewerberegister``.
        password: Password of the account ``rpa-gewerbe`` in both systems.
        chromium_path: The Chromium executable.
        headless: Run without a window.

    Returns:
        How many Vorgänge were transferred (set to "Übertragen").
    """
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), headless=headless, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(locale="de-DE")
            context.set_default_timeout(15_000)
            civento, register = context.new_page(), context.new_page()
            _login_civento(civento, base_url_civento, password)
            numbers = _new_gewerbeanmeldungen(civento, base_url_civento)
            if not numbers:
                return 0
            work_area = _login_register(register, base_url_gewerberegister, password)
            for nummer in numbers:
                # Chromium throttles timers of background tabs: work in the front one.
                civento.bring_to_front()
                civento.goto(f"{base_url_civento}/vorgang/{nummer}")
                data = _read_vorgang(civento)
                register.bring_to_front()
                aktenzeichen = _find_entry(register, work_area, base_url_gewerberegister, nummer)
                if aktenzeichen is None:
                    aktenzeichen = _create_entry(
                        register, work_area, base_url_gewerberegister, nummer, data
                    )
                civento.bring_to_front()
                _write_back(civento, aktenzeichen)
            return len(numbers)
        finally:
            browser.close()


def _login_civento(page: Page, base_url: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Benutzername").fill(USER)
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", name="Posteingang")).to_be_visible()


def _new_gewerbeanmeldungen(page: Page, base_url: str) -> list[str]:
    """Numbers of all new Gewerbeanmeldungen, collected before any is changed.

    Changing a status removes it from the filtered list, so paging while working would skip
    Vorgänge.
    """
    page.goto(f"{base_url}/posteingang?status=Neu&leistung=Gewerbeanmeldung")
    numbers: list[str] = []
    seite = 1
    while True:
        expect(page.get_by_test_id("seitenzahl")).to_have_text(re.compile(f"^Seite {seite} "))
        numbers += page.get_by_test_id("vorgang-link").all_inner_texts()
        weiter = page.get_by_role("link", name="Weiter")
        if weiter.count() == 0:
            return numbers
        seite += 1
        weiter.click()


def _read_vorgang(page: Page) -> dict[str, str]:
    """The fields the register needs; the form appears once the data has loaded."""
    page.get_by_role("tab", name="Schritt 1 Antragsteller").click()
    data = {
        "vorname": page.get_by_label("Vorname", exact=True).input_value(),
        "nachname": page.get_by_label("Nachname", exact=True).input_value(),
    }
    page.get_by_role("tab", name="Schritt 2 Gewerbedaten").click()
    for key, label in (
        ("betrieb", "Name des Betriebs"),
        ("rechtsform", "Rechtsform"),
        ("strasse", "Straße und Hausnummer"),
        ("plz", "Postleitzahl"),
        ("ort", "Ort"),
        ("taetigkeit", "Angemeldete Tätigkeit"),
        ("beginn", "Beginn der Tätigkeit"),
    ):
        data[key] = page.get_by_label(label, exact=True).input_value()
    return data


def _login_register(page: Page, base_url: str, password: str) -> FrameLocator:
    page.goto(f"{base_url}/")
    page.get_by_label("Kennung").fill(USER)
    page.get_by_label("Kennwort").fill(password)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("link", name="Neuanmeldung")).to_be_visible()
    return page.frame_locator("iframe[name=arbeitsbereich]")


def _find_entry(
    page: Page, work_area: FrameLocator, base_url: str, bezugszeichen: str
) -> str | None:
    # Load the frame page afresh: the work area then surely shows an empty search form, not
    # the previous result (clicking the menu link would race with the frame's navigation).
    page.goto(f"{base_url}/?seite=/gewerberegister/suche")
    work_area.get_by_label("Bezugszeichen").fill(bezugszeichen)
    work_area.get_by_role("button", name="Suchen").click()
    status = work_area.get_by_test_id("suchstatus")
    expect(status).to_be_visible()
    if status.get_attribute("data-treffer") == "0":
        return None
    return work_area.get_by_test_id("treffer-aktenzeichen").first.inner_text()


def _create_entry(
    page: Page, work_area: FrameLocator, base_url: str, nummer: str, data: dict[str, str]
) -> str:
    strasse, hausnummer = _split_street(data["strasse"])
    page.goto(f"{base_url}/?seite=/gewerberegister/neu")
    fields = {
        FIELDS["bezugszeichen"]: nummer,
        FIELDS["betrieb"]: data["betrieb"],
        FIELDS["inhaber_nachname"]: data["nachname"],
        FIELDS["inhaber_vorname"]: data["vorname"],
        FIELDS["strasse"]: strasse,
        FIELDS["hausnummer"]: hausnummer,
        FIELDS["plz"]: re.sub(r"\D", "", data["plz"]),
        FIELDS["ort"]: data["ort"],
        FIELDS["taetigkeit"]: data["taetigkeit"],
        FIELDS["beginn"]: date.fromisoformat(data["beginn"]).strftime("%d.%m.%Y"),
    }
    for label, value in fields.items():
        work_area.get_by_label(label).fill(value)
    work_area.get_by_label(FIELDS["rechtsform"]).select_option(
        label=RECHTSFORMEN[data["rechtsform"]]
    )
    work_area.get_by_role("button", name="Eintragen").click()
    created = work_area.get_by_test_id("aktenzeichen")
    existing = work_area.get_by_test_id("vorhandenes-aktenzeichen")
    expect(created.or_(existing)).to_be_visible()
    return (created if created.count() else existing).inner_text()


def _split_street(text: str) -> tuple[str, str]:
    """``"Bahnhofstr. 12a"`` -> ``("Bahnhofstraße", "12a")``."""
    match = re.match(r"^(.*?)\s*(\d+\s*[a-zA-Z]?)$", text.strip())
    street, number = (match.group(1), match.group(2)) if match else (text.strip(), "")
    street = re.sub(r"(?<=[a-zäöü])str\.$", "straße", street)
    street = re.sub(r"\bStr\.$", "Straße", street)
    return street, number.replace(" ", "")


def _write_back(page: Page, aktenzeichen: str) -> None:
    page.get_by_label("Aktenzeichen Fachverfahren").fill(aktenzeichen)
    for status in ("In Bearbeitung", "Übertragen"):
        page.get_by_role("combobox", name="Neuer Status").click()
        page.get_by_role("option", name=status, exact=True).click()
        page.get_by_role("button", name="Speichern").click()
        expect(page.get_by_test_id("meldung")).to_have_text(f"Gespeichert. Status: {status}")
