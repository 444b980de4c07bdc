"""The Hundesteuer register's application server: what its desktop client talks to.

A finance application's thick client (Infoma newsystem and its kind) talks to a server; so
does this stand-in's GTK client (:mod:`sandbox.hundesteuer_client`), over JSON below
``/hundesteuer/api``. The register's data lives in the sandbox's store, so tests and
``bots sandbox state`` check what a bot entered without asking the client. The server checks
what a clerk's screen does not: the reference (Bezugszeichen) entered once only, Latin-1
only, dates, the PLZ, a breed it knows. Saving takes ``save_ms`` (the client's "Bitte
warten"), and the sandbox's ``fault_rate`` answers a share of calls with 503 (the client's
error dialog). URLs:

``POST /api/anmelden``, ``POST /api/abmelden``, ``GET /api/rassen``, ``GET /api/hunde?suche=``,
``POST /api/hunde``.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Body, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from sandbox.db import check_password, connect, transaction
from sandbox.rules import PLZ_RE, city_code, latin1_error, parse_german_date
from sandbox.sessions import COOKIES, end_session, require_user, start_session
from sandbox.web import runtime, sandbox_dir

SYSTEM = "hundesteuer"
router = APIRouter()

#: The breeds the register knows; True: on Hessen's list of dangerous dogs (HundeVO § 2),
#: which needs a decision of the Ordnungsamt before the tax is assessed.
RASSEN: dict[str, bool] = {
    "Beagle": False, "Border Collie": False, "Boxer": False, "Chihuahua": False,
    "Dackel": False, "Deutscher Schäferhund": False, "Golden Retriever": False,
    "Jack Russell Terrier": False, "Labrador Retriever": False, "Mischling": False,
    "Mops": False, "Pudel": False, "Yorkshire Terrier": False,
    "American Staffordshire Terrier": True, "Bullterrier": True, "Kangal": True,
    "Pitbull-Terrier": True, "Rottweiler": True, "Staffordshire Bullterrier": True,
}  # fmt: skip

#: The entry form's fields: key -> label (the client shows them in this order).
FELDER = {
    "bezugszeichen": "Bezugszeichen",
    "nachname": "Nachname",
    "vorname": "Vorname",
    "strasse": "Straße und Hausnummer",
    "plz": "PLZ",
    "ort": "Ort",
    "hundename": "Name des Hundes",
    "rasse": "Rasse",
    "wurfdatum": "Wurfdatum",
    "haltung_seit": "Haltung seit",
}
OPTIONAL = {"bezugszeichen"}

SCHEMA = """
CREATE TABLE IF NOT EXISTS hunde (
    id INTEGER PRIMARY KEY,
    steuernummer TEXT NOT NULL UNIQUE,
    bezugszeichen TEXT NOT NULL DEFAULT '',
    nachname TEXT NOT NULL,
    vorname TEXT NOT NULL,
    strasse TEXT NOT NULL,
    plz TEXT NOT NULL,
    ort TEXT NOT NULL,
    hundename TEXT NOT NULL,
    rasse TEXT NOT NULL,
    wurfdatum TEXT NOT NULL,
    haltung_seit TEXT NOT NULL,
    zweithund INTEGER NOT NULL DEFAULT 0,
    ermaessigung INTEGER NOT NULL DEFAULT 0,
    angelegt TEXT NOT NULL,
    angelegt_von TEXT NOT NULL
);
"""


@router.get("", include_in_schema=False)
@router.get("/", include_in_schema=False)
def home(request: Request) -> Response:
    """What a trainee opening the URL in a browser reads: this is a desktop application."""
    url = str(request.url_for("home")).rstrip("/")
    return HTMLResponse(
        "<!doctype html><html lang='de'><meta charset='utf-8'><title>Hundesteuer</title>"
        "<h1>Hundesteuer-Register</h1><p>Das Register ist eine Desktop-Anwendung. "
        f"Starten: <code>hundesteuer-client --server {url}</code></p></html>"
    )


@router.post("/api/anmelden")
def login(request: Request, data: dict[str, str] = Body(...)) -> Response:
    """Log in with ``kennung`` and ``kennwort``; sets the session cookie."""
    kennung, kennwort = str(data.get("kennung", "")).strip(), str(data.get("kennwort", ""))
    with connect(sandbox_dir(request)) as conn:
        ok = check_password(conn, SYSTEM, kennung, kennwort)
    if not ok:
        return JSONResponse({"error": "Kennung oder Kennwort ungültig."}, status_code=401)
    token = start_session(sandbox_dir(request), SYSTEM, kennung)
    response = JSONResponse({"benutzer": kennung})
    response.set_cookie(COOKIES[SYSTEM], token, path="/hundesteuer", httponly=True)
    return response


@router.post("/api/abmelden")
def logout(request: Request) -> Response:
    end_session(sandbox_dir(request), request.cookies.get(COOKIES[SYSTEM]))
    response = JSONResponse({"abgemeldet": True})
    response.delete_cookie(COOKIES[SYSTEM], path="/hundesteuer")
    return response


@router.get("/api/rassen")
def breeds(request: Request) -> dict[str, Any]:
    require_user(request, SYSTEM, api=True)
    return {"rassen": sorted(RASSEN)}


@router.get("/api/hunde")
def search(request: Request, suche: str = "") -> dict[str, Any]:
    """Entries whose Steuernummer or Bezugszeichen is ``suche``, or whose owner's or dog's
    name contains it."""
    require_user(request, SYSTEM, api=True)
    term = suche.strip()
    if not term:
        return {"treffer": []}
    like = f"%{term}%"
    with connect(sandbox_dir(request)) as conn:
        rows = conn.execute(
            "SELECT * FROM hunde WHERE steuernummer = ? OR bezugszeichen = ? OR nachname LIKE ?"
            " OR hundename LIKE ? ORDER BY id LIMIT 50",
            (term, term, like, like),
        ).fetchall()
    return {"treffer": [_public(row) for row in rows]}


@router.post("/api/hunde")
def create(request: Request, data: dict[str, Any] = Body(...)) -> Response:
    """Enter a dog; 422 with the field errors, 409 when the Bezugszeichen is taken."""
    user = require_user(request, SYSTEM, api=True)
    options = _options(request)
    time.sleep(options.save_ms / 1000 + runtime(request).latency_ms / 1000)
    values = {key: str(data.get(key, "") or "").strip() for key in FELDER}
    errors = _validate(values)
    if errors:
        return JSONResponse({"error": "Eingaben prüfen", "felder": errors}, status_code=422)
    with connect(sandbox_dir(request)) as conn, transaction(conn):
        if values["bezugszeichen"]:
            taken = conn.execute(
                "SELECT steuernummer FROM hunde WHERE bezugszeichen = ?",
                (values["bezugszeichen"],),
            ).fetchone()
            if taken is not None:
                return JSONResponse(
                    {"error": f"Bezugszeichen {values['bezugszeichen']} ist schon erfasst "
                     f"(Steuernummer {taken['steuernummer']}).",
                     "steuernummer": taken["steuernummer"]},
                    status_code=409,
                )  # fmt: skip
        steuernummer = next_steuernummer(conn, values["plz"])
        conn.execute(
            "INSERT INTO hunde (steuernummer, bezugszeichen, nachname, vorname, strasse, plz,"
            " ort, hundename, rasse, wurfdatum, haltung_seit, zweithund, ermaessigung,"
            " angelegt, angelegt_von) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (steuernummer, values["bezugszeichen"], values["nachname"], values["vorname"],
             values["strasse"], values["plz"], values["ort"], values["hundename"],
             values["rasse"], values["wurfdatum"], values["haltung_seit"],
             int(bool(data.get("zweithund"))), int(bool(data.get("ermaessigung"))),
             datetime.now().isoformat(" ", "seconds"), user),
        )  # fmt: skip
    return JSONResponse({"steuernummer": steuernummer}, status_code=201)


def _validate(values: dict[str, str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for key, label in FELDER.items():
        if not values[key] and key not in OPTIONAL:
            errors[key] = f"{label}: Pflichtfeld."
        elif (problem := latin1_error(label, values[key])) is not None:
            errors[key] = problem
    if "plz" not in errors and not PLZ_RE.match(values["plz"]):
        errors["plz"] = "PLZ: fünf Ziffern."
    for key in ("wurfdatum", "haltung_seit"):
        if key not in errors and parse_german_date(values[key]) is None:
            errors[key] = f"{FELDER[key]}: Datum als TT.MM.JJJJ."
    if "rasse" not in errors and values["rasse"] not in RASSEN:
        errors["rasse"] = f"Rasse: {values['rasse']!r} ist nicht im Verzeichnis."
    return errors


def next_steuernummer(conn: Any, plz: str) -> str:
    """The next free Steuernummer of the city the PLZ belongs to (``HST-GI-2026-00001``)."""
    code = city_code(plz) or "XX"
    year = datetime.now().year
    prefix = f"HST-{code}-{year}-"
    row = conn.execute(
        "SELECT steuernummer FROM hunde WHERE steuernummer LIKE ? ORDER BY steuernummer DESC",
        (prefix + "%",),
    ).fetchone()
    last = int(row["steuernummer"].rsplit("-", 1)[1]) if row else 0
    return f"{prefix}{last + 1:05d}"


def _public(row: Any) -> dict[str, Any]:
    data = dict(row)
    data.pop("id")
    data["zweithund"], data["ermaessigung"] = bool(row["zweithund"]), bool(row["ermaessigung"])
    return data


def _options(request: Request) -> Any:
    from sandbox.hundesteuer_standin import STANDIN

    options = STANDIN.options(runtime(request))
    if options is None:  # pragma: no cover - the stand-in has a settings model
        raise HTTPException(500)
    return options
