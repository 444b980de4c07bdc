"""The Gewerberegister stand-in: an older Fachverfahren with an iframe work area.

URLs (below ``/gewerberegister``): ``/login``, ``/abmelden``, ``/`` (the frame page; its
iframe ``arbeitsbereich`` shows ``?seite=...`` or the search), ``/suche``, ``/neu`` (entry
form, validated on the server) and ``/eintrag/{aktenzeichen}``.

Every form sent by POST (login, Neuanmeldung, Abmelden) carries a CSRF token in the hidden
field ``csrf_token``; a POST without the right one is refused with HTTP 403 and changes
nothing (see :mod:`sandbox.sessions`).
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from connectors.register_form import FIELDS
from sandbox.db import check_password, connect, transaction
from sandbox.rules import (
    CITIES,
    PLZ_RE,
    REGISTER_RECHTSFORMEN,
    city_code,
    identity_key,
    latin1_error,
    parse_german_date,
)
from sandbox.sessions import (
    COOKIES,
    CSRF_FIELD,
    CSRF_REFUSED,
    csrf_ok,
    csrf_token,
    end_session,
    login_form_token,
    login_form_token_ok,
    require_user,
    start_session,
)
from sandbox.web import render, runtime, sandbox_dir

SYSTEM = "gewerberegister"
router = APIRouter()

OPTIONAL = {"bezugszeichen"}


@router.get("/login")
def login_page(request: Request, next: str = "/gewerberegister/", grund: str = "") -> Response:
    """The login form (it leaves the frame when shown inside one)."""
    return _login_form(request, next, grund=grund)


@router.post("/login")
def login(
    request: Request,
    kennung: Annotated[str, Form()] = "",
    kennwort: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/gewerberegister/",
    presented: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    """Check the form's token and the account; on success set the session cookie, go to ``next``."""
    max_age = runtime(request).session_timeout_s
    if not login_form_token_ok(sandbox_dir(request), SYSTEM, presented, max_age):
        return _login_form(request, next, CSRF_REFUSED, status_code=403)
    with connect(sandbox_dir(request)) as conn:
        ok = check_password(conn, SYSTEM, kennung.strip(), kennwort)
    if not ok:
        return _login_form(request, next, "Kennung oder Kennwort ungültig.", status_code=401)
    token = start_session(sandbox_dir(request), SYSTEM, kennung.strip())
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(COOKIES[SYSTEM], token, path="/gewerberegister", httponly=True)
    return response


@router.post("/abmelden")
def logout(request: Request, presented: Annotated[str, Form(alias=CSRF_FIELD)] = "") -> Response:
    """End the session (a session that has ended already needs no token)."""
    token = request.cookies.get(COOKIES[SYSTEM])
    if _session_exists(request) and not csrf_ok(request, SYSTEM, presented):
        return render(request, "gewerberegister/abgelehnt.html", 403, meldung=CSRF_REFUSED)
    end_session(sandbox_dir(request), token)
    response = RedirectResponse("/gewerberegister/login", status_code=303)
    response.delete_cookie(COOKIES[SYSTEM], path="/gewerberegister")
    return response


@router.get("", include_in_schema=False)
@router.get("/")
def frames(request: Request, seite: str = "/gewerberegister/suche") -> Response:
    """The main page: menu on the left, the work area in the iframe ``arbeitsbereich``."""
    user = require_user(request, SYSTEM)
    return render(
        request, "gewerberegister/frames.html", user=user, seite=_safe_next(seite),
        csrf=csrf_token(request, SYSTEM),
    )  # fmt: skip


@router.get("/suche")
def search(
    request: Request, betrieb: str = "", bezugszeichen: str = "", aktenzeichen: str = ""
) -> Response:
    """Search entries by business name (part of it), Bezugszeichen or Aktenzeichen."""
    user = require_user(request, SYSTEM)
    where, args = [], []
    if betrieb.strip():
        where.append("betrieb LIKE ?")
        args.append(f"%{betrieb.strip()}%")
    if bezugszeichen.strip():
        where.append("bezugszeichen = ?")
        args.append(bezugszeichen.strip())
    if aktenzeichen.strip():
        where.append("aktenzeichen = ?")
        args.append(aktenzeichen.strip())
    rows: list[sqlite3.Row] = []
    if where:
        with connect(sandbox_dir(request)) as conn:
            rows = conn.execute(
                f"SELECT * FROM register WHERE {' AND '.join(where)} ORDER BY aktenzeichen",
                args,
            ).fetchall()
    return render(
        request,
        "gewerberegister/suche.html",
        user=user,
        gesucht=bool(where),
        rows=rows,
        werte={"betrieb": betrieb, "bezugszeichen": bezugszeichen, "aktenzeichen": aktenzeichen},
    )


@router.get("/neu")
def new_form(request: Request) -> Response:
    """The empty entry form."""
    user = require_user(request, SYSTEM)
    return _form(request, user, {}, {})


@router.post("/neu")
async def create(request: Request) -> Response:
    """Validate and create an entry; refuse duplicates, naming the existing Aktenzeichen."""
    user = require_user(request, SYSTEM, count=False)
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in FIELDS}
    if not csrf_ok(request, SYSTEM, str(form.get(CSRF_FIELD, ""))):
        return _form(request, user, values, {}, refused=CSRF_REFUSED, status_code=403)
    errors = _validate(values)
    if errors:
        return _form(request, user, values, errors, status_code=422)
    beginn = parse_german_date(values["beginn"])
    assert beginn is not None  # checked by _validate
    key = identity_key(
        values["betrieb"], values["strasse"], values["hausnummer"], values["plz"],
        values["inhaber_nachname"], values["inhaber_vorname"],
    )  # fmt: skip
    with connect(sandbox_dir(request)) as conn, transaction(conn):
        existing = _find_identity(conn, key)
        if existing:
            return _form(request, user, values, {}, duplicate=existing, status_code=409)
        aktenzeichen = _next_aktenzeichen(conn, values["plz"])
        conn.execute(
            "INSERT INTO register (aktenzeichen, betrieb, rechtsform, inhaber_nachname,"
            " inhaber_vorname, strasse, hausnummer, plz, ort, taetigkeit, beginn, bezugszeichen,"
            " angelegt, angelegt_von) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (aktenzeichen, values["betrieb"], values["rechtsform"], values["inhaber_nachname"],
             values["inhaber_vorname"], values["strasse"], values["hausnummer"], values["plz"],
             values["ort"], values["taetigkeit"], beginn.isoformat(), values["bezugszeichen"],
             datetime.now().isoformat(" ", "seconds"), user),
        )  # fmt: skip
    return RedirectResponse(
        f"/gewerberegister/eintrag/{quote(aktenzeichen)}?angelegt=1", status_code=303
    )


@router.get("/eintrag/{aktenzeichen}")
def entry(request: Request, aktenzeichen: str, angelegt: bool = False) -> Response:
    """One entry; after creating it, with the message "Eintrag angelegt"."""
    user = require_user(request, SYSTEM)
    with connect(sandbox_dir(request)) as conn:
        row = conn.execute(
            "SELECT * FROM register WHERE aktenzeichen = ?", (aktenzeichen,)
        ).fetchone()
    if row is None:
        raise HTTPException(404, f"Kein Eintrag {aktenzeichen}")
    shown = dict(row)
    shown["rechtsform"] = REGISTER_RECHTSFORMEN.get(row["rechtsform"], row["rechtsform"])
    shown["beginn"] = date.fromisoformat(row["beginn"]).strftime("%d.%m.%Y")
    return render(
        request, "gewerberegister/eintrag.html", user=user, e=shown, angelegt=angelegt,
        labels=FIELDS,
    )  # fmt: skip


def _validate(values: dict[str, str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, label in FIELDS.items():
        if not values[name] and name not in OPTIONAL:
            errors[name] = "Pflichtfeld."
            continue
        message = latin1_error(label, values[name])
        if message:
            errors[name] = message
    if "rechtsform" not in errors and values["rechtsform"] not in REGISTER_RECHTSFORMEN:
        errors["rechtsform"] = "Unbekannte Rechtsform."
    if "plz" not in errors:
        if not PLZ_RE.match(values["plz"]):
            errors["plz"] = "PLZ muss aus genau fünf Ziffern bestehen."
        elif city_code(values["plz"]) is None:
            errors["plz"] = (
                "PLZ liegt außerhalb des Zuständigkeitsbereichs (" + ", ".join(CITIES) + ")."
            )
        elif "ort" not in errors:
            city = next(
                name for name, (code, _) in CITIES.items() if code == city_code(values["plz"])
            )
            if not values["ort"].casefold().startswith(city.casefold()):
                errors["ort"] = f"Ort passt nicht zur PLZ {values['plz']} (erwartet: {city})."
    if "beginn" not in errors and parse_german_date(values["beginn"]) is None:
        errors["beginn"] = "Datum im Format TT.MM.JJJJ angeben, z. B. 01.04.2026."
    return errors


def _find_identity(conn: sqlite3.Connection, key: str) -> str | None:
    for row in conn.execute("SELECT * FROM register"):
        other = identity_key(
            row["betrieb"], row["strasse"], row["hausnummer"], row["plz"],
            row["inhaber_nachname"], row["inhaber_vorname"],
        )  # fmt: skip
        if other == key:
            return str(row["aktenzeichen"])
    return None


def _next_aktenzeichen(conn: sqlite3.Connection, plz: str) -> str:
    code = city_code(plz)
    prefix = f"GEW-{code}-{date.today().year}-"
    last = conn.execute(
        "SELECT MAX(CAST(substr(aktenzeichen, ?) AS INTEGER)) FROM register"
        " WHERE aktenzeichen LIKE ?",
        (len(prefix) + 1, prefix + "%"),
    ).fetchone()[0]
    return f"{prefix}{(last or 0) + 1:05d}"


def _form(
    request: Request,
    user: str,
    values: dict[str, str],
    errors: dict[str, str],
    duplicate: str | None = None,
    refused: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        request, "gewerberegister/neu.html", status_code, user=user, werte=values,
        fehler=errors, doppelt=duplicate, labels=FIELDS, rechtsformen=REGISTER_RECHTSFORMEN,
        abgelehnt=refused, csrf=csrf_token(request, SYSTEM),
    )  # fmt: skip


def _login_form(
    request: Request, next_url: str, fehler: str = "", *, grund: str = "", status_code: int = 200
) -> Response:
    return render(
        request, "gewerberegister/login.html", status_code, next=_safe_next(next_url),
        grund=grund, fehler=fehler, csrf=login_form_token(sandbox_dir(request), SYSTEM),
    )  # fmt: skip


def _session_exists(request: Request) -> bool:
    token = request.cookies.get(COOKIES[SYSTEM])
    if not token:
        return False
    with connect(sandbox_dir(request)) as conn:
        row = conn.execute("SELECT 1 FROM sitzungen WHERE token = ?", (token,)).fetchone()
    return row is not None


def _safe_next(next_url: str) -> str:
    return next_url if next_url.startswith("/gewerberegister/") else "/gewerberegister/"
