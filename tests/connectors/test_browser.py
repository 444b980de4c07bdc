"""BrowserSession against a real Chromium: locators, fallbacks, ambiguity, actions."""

from __future__ import annotations

from pathlib import Path

import pytest
from _site import Site

from connectors.base import (
    AmbiguousLocator,
    ConnectorTimeout,
    ElementNotFound,
    LocatorSpec,
    NavigationError,
)
from connectors.browser import BrowserSession

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (LocatorSpec(test_id="vorgang-nummer"), "GA-2025-0001"),
        (LocatorSpec(role="button", name="Speichern", exact=True), "Speichern"),
        (LocatorSpec(role="heading", name="Locators"), "Locators"),
        (LocatorSpec(text="Hinweis eins"), "Hinweis eins"),
        (LocatorSpec(css="p.note", has_text="zwei"), "Hinweis zwei"),
        (LocatorSpec(xpath="//p[@class='note'][1]"), "Hinweis eins"),
        (LocatorSpec(css=".v", within=LocatorSpec(css="#box2")), "zwei"),
        (LocatorSpec(css="p.note", nth=1), "Hinweis zwei"),
        (LocatorSpec(css="#inner", frame="#frm"), "frame-text"),
        (LocatorSpec(role="button", frame="iframe[title=Rahmen]"), "Im Rahmen"),
    ],
)
def test_each_strategy_finds_its_element(
    browser: BrowserSession, spec: LocatorSpec, expected: str
) -> None:
    assert browser.extract(spec, "text") == expected


def test_label_and_placeholder_read_input_values(browser: BrowserSession) -> None:
    assert browser.extract(LocatorSpec(label="Aktenzeichen"), "value") == "AZ-1"
    assert browser.extract(LocatorSpec(placeholder="Suche"), "value") == "search-value"


def test_fallback_is_used_when_the_primary_finds_nothing(browser: BrowserSession) -> None:
    spec = LocatorSpec(
        test_id="no-such-id",
        fallbacks=(LocatorSpec(css="#gone"), LocatorSpec(label="Aktenzeichen")),
    )
    # Burning the timeout on a missing alternative would wait an hour, past the test's own
    # time limit: the answer comes from the third alternative without waiting for the others.
    assert browser.extract(spec, "value", timeout=3600) == "AZ-1"


def test_primary_wins_over_fallback_when_both_match(browser: BrowserSession) -> None:
    spec = LocatorSpec(label="Aktenzeichen", fallbacks=(LocatorSpec(placeholder="Suche"),))
    assert browser.extract(spec, "value") == "AZ-1"


def test_fallbacks_wait_for_a_late_element(browser: BrowserSession) -> None:
    later = LocatorSpec(css="#later-btn")
    spec = LocatorSpec(test_id="missing", fallbacks=(later,))
    assert browser.page.locator("#later-btn").count() == 0
    browser.page.evaluate("showLater(500)")  # appears while the click is already waiting

    browser.click(spec, timeout=30)

    assert browser.extract(later, "text") == "Geklickt"


def test_nothing_found_names_every_alternative(browser: BrowserSession) -> None:
    spec = LocatorSpec(test_id="missing", fallbacks=(LocatorSpec(css="#also-missing"),))
    with pytest.raises(ElementNotFound) as caught:
        browser.click(spec, timeout=0.5)
    assert "test_id='missing'" in str(caught.value)
    assert "css='#also-missing'" in str(caught.value)


def test_missing_element_without_fallbacks(browser: BrowserSession) -> None:
    with pytest.raises(ElementNotFound, match="role='button'\\[name='Löschen'\\]"):
        browser.click(LocatorSpec(role="button", name="Löschen"), timeout=0.5)


def test_ambiguous_locator_names_the_candidates(browser: BrowserSession) -> None:
    with pytest.raises(AmbiguousLocator) as caught:
        browser.click(LocatorSpec(role="button", name="Speichern"))
    error = caught.value
    assert error.count == 2
    assert error.candidates == [
        '<button id="save1"> button "Speichern"',
        '<button id="save2"> button "Speichern und weiter"',
    ]
    assert "nth" in str(error) and "Call log" not in str(error)


def test_ambiguity_of_reads_is_reported_too(browser: BrowserSession) -> None:
    with pytest.raises(AmbiguousLocator, match=r"css='p\.note' matches 2 elements"):
        browser.extract(LocatorSpec(css="p.note"), "text")


def test_disabled_element_times_out_with_a_reason(browser: BrowserSession) -> None:
    with pytest.raises(ConnectorTimeout) as caught:
        browser.click(LocatorSpec(css="#locked"), timeout=0.5)
    message = str(caught.value)
    assert "css='#locked'" in message and "\n" not in message


def test_form_controls(browser: BrowserSession) -> None:
    rechtsform = LocatorSpec(label="Rechtsform")
    browser.select_option(rechtsform, "Einzelunternehmen")  # by label
    assert browser.extract(rechtsform, "value") == "ek"
    browser.select_option(rechtsform, "gmbh")  # by value
    assert browser.extract(rechtsform, "value") == "gmbh"

    box = LocatorSpec(role="checkbox", name="Eilig")
    browser.check(box)
    assert browser.page.is_checked("#cb")
    browser.uncheck(box)
    assert not browser.page.is_checked("#cb")

    browser.fill(LocatorSpec(label="Tasten"), "abc")
    browser.press(LocatorSpec(label="Tasten"), "Enter")
    assert browser.extract(LocatorSpec(css="#pressed"), "text") == "pressed Enter"


def test_extract_table_texts_and_attribute(browser: BrowserSession) -> None:
    table = browser.extract(LocatorSpec(role="table", name="Posteingang"), "table")
    assert table == [{"Nummer": "GA-1", "Status": "Neu"}, {"Nummer": "GA-2", "Status": "Erledigt"}]
    assert browser.extract(LocatorSpec(css="p.note"), "texts") == ["Hinweis eins", "Hinweis zwei"]
    link = LocatorSpec(role="link", name="Weiter")
    assert browser.extract(link, "attribute", attribute="href") == "/second"


def test_waits_for_url_text_and_element_state(browser: BrowserSession, site: Site) -> None:
    browser.wait_for_element(LocatorSpec(css="#late-btn"), "visible")
    browser.click(LocatorSpec(role="link", name="Weiter"))
    browser.wait_for_url("**/second")
    browser.wait_for_text("Zweite Seite")
    browser.wait_for_element(LocatorSpec(css="#late-btn"), "detached")
    assert browser.url == f"{site.base_url}/second"
    with pytest.raises(ConnectorTimeout, match="did not match"):
        browser.wait_for_url("**/third", timeout=0.3)
    with pytest.raises(ConnectorTimeout, match="did not appear"):
        browser.wait_for_text("Nirgends", timeout=0.3)


def test_download_and_upload(browser: BrowserSession, tmp_path: Path) -> None:
    saved = browser.download(LocatorSpec(role="link", name="Bericht herunterladen"), tmp_path)
    assert saved == tmp_path / "bericht.csv"
    assert saved.read_text().startswith("Nummer;Status")
    renamed = browser.download(LocatorSpec(text="Bericht herunterladen"), tmp_path,
                               save_as="kopie.csv")  # fmt: skip
    assert renamed.name == "kopie.csv"

    browser.upload(LocatorSpec(label="Datei"), [saved])
    assert browser.extract(LocatorSpec(css="#files"), "text") == "bericht.csv"


def test_screenshot_and_html(browser: BrowserSession, tmp_path: Path) -> None:
    shot = browser.screenshot(tmp_path / "page.png")
    assert shot.read_bytes().startswith(b"\x89PNG")
    assert "<h1>Locators</h1>" in browser.html()


def test_count_answers_at_once_and_zero_is_an_answer(browser: BrowserSession) -> None:
    # Waiting for a match would take an hour, past the test's own time limit.
    assert browser.count(LocatorSpec(css="#nirgends"), timeout=3600) == 0
    assert browser.extract(LocatorSpec(role="row", name="GA-9"), "texts", timeout=3600) == []
    assert browser.count(LocatorSpec(css="p.note")) == 2
    assert browser.count(LocatorSpec(role="row")) == 3  # header row and two rows
    assert browser.count(LocatorSpec(css="#inner", frame="#frm")) == 1
    assert browser.count(LocatorSpec(css="#inner", frame="#kein-rahmen")) == 0


def test_count_and_texts_take_the_first_alternative_that_matches(
    browser: BrowserSession,
) -> None:
    spec = LocatorSpec(
        css="#nirgends", fallbacks=(LocatorSpec(css="p.note"), LocatorSpec(css="button"))
    )
    assert browser.count(spec) == 2
    assert browser.extract(spec, "texts") == ["Hinweis eins", "Hinweis zwei"]
    nothing = LocatorSpec(css="#nirgends", fallbacks=(LocatorSpec(css="#auch-nicht"),))
    assert browser.count(nothing) == 0
    assert browser.extract(nothing, "texts") == []


def test_count_waits_for_a_page_still_loading_only_briefly(
    browser: BrowserSession, site: Site
) -> None:
    browser.goto(f"{site.base_url}/hang", wait_until="commit")
    # Read as it is: the page never loads, and waiting for it would take an hour.
    assert browser.count(LocatorSpec(css="h1"), timeout=3600) == 1


def test_http_errors_and_unreachable_hosts_are_navigation_errors(
    browser_session: BrowserSession, site: Site
) -> None:
    with pytest.raises(NavigationError, match="503"):
        browser_session.goto(f"{site.base_url}/status/503")
    with pytest.raises(NavigationError, match=r"cannot open http://127\.0\.0\.1:9/"):
        browser_session.goto("http://127.0.0.1:9/")
