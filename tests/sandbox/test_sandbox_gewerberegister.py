"""Gewerberegister stand-in: frames, validation, duplicate detection, search, CSRF tokens."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import httpx

from orchestrator.settings import SandboxSettings
from sandbox.server import RunningSandbox
from sandbox.state import read_state

ENTRY = {
    "bezugszeichen": "GA-2026-999001",
    "betrieb": "Bäckerei Weiß",
    "rechtsform": "EU",
    "inhaber_nachname": "Weiß",
    "inhaber_vorname": "Jürgen",
    "strasse": "Seltersweg",
    "hausnummer": "14a",
    "plz": "35390",
    "ort": "Gießen",
    "taetigkeit": "Einzelhandel mit Backwaren",
    "beginn": "01.04.2026",
}


def test_work_area_is_an_iframe(register: httpx.Client) -> None:
    page = register.get("/gewerberegister/?seite=/gewerberegister/neu").text
    assert re.search(r'<iframe name="arbeitsbereich"[^>]*src="/gewerberegister/neu"', page)


def test_expired_session_in_the_frame_comes_back_to_the_frame_page(client: httpx.Client) -> None:
    response = client.get(
        "/gewerberegister/neu", headers={"sec-fetch-dest": "iframe"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert (
        "next=%2Fgewerberegister%2F%3Fseite%3D%252Fgewerberegister%252Fneu"
        in response.headers["location"]
    )


def test_validation_messages_next_to_the_fields(
    register: httpx.Client, register_token: str, sandbox_dir: Path
) -> None:
    before = read_state(sandbox_dir)["register"]
    entry = {**ENTRY, "csrf_token": register_token}
    bad = {**entry, "betrieb": "", "plz": "3539", "beginn": "2026-04-01", "ort": "Gießen ☺"}
    response = register.post("/gewerberegister/neu", data=bad)
    assert response.status_code == 422
    assert re.search(r'data-testid="fehler-betrieb">Pflichtfeld', response.text)
    assert "PLZ muss aus genau fünf Ziffern bestehen" in response.text
    assert "Format TT.MM.JJJJ" in response.text
    assert "U+263A" in response.text
    wrong_city = register.post("/gewerberegister/neu", data={**entry, "plz": "36037"})
    assert wrong_city.status_code == 422 and "erwartet: Fulda" in wrong_city.text
    outside = register.post("/gewerberegister/neu", data={**entry, "plz": "10115"})
    assert "außerhalb des Zuständigkeitsbereichs" in outside.text
    assert read_state(sandbox_dir)["register"] == before


def test_create_search_and_refuse_duplicates(
    register: httpx.Client, register_token: str, sandbox_dir: Path
) -> None:
    before = len(read_state(sandbox_dir)["register"])
    entry = {**ENTRY, "csrf_token": register_token}
    created = register.post("/gewerberegister/neu", data=entry)
    year = date.today().year
    match = re.search(r'data-testid="aktenzeichen">(GEW-GI-\d{4}-\d{5})<', created.text)
    assert match and match.group(1).startswith(f"GEW-GI-{year}-")
    aktenzeichen = match.group(1)
    assert "Eintrag angelegt" in created.text

    found = register.get("/gewerberegister/suche", params={"bezugszeichen": ENTRY["bezugszeichen"]})
    assert aktenzeichen in found.text and "Suchergebnis: 1 Eintrag" in found.text
    assert (
        "Keine Einträge gefunden"
        in register.get("/gewerberegister/suche", params={"bezugszeichen": "GA-2026-000000"}).text
    )

    same_business = {
        **entry,
        "bezugszeichen": "",
        "betrieb": "  bäckerei   WEISS ".replace("WEISS", "weiß"),
    }
    refused = register.post("/gewerberegister/neu", data=same_business)
    assert refused.status_code == 409
    assert f'data-testid="vorhandenes-aktenzeichen">{aktenzeichen}<' in refused.text
    assert len(read_state(sandbox_dir)["register"]) == before + 1

    # Another business under the same Civento reference is not refused, but read_state sees it.
    register.post("/gewerberegister/neu", data={**entry, "betrieb": "Café Weiß"})
    duplicates = read_state(sandbox_dir)["duplicates"]
    assert [d["kind"] for d in duplicates] == ["bezugszeichen"]
    assert duplicates[0]["value"] == ENTRY["bezugszeichen"]


def test_forms_without_the_session_token_are_refused(
    register: httpx.Client, register_token: str, sandbox_dir: Path
) -> None:
    before = read_state(sandbox_dir)["register"]
    for token in ("", "nicht-das-token", register_token[:-1]):
        refused = register.post("/gewerberegister/neu", data={**ENTRY, "csrf_token": token})
        assert refused.status_code == 403
        assert 'data-testid="abgelehnt"' in refused.text
        assert "Sicherheitstoken (CSRF) fehlt oder ist ungültig" in refused.text
        # The form comes back filled in, with the token, so it can be sent again.
        assert 'value="Bäckerei Weiß"' in refused.text and register_token in refused.text
    assert read_state(sandbox_dir)["register"] == before

    kept = register.post("/gewerberegister/abmelden", data={})
    assert kept.status_code == 403
    assert "Benutzer:" in register.get("/gewerberegister/").text  # still logged in
    frame_page = register.get("/gewerberegister/").text
    assert f'name="csrf_token" value="{register_token}"' in frame_page  # the Abmelden form
    logged_out = register.post("/gewerberegister/abmelden", data={"csrf_token": register_token})
    assert logged_out.url.path == "/gewerberegister/login"


def test_the_login_form_needs_its_token_and_each_session_gets_its_own(
    client: httpx.Client, sandbox: RunningSandbox
) -> None:
    account = {"kennung": "rpa-gewerbe", "kennwort": SandboxSettings().password}
    refused = client.post("/gewerberegister/login", data=account)
    assert refused.status_code == 403 and "Sicherheitstoken (CSRF)" in refused.text
    assert "GRSESSIONID" not in client.cookies

    tokens = []
    for _ in range(2):
        login_token = _token_in(client.get("/gewerberegister/login").text)
        frame_page = client.post(
            "/gewerberegister/login", data={**account, "csrf_token": login_token}
        )
        assert frame_page.status_code == 200
        tokens.append(_token_in(client.get("/gewerberegister/neu").text))
        assert tokens[-1] != login_token
    assert tokens[0] != tokens[1]

    issued = httpx.get(f"{sandbox.base_url}/_sandbox/issued").json()
    assert set(tokens) <= set(issued["csrf_tokens"])
    assert client.cookies["GRSESSIONID"] in issued["session_cookies"]
    assert len(issued["session_cookies"]) == 2  # the first session's too, though it was replaced


def _token_in(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)
