"""``sandbox.data_attributes: false``: every page without data-* attributes, nothing else changed.

A real Civento has no ``data-testid``; trainees practise locators by role, label and text on
the sandbox served this way. The same seed served both ways must give the same pages up to the
data-* attributes (and the ids and tokens that differ on every load), and the same JSON and PDF.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from orchestrator.settings import SandboxSettings
from sandbox.server import running_sandbox
from sandbox.web import without_data_attributes

USER = "rpa-gewerbe"
#: A start tag with a data-* attribute.
DATA_IN_TAG = re.compile(r"<[a-zA-Z][^>]*\sdata-[\w-]*", re.I)
#: What differs on every load: generated ids (``gwt-uid-123456``) and CSRF tokens.
PER_LOAD = (
    (re.compile(r"-\d{6}\b"), "-N"),
    (re.compile(r'(name="csrf_token" value|name="csrf-token" content)="[^"]+"'), r'\1="T"'),
)


def test_only_data_attributes_go_text_and_other_attributes_stay() -> None:
    html = (
        '<div id=k title="a data-x=1" DATA-Y=2 data-z data-q=\'x > y\' class="c">data-text'
        '<br data-a=1/><input data-b="1" disabled></div>'
        '<script src="s.js" data-s="1">var s = "<i data-x=1>";</script>'
    )
    assert without_data_attributes(html) == (
        '<div id=k title="a data-x=1" class="c">data-text<br><input disabled></div>'
        '<script src="s.js">var s = "<i data-x=1>";</script>'
    )


@contextmanager
def _pages(directory: Path, settings: SandboxSettings) -> Iterator[dict[str, str | bytes]]:
    """Every kind of page of both systems, logged in, plus the Vorgang's JSON and PDF."""
    with (
        running_sandbox(directory, settings) as sandbox,
        httpx.Client(base_url=sandbox.base_url, follow_redirects=True) as http,
    ):
        pages: dict[str, str | bytes] = {"civento login": http.get("/civento/login").text}
        pages["civento expired"] = http.get("/civento/login?grund=abgelaufen").text
        pages["civento wrong password"] = http.post(
            "/civento/login", data={"benutzername": USER, "passwort": "falsch"}
        ).text
        login = {"benutzername": USER, "passwort": settings.password}
        pages["posteingang"] = http.post("/civento/login", data=login).text
        pages["posteingang empty"] = http.get("/civento/posteingang?q=Niemand").text
        nummer = re.findall(r'href="/civento/vorgang/([^"/]+)"', str(pages["posteingang"]))[0]
        pages["vorgang"] = http.get(f"/civento/vorgang/{nummer}").text
        pages["vorgang json"] = http.get(f"/civento/api/vorgang/{nummer}").text
        pages["vorgang pdf"] = http.get(f"/civento/vorgang/{nummer}/anlage.pdf").content

        form = http.get("/gewerberegister/login").text
        token = re.findall(r'name="csrf_token" value="([^"]+)"', form)[0]
        pages["register login"] = form
        credentials = {"kennung": USER, "kennwort": settings.password, "csrf_token": token}
        pages["register frames"] = http.post("/gewerberegister/login", data=credentials).text
        pages["register hits"] = http.get("/gewerberegister/suche?betrieb=e").text
        pages["register no hits"] = http.get("/gewerberegister/suche?betrieb=Niemand").text
        aktenzeichen = re.findall(r"/gewerberegister/eintrag/([^\"]+)", str(pages["register hits"]))
        pages["register entry"] = http.get(f"/gewerberegister/eintrag/{aktenzeichen[0]}").text
        neu = http.get("/gewerberegister/neu").text
        pages["register form"] = neu
        token = re.findall(r'name="csrf_token" value="([^"]+)"', neu)[0]
        pages["register form errors"] = http.post(
            "/gewerberegister/neu", data={"csrf_token": token, "plz": "3539"}
        ).text
        yield pages


def _is_html(page: str | bytes) -> bool:
    return isinstance(page, str) and page.lstrip().lower().startswith("<!doctype html")


def _as_served_plain(page: str | bytes) -> str | bytes:
    """What the plain sandbox serves for ``page`` of the usual one, up to ids and tokens."""
    if isinstance(page, bytes):
        return page
    if _is_html(page):
        page = without_data_attributes(page)
    for pattern, replacement in PER_LOAD:
        page = pattern.sub(replacement, page)
    return page


def test_plain_pages_are_the_pages_without_their_data_attributes(tmp_path: Path) -> None:
    usual = SandboxSettings(cases=3)
    plain = usual.model_copy(update={"data_attributes": False})
    with (
        _pages(tmp_path / "usual", usual) as with_data,
        _pages(tmp_path / "plain", plain) as without,
    ):
        pass

    html = [name for name, page in with_data.items() if _is_html(page)]
    assert len(html) == len(with_data) - 2  # all but the JSON and the PDF
    carrying = [name for name in html if DATA_IN_TAG.search(str(with_data[name]))]
    assert {"posteingang", "vorgang", "register hits", "register form errors"} <= set(carrying)
    found = {name: hits for name in html if (hits := DATA_IN_TAG.findall(str(without[name])))}
    assert found == {}
    assert {name: _as_served_plain(page) for name, page in without.items()} == {
        name: _as_served_plain(page) for name, page in with_data.items()
    }
