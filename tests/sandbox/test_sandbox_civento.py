"""Civento stand-in: login and sessions, Posteingang, saving rules, CSRF token, attachment."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from orchestrator.settings import SandboxSettings
from sandbox.db import connect

USER = "rpa-gewerbe"
PASSWORD = SandboxSettings().password


def _first_new_gewerbeanmeldung(sandbox_dir: Path) -> str:
    with connect(sandbox_dir) as conn:
        row = conn.execute(
            "SELECT nummer FROM vorgaenge WHERE status = 'Neu' AND leistung = 'Gewerbeanmeldung'"
            " ORDER BY eingang LIMIT 1"
        ).fetchone()
    return str(row["nummer"])


def test_wrong_password_is_refused_with_a_visible_message(client: httpx.Client) -> None:
    response = client.post("/civento/login", data={"benutzername": USER, "passwort": "falsch"})
    assert response.status_code == 401
    assert "Benutzername oder Passwort ist falsch" in response.text


def test_pages_need_a_login_and_the_login_returns_to_them(client: httpx.Client) -> None:
    response = client.get("/civento/posteingang?status=Neu")
    assert response.url.path == "/civento/login"
    form = {"benutzername": USER, "passwort": PASSWORD, "next": "/civento/posteingang?status=Neu"}
    response = client.post("/civento/login", data=form)
    assert response.url.path == "/civento/posteingang" and response.url.params["status"] == "Neu"


def test_idle_session_expires_with_message(civento: httpx.Client, sandbox_dir: Path) -> None:
    with connect(sandbox_dir) as conn:
        conn.execute("UPDATE sitzungen SET zuletzt = zuletzt - 100000")
    response = civento.get("/civento/posteingang")
    assert response.url.path == "/civento/login"
    assert "Sitzung abgelaufen" in response.text
    api = civento.get(f"/civento/api/vorgang/{_first_new_gewerbeanmeldung(sandbox_dir)}")
    assert api.status_code == 401 and "/civento/login" in api.json()["login"]


def test_session_expires_after_every_nth_page_view(client: httpx.Client) -> None:
    client.post("/_sandbox/faults", json={"expire_sessions_every": 2})
    form = {"benutzername": USER, "passwort": PASSWORD}
    assert client.post("/civento/login", data=form).url.path == "/civento/posteingang"  # view 1
    assert client.get("/civento/posteingang?seite=2").url.path == "/civento/posteingang"  # 2
    expired = client.get("/civento/posteingang?seite=3")
    assert expired.url.path == "/civento/login" and "Sitzung abgelaufen" in expired.text
    again = client.post("/civento/login", data={**form, "next": "/civento/posteingang?seite=3"})
    assert again.url.path == "/civento/posteingang"


@pytest.mark.parametrize("sandbox_settings", [SandboxSettings(cases=25)])
def test_posteingang_filters_and_pages(civento: httpx.Client) -> None:
    page = civento.get("/civento/posteingang?status=Neu&leistung=Gewerbeanmeldung&seite=3")
    assert "25 Vorgänge, Seite 3 von 3" in page.text
    assert len(re.findall(r'data-testid="vorgang-zeile"', page.text)) == 5
    assert 'rel="next"' not in page.text and 'rel="prev"' in page.text
    hunde = civento.get("/civento/posteingang?leistung=Hundesteuer-Anmeldung").text
    assert "HST-2026-" in hunde and "GA-2026-" not in hunde
    found = civento.get("/civento/posteingang?q=Müller").text
    assert "Müller" in found


def _save(client: httpx.Client, nummer: str, **changes: str) -> tuple[int, dict[str, object]]:
    response = client.post(f"/civento/api/vorgang/{nummer}", json=changes)
    return response.status_code, response.json()


def test_status_moves_one_step_at_a_time(civento: httpx.Client, sandbox_dir: Path) -> None:
    nummer = _first_new_gewerbeanmeldung(sandbox_dir)
    code, body = _save(civento, nummer, status="Übertragen", aktenzeichen="GEW-GI-2026-00001")
    assert code == 422 and "nicht zulässig" in str(body["fehler"])
    assert _save(civento, nummer, status="In Bearbeitung")[0] == 200
    code, body = _save(civento, nummer, status="Übertragen")
    assert code == 422 and "Aktenzeichen Fachverfahren erforderlich" in str(body["fehler"])
    assert _save(civento, nummer, status="Übertragen", aktenzeichen="GEW-GI-2026-00001")[0] == 200
    assert _save(civento, nummer, status="Neu", aktenzeichen="GEW-GI-2026-00001")[0] == 422
    data = civento.get(f"/civento/api/vorgang/{nummer}").json()
    assert data["status"] == "Übertragen" and data["aktenzeichen_fv"] == "GEW-GI-2026-00001"
    assert any("In Bearbeitung → Übertragen" in v["eintrag"] for v in data["verlauf"])


def test_saving_needs_the_session_token_from_the_page(
    civento: httpx.Client, sandbox_dir: Path
) -> None:
    nummer = _first_new_gewerbeanmeldung(sandbox_dir)
    token = civento.headers["X-CSRF-Token"]
    before = civento.get(f"/civento/api/vorgang/{nummer}").json()
    page = civento.get(f"/civento/vorgang/{nummer}").text
    assert f'<meta name="csrf-token" content="{token}">' in page
    for header in ({}, {"X-CSRF-Token": "falsch"}):
        civento.headers.pop("X-CSRF-Token", None)
        civento.headers.update(header)
        code, body = _save(civento, nummer, status="In Bearbeitung")
        assert code == 403 and "Sicherheitstoken (CSRF)" in str(body["error"])
    assert civento.get(f"/civento/api/vorgang/{nummer}").json() == before
    civento.headers["X-CSRF-Token"] = token
    assert _save(civento, nummer, status="In Bearbeitung")[0] == 200


def test_text_outside_latin1_is_rejected_and_nothing_saved(
    civento: httpx.Client, sandbox_dir: Path
) -> None:
    nummer = _first_new_gewerbeanmeldung(sandbox_dir)
    code, body = _save(civento, nummer, aktenzeichen="AZ-1", bemerkung="übertragen – per RPA")
    assert code == 422 and "U+2013" in str(body["fehler"]["bemerkung"])  # type: ignore[index]
    assert civento.get(f"/civento/api/vorgang/{nummer}").json()["aktenzeichen_fv"] == ""
    assert _save(civento, nummer, bemerkung="Übertragen: Müller, Weiß & Söhne")[0] == 200


def test_vorgang_page_is_a_shell_with_steps_and_overlay(
    civento: httpx.Client, sandbox_dir: Path
) -> None:
    page = civento.get(f"/civento/vorgang/{_first_new_gewerbeanmeldung(sandbox_dir)}").text
    for text in ("Schritt 1 Antragsteller", "Schritt 2 Gewerbedaten", "Schritt 3 Anlagen"):
        assert text in page
    assert 'data-testid="bitte-warten"' in page and "Bitte warten" in page
    ids = re.findall(r'role="tab" id="([^"]+)"', page)
    assert len(ids) == 3 and ids != re.findall(
        r'role="tab" id="([^"]+)"',
        civento.get(f"/civento/vorgang/{_first_new_gewerbeanmeldung(sandbox_dir)}").text,
    )


def test_attachment_is_a_pdf_download(civento: httpx.Client, sandbox_dir: Path) -> None:
    nummer = _first_new_gewerbeanmeldung(sandbox_dir)
    response = civento.get(f"/civento/vorgang/{nummer}/anlage.pdf")
    assert response.headers["content-type"] == "application/pdf"
    assert f"Antrag_{nummer}.pdf" in response.headers["content-disposition"]
    assert response.content.startswith(b"%PDF-1.4") and response.content.rstrip().endswith(b"%%EOF")
