"""Session cookies and CSRF tokens: harvested from what a run produced, masked in traces."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from connectors.base import Connector, ConnectorError
from orchestrator.engine.artifacts import ArtifactKeeper, scrub_bytes
from orchestrator.engine.credentials import (
    harvest,
    harvest_html,
    harvest_session,
    header_values,
    mask_header,
)
from orchestrator.engine.secrets import Redactor
from orchestrator.results import ArtifactKind, ArtifactRecord

SESSION = "PjkPf7D5p1wx13zpl9Qz98nKWfK4ZwWr"  # the session cookie, sent and set
OLD_SESSION = "kJ-FeNp78W2dGb5JQhWxjXsRbWyUg5sa"  # replaced by a re-login: only in the log
FORM_TOKEN = "fT0k3n-aus-dem-Formular_123"  # hidden field csrf_token, posted in a form
HEADER_TOKEN = "hD-t0k3n/aus+der=Meta"  # <meta name="csrf-token">, sent as X-CSRF-Token
BEARER = "eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo"
BASIC_PASSWORD = "Basic-Passw0rt"
BASIC = base64.b64encode(f"rpa-gewerbe:{BASIC_PASSWORD}".encode()).decode()
PAGE_TOKEN = "pAg3-t0k3n-nur-im-Snapshot"  # authenticity_token in a DOM snapshot only
SHORT = "ab12"  # too short to harvest: masked where its header or cookie says what it is
CREDENTIALS = {SESSION, OLD_SESSION, FORM_TOKEN, HEADER_TOKEN, BEARER, BASIC, BASIC_PASSWORD}
CREDENTIALS |= {PAGE_TOKEN}


def _header(name: str, value: str) -> dict[str, str]:
    return {"name": name, "value": value}


def _resource(request: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    return {"type": "resource-snapshot", "snapshot": {"request": request, "response": response}}


def _network() -> list[dict[str, Any]]:
    form = f"next=%2Fgewerberegister%2F&kennung=rpa-gewerbe&csrf_token={quote(FORM_TOKEN)}"
    return [
        _resource(
            {
                "method": "POST",
                "url": "http://127.0.0.1:8765/gewerberegister/login",
                "cookies": [{"name": "GRSESSIONID", "value": OLD_SESSION}],
                "headers": [
                    _header("Cookie", f"GRSESSIONID={OLD_SESSION}; lang={SHORT}"),
                    _header("Accept-Language", "de-DE"),
                ],
                "postData": {
                    "mimeType": "application/x-www-form-urlencoded",
                    "text": form,
                    "params": [
                        {"name": "kennung", "value": "rpa-gewerbe"},
                        {"name": "csrf_token", "value": FORM_TOKEN},
                    ],
                },
            },
            {
                "status": 303,
                "cookies": [{"name": "GRSESSIONID", "value": SESSION, "httpOnly": True}],
                "headers": [
                    _header(
                        "set-cookie", f"GRSESSIONID={SESSION}; HttpOnly; Path=/gewerberegister"
                    ),
                    _header("location", "/gewerberegister/"),
                ],
            },
        ),
        _resource(
            {
                "method": "POST",
                "url": "http://127.0.0.1:8765/civento/api/vorgang/GA-2026-000001",
                "cookies": [],
                "headers": [
                    _header("X-CSRF-Token", HEADER_TOKEN),
                    _header("Authorization", f"Bearer {BEARER}"),
                    _header("Proxy-Authorization", f"Basic {BASIC}"),
                ],
                "postData": {"mimeType": "application/json", "text": '{"status": "Neu"}'},
            },
            {"status": 200, "cookies": [], "headers": [_header("content-type", "text/html")]},
        ),
    ]


def _events() -> list[dict[str, Any]]:
    page = [
        "HTML", {}, ["HEAD", {}, ["META", {"name": "csrf-token", "content": HEADER_TOKEN}]],
        ["BODY", {}, ["FORM", {"method": "post"},
            ["INPUT", {"type": "hidden", "name": "authenticity_token",
                       "__playwright_value_": PAGE_TOKEN, "value": PAGE_TOKEN}],
            ["INPUT", {"type": "hidden", "name": "next", "value": "/gewerberegister/suche"}],
            ["INPUT", {"type": "text", "name": "betrieb", "__playwright_value_": "Bäckerei"}],
        ]],
    ]  # fmt: skip
    return [
        {"type": "before", "callId": "c@1", "method": "fill", "params": {"value": "Bäckerei"}},
        {"type": "frame-snapshot", "snapshot": {"callId": "c@1", "html": page}},
        {"type": "after", "callId": "c@2", "result": {"cookies": [
            {"name": "GRSESSIONID", "value": SESSION, "domain": "127.0.0.1", "path": "/"}
        ]}},
    ]  # fmt: skip


def _trace_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("trace.network", "\n".join(json.dumps(e) for e in _network()) + "\n")
        archive.writestr("trace.trace", "\n".join(json.dumps(e) for e in _events()) + "\n")
        archive.writestr(
            "resources/form.html",
            f'<form><input type="hidden" name="csrf_token" value="{FORM_TOKEN}"></form>',
        )
        archive.writestr(
            "resources/form.dat", _network()[0]["snapshot"]["request"]["postData"]["text"]
        )
    return out.getvalue()


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _forms(value: str) -> list[bytes]:
    return [form.encode() for form in (value, quote(value, safe=""), json.dumps(value)[1:-1])]


def test_every_credential_of_a_trace_is_harvested_and_nothing_else() -> None:
    assert harvest(_trace_zip(), "trace.zip") == CREDENTIALS


def test_a_scrubbed_trace_holds_no_credential_but_keeps_its_structure() -> None:
    redactor = Redactor()
    clean = _members(scrub_bytes(_trace_zip(), redactor, "trace.zip"))

    assert all(redactor.redact(value) == "***" for value in CREDENTIALS)
    for name, data in clean.items():
        for value in CREDENTIALS:
            for form in _forms(value):
                assert form not in data, (value, name)
    network = [json.loads(line) for line in clean["trace.network"].splitlines()]
    login, save = (entry["snapshot"]["request"] for entry in network)
    assert login["headers"][0] == _header("Cookie", "GRSESSIONID=***; lang=***")  # SHORT too
    assert login["headers"][1] == _header("Accept-Language", "de-DE")
    assert login["postData"]["params"][1] == {"name": "csrf_token", "value": "***"}
    assert "kennung=rpa-gewerbe&csrf_token=***" in login["postData"]["text"]
    response = network[0]["snapshot"]["response"]
    assert response["headers"][0]["value"] == "GRSESSIONID=***; HttpOnly; Path=/gewerberegister"
    assert response["cookies"][0]["value"] == "***"
    assert [h["value"] for h in save["headers"]] == ["***", "Bearer ***", "Basic ***"]
    assert b"B\\u00e4ckerei" in clean["trace.trace"]  # what is no credential stays
    assert b'"name": "next", "value": "/gewerberegister/suche"' in clean["trace.trace"]


def test_a_trace_without_credentials_stays_byte_for_byte() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("trace.network", json.dumps(_resource(
            {"method": "GET", "headers": [_header("Accept", "text/html")], "cookies": []},
            {"status": 200, "headers": [], "cookies": []},
        )))  # fmt: skip
        archive.writestr("trace.trace", json.dumps({"type": "before", "params": {}}))
    data = out.getvalue()
    assert scrub_bytes(data, Redactor(), "trace.zip") == data


@pytest.mark.parametrize(
    ("html", "token"),
    [
        ('<meta name="csrf-token" content="Zq3-xY9_w&amp;Tk">', "Zq3-xY9_w&Tk"),
        ('<input type="hidden" name="csrfmiddlewaretoken" value="Zq3-xY9_wTk">', "Zq3-xY9_wTk"),
        ('<input name="__RequestVerificationToken" type="hidden" value="Zq3-xY9_wTk" />',
         "Zq3-xY9_wTk"),
        ("<input type=hidden name=_token value=Zq3-xY9_wTk>", "Zq3-xY9_wTk"),
        ('<INPUT TYPE="hidden" NAME="authenticity_token" VALUE="Zq3-xY9_wTk">', "Zq3-xY9_wTk"),
        ("<script>window.csrfToken = 'Zq3-xY9_wTk';</script>", "Zq3-xY9_wTk"),
    ],
)  # fmt: skip
def test_html_captures_give_up_their_tokens(html: str, token: str) -> None:
    assert harvest_html(html) == {token}
    assert harvest(html.encode(), "failure.html") == {token}


def test_plain_form_fields_and_short_tokens_are_left_alone() -> None:
    page = (
        '<input type="hidden" name="next" value="/gewerberegister/suche/lange">'
        '<input type="hidden" name="csrf_token" value="kurz">'
        '<meta name="description" content="Gewerberegister der Stadt">'
    )
    assert harvest_html(page) == set()
    assert harvest(page.encode(), "failure.html") == set()


def test_header_values_and_their_masks() -> None:
    assert header_values("Cookie", "GRSESSIONID=abc%2Fdef123; lang=de") == {
        "abc%2Fdef123", "abc/def123", "de",
    }  # fmt: skip
    assert header_values("Set-Cookie", "A=first-value; Path=/\nB=second-value") == {
        "first-value", "second-value",
    }  # fmt: skip
    basic = base64.b64encode(b"bot:Geheim-123").decode()
    assert "Geheim-123" in header_values("Authorization", f"Basic {basic}")
    assert header_values("Accept", "text/html") == set()
    assert mask_header("Set-Cookie", "A=1; Path=/\nB=2") == "A=***; Path=/\nB=***"
    assert mask_header("Authorization", "Bearer x.y.z") == "Bearer ***"
    assert mask_header("X-XSRF-TOKEN", "abc") == "***"


class _Session(Connector):
    """A session that learnt some cookies, or crashes when asked (None)."""

    name = "fake"

    def __init__(self, values: list[str] | None) -> None:
        self.values = values

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def secrets_learnt(self) -> set[str]:
        if self.values is None:
            raise ConnectorError("the session is gone")  # a connector's bug: not the run's
        return set(self.values)


def test_credentials_a_session_learnt_join_the_redactor() -> None:
    redactor = Redactor()
    harvest_session(_Session([SESSION, "de"]), redactor)
    assert redactor.redact(f"Cookie: GRSESSIONID={SESSION}; lang=de") == (
        "Cookie: GRSESSIONID=***; lang=de"
    )
    harvest_session(_Session(None), redactor)  # a crashed session: nothing to add, no error
    assert len(redactor) == 1


class _Sink:
    def __init__(self) -> None:
        self.recorded: list[ArtifactRecord] = []

    def record_artifacts(self, run_id: int, artifacts: Any) -> None:
        self.recorded += artifacts


def test_evidence_kept_before_the_trace_loses_what_only_the_trace_reveals(tmp_path: Path) -> None:
    # The page captured at the first failure shows the old session's cookie (a debug page
    # echoing it); only the trace, kept after it, says that this value is a cookie.
    evidence = tmp_path / "failure.html"
    evidence.write_text(f"<p>Ihre Sitzung: {OLD_SESSION}</p>", encoding="utf-8")
    source = tmp_path / "playwright-trace.zip"
    source.write_bytes(_trace_zip())
    keeper = ArtifactKeeper(_Sink(), 1, Redactor())

    first = keeper.keep(evidence, ArtifactKind.HTML, defer=True)
    assert OLD_SESSION in evidence.read_text()
    keeper.keep(tmp_path / "trace.zip", ArtifactKind.TRACE, source=source, defer=True)

    assert evidence.read_text() == "<p>Ihre Sitzung: ***</p>"
    html_record = next(r for r in keeper.deferred if r.kind == ArtifactKind.HTML)
    assert html_record.sha256 == hashlib.sha256(evidence.read_bytes()).hexdigest() != first.sha256
    assert html_record in keeper.kept and first not in keeper.kept
    assert not source.exists()


def test_a_redactor_with_many_values_replaces_the_longest_whole() -> None:
    redactor = Redactor(["token-12345678"])
    redactor.add_all(["token-1234567890", "token-12345678"])
    assert redactor.redact("a token-1234567890 b token-12345678") == "a *** b ***"
    assert len(redactor) == 2


@pytest.mark.browser
def test_the_cookies_a_real_browser_holds_are_harvested(tmp_path: Path) -> None:
    from connectors.base import LocatorSpec
    from connectors.browser import BrowserSession
    from orchestrator.settings import SandboxSettings, load_settings
    from sandbox.server import running_sandbox
    from sandbox.sessions import issued_credentials

    sandbox_settings = SandboxSettings(cases=1)
    redactor = Redactor()
    with (
        running_sandbox(tmp_path / "sandbox", sandbox_settings) as sandbox,
        BrowserSession(load_settings(data_dir=tmp_path).chromium, timeout_s=10) as browser,
    ):
        browser.goto(f"{sandbox.civento_url}/login")
        browser.fill(LocatorSpec(label="Benutzername"), "rpa-gewerbe")
        browser.fill(LocatorSpec(label="Passwort"), sandbox_settings.password)
        browser.click(LocatorSpec(role="button", name="Anmelden"))
        browser.wait_for_url("**/posteingang")
        harvest_session(browser, redactor)
    [cookie] = issued_credentials(tmp_path / "sandbox")["session_cookies"]
    assert redactor.redact(f"CIVENTOSESSION={cookie}") == "CIVENTOSESSION=***"
    harvest_session(browser, redactor)  # closed: nothing, and no error
    assert len(redactor) == 1


def test_a_token_in_a_url_query_is_harvested_but_not_other_parameters() -> None:
    from orchestrator.engine.credentials import harvest_url

    url = "https://gewerbe.intern/neu?seite=2&csrf_token=4f1d9a0c2b7e55&aktenzeichen=GEW-GI-2026-1"

    assert harvest_url(url) == {"4f1d9a0c2b7e55"}
    assert harvest_url("https://gewerbe.intern/neu?_token=kurz") == set()  # too short to mask
